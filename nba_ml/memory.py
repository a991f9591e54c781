"""The memory a command may use, and work that would not fit refused before it starts.

    check_memory(needed_bytes, "profiles of 3 players need", "ask for fewer charts")   # ResourceError if too much

Here, and not in nba_ml.gan.guard (which checks a training config), so that what a simulator loads and draws
from (player profiles) never imports the training code.
"""
from __future__ import annotations

import os
from typing import Optional

from .errors import ResourceError

MEMORY_DEFAULT_FRACTION = 0.8  # of the machine's memory, when nothing else sets the limit


def machine_memory_limit() -> Optional[tuple[float, str]]:
    """(bytes allowed on this machine, where the figure comes from): MEMORY_DEFAULT_FRACTION of its memory,
    or None when it is unknown (no sysconf, as on Windows: nothing to compare with)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return MEMORY_DEFAULT_FRACTION * total, f"{MEMORY_DEFAULT_FRACTION:.0%} of this machine's {total / 1e9:.1f} GB"


def check_memory(needed: float, needs: str, advice: str, *, at_once: bool = True) -> None:
    """ResourceError, before any work, when `needed` bytes exceed the memory allowed: '<needs> about 12 GB at once,
    more than the 20.2 GB allowed (...); <advice>'."""
    limit = machine_memory_limit()
    if limit is not None and needed > limit[0]:
        raise ResourceError(f"{needs} about {needed / 1e9:.3g} GB{' at once' if at_once else ''}, more than the "
                            f"{limit[0] / 1e9:.3g} GB allowed ({limit[1]}); {advice}")
