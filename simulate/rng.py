"""A tiny counter-based generator (SplitMix64, Steele et al. 2014) for use inside numba.

The batch order of a run is drawn from it, seeded by the run's batch seed, so it is a pure
function of that seed whatever thread runs it (numba's own ``np.random`` state is per thread).
The state is a one-element ``uint64`` array, advanced in place.
"""
from __future__ import annotations

import numpy as np

from .jit import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@kernel
def next_u64(state):
    """Advance ``state`` and return the next 64-bit output."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@kernel
def below(state, n):
    """Uniform integer in ``[0, n)`` (53-bit float resolution; bias < 2^-53·n)."""
    u = (next_u64(state) >> _S11) * (1.0 / 9007199254740992.0)
    return min(int(u * n), n - 1)


@kernel
def shuffle(state, values):
    """Fisher–Yates shuffle of ``values`` in place."""
    for i in range(values.size - 1, 0, -1):
        j = below(state, i + 1)
        values[i], values[j] = values[j], values[i]
