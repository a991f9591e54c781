"""The one check that a table handed to the package is a pandas DataFrame with the columns it needs, and a
frame's fingerprint (what a training run records of its data)."""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from .errors import InputError


def require_columns(frame: Any, columns: Iterable[str], name: str, needed_for: str = "") -> None:
    """InputError unless `frame` is a DataFrame holding every one of `columns`, each column named once; the message names
    `name` (the argument or file), the columns missing (and what needs them, `needed_for`) and the
    columns found."""
    import pandas as pd  # the package's lowest layer; pandas only when a frame is checked

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    repeated = list(dict.fromkeys(frame.columns[frame.columns.duplicated()]))
    if repeated:
        raise InputError(f"{name} has column(s) named more than once: {repeated}; expected each column once")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name} is missing column(s) {missing}{' needed for ' + needed_for if needed_for else ''}; "
                         f"columns found: {list(frame.columns)}")


def frame_fingerprint(frame: Any, columns: Iterable[str], name: str = "data") -> dict[str, Any]:
    """{'rows', 'columns', 'sha256'} of those of `columns` that the DataFrame has, row order included
    (pandas.util.hash_pandas_object, ~20 ms for 200,000 rows): the columns a model uses, so that a change
    of anything else in the frame does not count."""
    import pandas as pd

    require_columns(frame, (), name)
    present = [column for column in columns if column in frame.columns]
    digest = hashlib.sha256(",".join(present).encode())
    for column in present:
        digest.update(pd.util.hash_pandas_object(frame[column], index=False).to_numpy().tobytes())
    return {"rows": len(frame), "columns": present, "sha256": digest.hexdigest()[:16]}
