"""Shared output helpers of the command line: JSON-safe numbers and the progress bar."""
from __future__ import annotations

import math
import sys


def jsonable(tree):
    """``tree`` with every non-finite float (NaN, ±inf) replaced by ``None`` (JSON ``null``)."""
    if isinstance(tree, dict):
        return {k: jsonable(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [jsonable(v) for v in tree]
    if isinstance(tree, float):
        return tree if math.isfinite(tree) else None
    return tree


def progress_bar(total: int, quiet: bool, unit: str = "step", initial: int = 0,
                 unit_scale: bool = True):
    """A tqdm bar (count, rate, ETA) on a terminal; ``None`` when quiet or stderr is not a TTY."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, unit_scale=unit_scale, leave=False)
