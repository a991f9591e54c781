"""The kind of a shot: the NBA's ACTION_TYPE strings and the families they fall into.

    family_codes(["Driving Layup Shot", "Cutting Dunk Shot"])   # array([5, 0]): FAMILIES' rows
    FAMILIES[5]                                                # 'layup'

The 48 strings of the shared seasons (and any other) fall into eleven families by the first rule of
FAMILY_RULES whose words the string holds, case aside; a string no rule names is a 'jump shot'. These are
the families of the fixed game protocol (../shared/bench/game_protocol.py), rule for rule. A dunk goes in
80-93% of the time, a cutting layup 70%, a driving layup 49%, a jump shot 37%: the family carries most of
what the location leaves open about a make.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# (family, words any of which puts a string in it), first match wins; the last family takes the rest
FAMILY_RULES = (("dunk", ("dunk",)), ("alley-oop", ("alley oop",)), ("putback", ("tip", "putback")),
                ("hook", ("hook",)), ("floater", ("float",)), ("layup", ("layup", "finger roll")),
                ("step-back", ("step back",)), ("fadeaway", ("fadeaway", "turnaround")), ("pull-up", ("pull",)),
                ("running jumper", ("running",)))
FAMILIES = tuple(name for name, _ in FAMILY_RULES) + ("jump shot",)
JUMP_SHOT = len(FAMILIES) - 1


def family_of(action_type: str) -> int:
    """The row of FAMILIES of one ACTION_TYPE string (module docstring)."""
    text = str(action_type).lower()
    for row, (_, words) in enumerate(FAMILY_RULES):
        if any(word in text for word in words):
            return row
    return JUMP_SHOT


def named_by_a_rule(action_type: str) -> bool:
    """Whether a rule names the string, or it says 'jump' (a jump shot by name, not by default)."""
    text = str(action_type).lower()
    return "jump" in text or any(word in text for _, words in FAMILY_RULES for word in words)


def family_codes(action_types) -> np.ndarray:
    """FAMILIES' row (int8) of each string, each distinct string matched once."""
    values = pd.Series(action_types, dtype=object).astype(str)
    codes, uniques = pd.factorize(values)
    return np.array([family_of(u) for u in uniques], dtype=np.int8)[codes] if len(values) else np.zeros(0, np.int8)
