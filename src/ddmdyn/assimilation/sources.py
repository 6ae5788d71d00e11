"""Ensemble sources for EnOI: ensembles generated around deterministic backgrounds.

The sources of docs/decisions.md, E19.

A source is called as ``source(x_b, cycle, truth_index) -> ensemble`` with
x_b (B, 3) physical backgrounds, `cycle` the global cycle counter (burn-in included) and
`truth_index` (B,) integer ids of the truths in the batch; it returns (B, N, 3) physical members.

Random numbers (docs/decisions.md, D2): one Philox stream per cycle, key (seed, STATIC_ENSEMBLE,
cycle); from it a block of standard normals (max(truth_index) + 1, N, 3) is drawn and truth j
takes block j.
So a truth's ensemble depends only on (seed, cycle, truth id, member) and not on the batch it is
run in, and every method built with the same seed sees the same numbers (common random numbers).
The cost per cycle grows with the largest truth id (fine for the 16 truths of the paper).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from .streams import STATIC_ENSEMBLE, stream_seed

__all__ = [
    "CallableSource",
    "EnsembleSource",
    "GaussianCovarianceSource",
    "SigmaPointSource",
    "cycle_normals",
]


class EnsembleSource(Protocol):
    """Anything that turns backgrounds x_b (B, 3) into ensembles (B, N, 3), physical units."""

    n_members: int

    def __call__(
        self, x_b: np.ndarray, cycle: int, truth_index: np.ndarray | None = None
    ) -> np.ndarray: ...


def _truth_index(x_b: np.ndarray, truth_index: np.ndarray | None) -> np.ndarray:
    if truth_index is None:
        return np.arange(x_b.shape[0])
    truth_index = np.asarray(truth_index, dtype=np.int64)
    if truth_index.shape != (x_b.shape[0],) or np.any(truth_index < 0):
        raise ValueError(f"truth_index must be (B,) non-negative ints, got {truth_index}")
    return truth_index


def cycle_normals(
    seed: int, cycle: int, truth_index: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Standard normals (B, *shape) for the given truths, keyed by (seed, cycle, truth id).

    Draws (max(truth_index) + 1, *shape) from Philox(key (seed, STATIC_ENSEMBLE, cycle)), returns
    the rows `truth_index`, so the numbers of a truth do not depend on the batch composition.
    """
    rng = np.random.Generator(np.random.Philox(stream_seed(seed, STATIC_ENSEMBLE, cycle)))
    block = rng.standard_normal((int(truth_index.max()) + 1, *shape))
    return block[truth_index]


class GaussianCovarianceSource:
    """Fresh Gaussian ensembles N(x_b, infl^2 C) each cycle (docs/decisions.md, E19).

    Per truth and cycle, N standard-normal draws are coloured with chol(C), centred (sample mean
    exactly 0), multiplied by the perturbation (std) inflation `inflation` and added to x_b.

    Args:
        cov: static covariance C (3, 3), physical units squared.
        n_members: ensemble size N (50 in the paper).
        inflation: std factor; the effective covariance is inflation^2 C.
        seed: integer seed of the common random numbers.
    """

    def __init__(
        self, cov: np.ndarray, n_members: int = 50, inflation: float = 1.0, seed: int = 0
    ) -> None:
        cov = np.asarray(cov, dtype=np.float64)
        if n_members < 2:
            raise ValueError("n_members must be >= 2")
        self.chol_t = np.linalg.cholesky(cov).T  # row-vector colouring: z @ L^T
        self.n_members = int(n_members)
        self.inflation = float(inflation)
        self.seed = int(seed)

    def __call__(
        self, x_b: np.ndarray, cycle: int, truth_index: np.ndarray | None = None
    ) -> np.ndarray:
        """Ensemble (B, N, 3) around x_b (B, 3) for this cycle."""
        idx = _truth_index(x_b, truth_index)
        z = cycle_normals(self.seed, cycle, idx, (self.n_members, 3)) @ self.chol_t
        z -= np.einsum("bnk->bk", z)[:, None, :] / self.n_members
        return x_b[:, None, :] + self.inflation * z


class SigmaPointSource:
    """3D-Var: deterministic 2n sigma points +-rows of infl * chol(2.5 C)^T around x_b.

    As in docs/decisions.md, E19.

    With 6 members in 3 dimensions the sample mean is exactly x_b and the (N - 1 = 5)-normalised
    sample covariance is exactly inflation^2 C, so EnOI with this source is the static-B optimal
    interpolation with B = inflation^2 C.
    """

    def __init__(self, cov: np.ndarray, inflation: float = 1.0) -> None:
        cov = np.asarray(cov, dtype=np.float64)
        n = cov.shape[0]
        rows = inflation * np.linalg.cholesky(0.5 * (2 * n - 1) * cov).T
        self.perturbations = np.concatenate([rows, -rows], axis=0)  # (2n, n)
        self.n_members = 2 * n
        self.inflation = float(inflation)

    def __call__(
        self, x_b: np.ndarray, cycle: int, truth_index: np.ndarray | None = None
    ) -> np.ndarray:
        """Ensemble (B, 6, 3) around x_b (B, 3); independent of cycle and truth."""
        return x_b[:, None, :] + self.perturbations


class CallableSource:
    """Wraps ``fn(x_b (B, 3), cycle) -> (B, N, 3)`` (physical units) as an ensemble source.

    Used for the diffusion-model ensembles. With ``pass_truth_index=True`` the function is called
    as ``fn(x_b, cycle, truth_index)`` so it can key its random streams by truth
    (docs/decisions.md, D2).
    """

    def __init__(
        self,
        fn: Callable[..., np.ndarray],
        n_members: int | None = None,
        pass_truth_index: bool = False,
    ) -> None:
        self.fn = fn
        self.n_members = n_members
        self.pass_truth_index = pass_truth_index

    def __call__(
        self, x_b: np.ndarray, cycle: int, truth_index: np.ndarray | None = None
    ) -> np.ndarray:
        """Ensemble (B, N, 3) float64 from the wrapped function."""
        if self.pass_truth_index:
            out = self.fn(x_b, cycle, _truth_index(x_b, truth_index))
        else:
            out = self.fn(x_b, cycle)
        out = np.asarray(out, dtype=np.float64)
        if out.ndim != 3 or out.shape[0] != x_b.shape[0] or out.shape[2] != x_b.shape[1]:
            raise ValueError(f"source returned shape {out.shape}, expected (B, N, {x_b.shape[1]})")
        if self.n_members is not None and out.shape[1] != self.n_members:
            raise ValueError(f"source returned {out.shape[1]} members, expected {self.n_members}")
        return out
