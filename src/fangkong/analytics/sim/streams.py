"""Counter-based random numbers for the simulator's kernels.

Every random decision in a run (does this contact infect that person today, is this person tested, how
long is this person's illness) takes its uniform number from a hash of (run seed, purpose, day, who).
Two strategy arms run with the same seed therefore draw the same number for the same event: a person
who is infected on the same day by the same contact in both arms has the same illness in both, and
differences between arms come from the strategies, not from the dice (common random numbers). The
numbers also do not depend on the order in which a kernel visits people.

The mixer is SplitMix64's finaliser (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number
generators", OOPSLA), applied once per key component.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_TO_UNIT = 1.0 / 9007199254740992.0

# Purposes: one per kind of decision, so that no two decisions share a number. Transmission and tracing
# use one purpose per contact layer (base + layer index).
TRANSMISSION = 100
TRACING = 200
COURSE = 2
ROUTINE_TEST = 3
TEST_RESULT = 4
QUARANTINE_TEST = 6
ROUND_SAMPLE = 7
ROUND_RESULT = 8
RETEST_RESULT = 9


@nb.njit(inline="always", cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def uniform(seed: int, purpose: int, day: int, key: int) -> float:
    """Uniform number in [0, 1) for one (seed, purpose, day, key); keys are non-negative int64."""
    return uniform_from(day_base(seed, purpose, day), key)


@nb.njit(inline="always", cache=True)
def day_base(seed: int, purpose: int, day: int) -> np.uint64:
    """The mixed (seed, purpose, day) part of a key, for loops that draw many numbers of one day."""
    h = _mix(np.uint64(seed) ^ (np.uint64(purpose) * _GOLDEN))
    return _mix(h ^ (np.uint64(day) + _GOLDEN))


@nb.njit(inline="always", cache=True)
def uniform_from(base: np.uint64, key: int) -> float:
    """Uniform number for one key under a :func:`day_base`; equals ``uniform(seed, purpose, day, key)``."""
    return float(_mix(base ^ np.uint64(key)) >> _S11) * _TO_UNIT


@nb.njit(inline="always", cache=True)
def pair_key(source: int, target: int) -> int:
    """Pack two agent indices (each below 2**31) into one key."""
    return (source << 32) | target


@nb.njit(inline="always", cache=True)
def standard_normal(seed: int, purpose: int, day: int, key: int) -> float:
    """Standard normal number by Box-Muller from two uniforms of consecutive keys."""
    u1 = uniform(seed, purpose, day, 2 * key)
    u2 = uniform(seed, purpose, day, 2 * key + 1)
    u1 = max(u1, 1e-300)
    return float(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))


def uniforms(seed: int, purpose: int, day: int, keys: np.ndarray) -> np.ndarray:
    """Vectorised form of :func:`uniform`, for tests and Python-side checks."""
    return _uniforms(seed, purpose, day, np.asarray(keys, dtype=np.int64))


@nb.njit(cache=True)
def _uniforms(seed: int, purpose: int, day: int, keys: np.ndarray) -> np.ndarray:
    out = np.empty(keys.shape[0], dtype=np.float64)
    for n in range(keys.shape[0]):
        out[n] = uniform(seed, purpose, day, keys[n])
    return out
