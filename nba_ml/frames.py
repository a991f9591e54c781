"""The one check that a table handed to the package is a pandas DataFrame with the columns it needs."""
from __future__ import annotations

from typing import Any, Iterable

from .errors import InputError


def require_columns(frame: Any, columns: Iterable[str], name: str) -> None:
    """InputError unless `frame` is a DataFrame holding every one of `columns`; the message names
    `name` (the argument or file), the columns missing and the columns found."""
    import pandas as pd  # the package's lowest layer; pandas only when a frame is checked

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name} is missing column(s) {missing}; columns found: {list(frame.columns)}")
