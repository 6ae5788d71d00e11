"""Synthetic inputs shared by the plotting and figure-layout tests."""

from __future__ import annotations

import numpy as np


def lorenz_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points on two lobes, roughly like the Lorenz 63 attractor (physical units)."""
    phi = rng.uniform(0, 2 * np.pi, n)
    lobe = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    r = rng.uniform(3, 10, n)
    return np.stack(
        [lobe * 8 + r * np.cos(phi), lobe * 8 + r * np.sin(phi), 25 + r * np.sin(phi)], 1
    )
