"""Ensemble-space analysis weights (the authors' `etkf_core.estimate_weights`), batched over truths.

Notation (docs/decisions.md, E19): N members, p observed variables, X' (N, n) member
perturbations (rows),
Y = H X' / sigma_o (N, p) normalised observation-space perturbations, d (p,) normalised innovation,
rho the covariance inflation and f = (N - 1) / rho. The weights are

    w_mean = (Y Y^T + f I)^-1 Y d,        T = sqrt(N - 1) (Y Y^T + f I)^(-1/2)  (symmetric),

and the updated member m is base + sum_n W[n, m] X'_n with W = w_mean 1^T + T.

Everything is computed from the eigen-decomposition of the small p x p Gram matrix Y^T Y
(batched `eigh`), which is exact for any N and any rank of Y (N < p, centred ensembles):
with Y^T Y = V diag(lam) V^T,

    w_mean = Y V diag(1 / (lam + f)) V^T d,
    T      = sqrt(N - 1) [ f^(-1/2) I + (Y V) diag(h(lam)) (Y V)^T ],
    h(lam) = ((lam + f)^(-1/2) - f^(-1/2)) / lam   (evaluated in a cancellation-free form),

which is the SVD form of the authors' weights (U = Y V diag(lam^-1/2)) with the null space of
Y Y^T padded with f. Requires N >= 2 and a finite rho > 0.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "apply_weights",
    "ensemble_update",
    "ensemble_weights",
]


def _gram_eig(Y: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    n_members = Y.shape[-2]
    if n_members < 2:
        raise ValueError(f"ensemble analysis needs at least 2 members, got {n_members}")
    if not (rho > 0 and np.isfinite(rho)):
        raise ValueError(f"inflation rho must be finite and > 0, got {rho}")
    f = (n_members - 1) / rho
    gram = np.swapaxes(Y, -1, -2) @ Y  # (B, p, p)
    lam, V = np.linalg.eigh(gram)
    return np.clip(lam, 0.0, None), V, f, n_members


def _h(lam: np.ndarray, f: float) -> np.ndarray:
    """((lam + f)^-1/2 - f^-1/2) / lam without cancellation; finite at lam = 0."""
    a = np.sqrt(lam + f)
    b = np.sqrt(f)
    return -1.0 / (a * b * (a + b))


def _mean_weights(Y: np.ndarray, d: np.ndarray, lam: np.ndarray, V: np.ndarray, f: float):
    c = np.einsum("...ij,...i->...j", V, d) / (lam + f)  # diag(1/(lam+f)) V^T d, (B, p)
    return np.einsum("...np,...p->...n", Y, np.einsum("...ij,...j->...i", V, c))


def ensemble_weights(
    Y: np.ndarray, d: np.ndarray, rho: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble-space mean weights and symmetric perturbation transform (docs/decisions.md, E19).

    Args:
        Y: normalised observation-space perturbations (B, N, p), rows = members.
        d: normalised innovation (B, p).
        rho: multiplicative covariance inflation; f = (N - 1) / rho.
    Returns:
        w_mean (B, N) = (Y Y^T + f I)^-1 Y d and
        T (B, N, N) = sqrt(N - 1) (Y Y^T + f I)^-1/2, the symmetric square root.
    """
    Y = np.asarray(Y, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    lam, V, f, n = _gram_eig(Y, rho)
    w_mean = _mean_weights(Y, d, lam, V, f)
    YV = Y @ V  # (B, N, p)
    T = (YV * _h(lam, f)[..., None, :]) @ np.swapaxes(YV, -1, -2)
    T = T + np.eye(n) / np.sqrt(f)
    return w_mean, np.sqrt(n - 1.0) * T


def apply_weights(
    base: np.ndarray, Xp: np.ndarray, w_mean: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ensemble-space weights to perturbations.

    Args:
        base: the state the increments are added to (B, n) (forecast mean, or x_b in EnOI).
        Xp: member perturbations (B, N, n).
        w_mean: mean weights (B, N); T: perturbation transform (B, N, N).
    Returns:
        mean (B, n) = base + X'^T w_mean and members (B, N, n) with member m =
        base + sum_n (w_mean[n] + T[n, m]) X'_n.
    """
    mean = base + np.einsum("...nk,...n->...k", Xp, w_mean)
    members = mean[..., None, :] + np.swapaxes(T, -1, -2) @ Xp
    return mean, members


def ensemble_update(
    base: np.ndarray, Xp: np.ndarray, Y: np.ndarray, d: np.ndarray, rho: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Analysis mean and members in one pass, without forming the (N, N) transform.

    Same result as `apply_weights(base, Xp, *ensemble_weights(Y, d, rho))`, but costs
    O(N p n) per truth instead of O(N^2 n): T X' is computed as
    sqrt(N - 1) [f^-1/2 X' + (Y V) diag(h) ((Y V)^T X')].

    Args:
        base: (B, n) state the increments are added to; Xp: perturbations (B, N, n);
        Y: normalised observation-space perturbations (B, N, p); d: innovation (B, p).
    Returns:
        mean (B, n) and members (B, N, n).
    """
    lam, V, f, n = _gram_eig(Y, rho)
    w_mean = _mean_weights(Y, d, lam, V, f)
    mean = base + np.einsum("...nk,...n->...k", Xp, w_mean)
    YV = Y @ V  # (B, N, p)
    low_rank = (YV * _h(lam, f)[..., None, :]) @ (np.swapaxes(YV, -1, -2) @ Xp)
    members = mean[..., None, :] + np.sqrt(n - 1.0) * (Xp / np.sqrt(f) + low_rank)
    return mean, members
