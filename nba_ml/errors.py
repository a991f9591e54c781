"""The one error family for bad input: every user-facing entry point raises an InputError.

An InputError (a ValueError) says which file, field or column is wrong and what
was expected, in a message whose first line stands alone; the CLI prints it as
one line and exits 2. Anything else escaping the package is a bug. The helpers
below (`one_line`, `counted`, `yaml_problem`, `format_validation_error`) word the package's messages, and
its warnings too.

    InputError
    ├── ConfigError        nba_ml.gan.config: a config field, a --set, a config file
    │   └── ResourceError  nba_ml.memory, nba_ml.gan.guard: work that would not fit in memory
    ├── CheckpointError    nba_ml.gan.checkpoint: a checkpoint that cannot be used
    ├── ModelFileError     nba_ml.gan.export: a saved model that cannot be loaded
    ├── OutputError        nba_ml.io: an output path that cannot be written (its kind, its suffix, a full disk)
    └── ShotDataError      nba_ml.shots.loader: a shot file that cannot be used
"""
from __future__ import annotations

import re


class InputError(ValueError):
    """Bad input from a user: a config, a file, an option. The message names it and what was expected."""


class ConfigError(InputError):
    """A configuration that failed validation; the message names every bad field."""


class ResourceError(ConfigError):
    """Work that would not fit in memory, refused before it starts; the message gives the estimate and what to lower."""


class ModelFileError(InputError):
    """A saved model (model.yaml, generator.pt, basis.pt) that is missing, damaged or not a model."""


class OutputError(InputError, OSError):
    """An output that cannot be written: a path that is a directory, socket or block device, a name whose
    suffix is no format of its kind, or a write that failed (disk full: `errno` says which); names the path.
    Also an OSError, for callers that catch the write's own failures."""

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno


def one_line(err: BaseException) -> str:
    """The error's message on one line: its lines joined with '; ' (a config error lists one field a line)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} " + "; ".join(lines[1:])
    return "; ".join(lines)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '2,000 rows': a count with its noun in the number the count takes (`plural`, else noun + 's')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def yaml_problem(err: Exception) -> str:
    """'line 3, column 1: expected ...' for a PyYAML error (its own text spans several lines)."""
    problem, mark = getattr(err, "problem", None), getattr(err, "problem_mark", None)
    if problem is None:
        return one_line(err)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_validation_error(err, prefix: str = "", what: str = "config") -> str:
    """'invalid config:' and one line per bad field of a pydantic ValidationError: 'loss.kind: Input should be
    ... (got 'x')'; `what` names the thing validated ('profiles file')."""
    lines = []
    for e in err.errors():
        where = field_path((prefix, *e["loc"]) if prefix else e["loc"])
        got = "" if e["type"] == "missing" else f" (got {_shortened(repr(e.get('input')))})"
        lines.append(f"  {where or '<root>'}: {e['msg']}{got}")
    return f"invalid {what}:\n" + "\n".join(lines)


def field_path(loc) -> str:
    """'train.steps' for a field's location; a key that is not a plain name is quoted ('\\r', '', 'a b')
    so that the message shows it, on one line."""
    return ".".join(str(part) if isinstance(part, int) or _PLAIN_NAME.fullmatch(str(part)) else repr(part) for part in loc)


def _shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
