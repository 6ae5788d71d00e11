"""Random streams of a DA experiment: one distinct key per use of the experiment seed.

Common random numbers across DA methods: docs/decisions.md, D2.

`SeedSequence(s)` and `SeedSequence([s, 0])` give the same numbers (trailing zero words do not
change the entropy pool), and so did `SeedSequence([s, j])` for truth j's observation noise and for
cycle j's static ensemble. Every use therefore gets its own tag in the second word, and the keys
of one use all have the same length, so no two uses (nor two keys of one use) can coincide.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INITIAL_STATES", "OBSERVATION_NOISE", "STATIC_ENSEMBLE", "stream_seed"]

OBSERVATION_NOISE = 1  # key (seed, 1, truth id)
INITIAL_STATES = 2  # key (seed, 2, 0)
STATIC_ENSEMBLE = 3  # key (seed, 3, cycle)
USES = {
    OBSERVATION_NOISE: "observation noise",
    INITIAL_STATES: "initial states",
    STATIC_ENSEMBLE: "static ensemble",
}


def stream_seed(seed: int, use: int, key: int) -> np.random.SeedSequence:
    """The SeedSequence of one use (`OBSERVATION_NOISE`, ...) with its key (truth id, cycle).

    Seed and key must lie in [0, 2**32): a larger integer would span two 32-bit words and could
    then equal another (seed, use, key) triple.
    """
    if use not in USES:
        raise ValueError(f"unknown random-stream use {use}; known: {USES}")
    for name, v in (("seed", seed), ("key", key)):
        if not 0 <= int(v) < 2**32:
            raise ValueError(f"random-stream {name} {v} outside [0, 2**32)")
    return np.random.SeedSequence([int(seed), int(use), int(key)])
