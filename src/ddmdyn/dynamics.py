"""Lorenz 63 dynamics, the classical RK4 integrator and trajectories (docs/decisions.md, E1).

All functions act on the last axis (x, y, z) and are batched over any leading axes. The small
functions (`lorenz63_tendency`, `rk4_step`, `integrate`) accept NumPy arrays or torch tensors;
long trajectories are integrated by a compiled (numba) kernel, imported and compiled on first
use so that modules which only normalise states do not pay numba's import time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

SIGMA: float = 10.0
RHO: float = 28.0
BETA: float = 8.0 / 3.0
DT: float = 0.01

#: Climatological mean of (x, y, z) in physical units (docs/decisions.md, E2).
NORM_SHIFT = np.array([0.0450, 0.0451, 23.5463])
#: Climatological standard deviation of (x, y, z) in physical units (docs/decisions.md, E2).
NORM_SCALE = np.array([7.9239, 9.0124, 8.6261])

Array = TypeVar("Array")


def _stack(parts: list[Any], like: Any) -> Any:
    if isinstance(like, np.ndarray):
        return np.stack(parts, axis=-1)
    import torch

    return torch.stack(parts, dim=-1)


def lorenz63_tendency(
    x: Array, sigma: float = SIGMA, rho: float = RHO, beta: float = BETA
) -> Array:
    """Time derivative of the Lorenz 63 state.

    Args:
        x: states (..., 3), physical units; NumPy array or torch tensor.
    Returns:
        dx/dt (..., 3) in physical units per model time unit, same type and dtype as `x`.
    """
    u, v, w = x[..., 0], x[..., 1], x[..., 2]
    return _stack([sigma * (v - u), u * (rho - w) - v, u * v - beta * w], x)


def rk4(f: Callable[[Array], Array], x: Array, dt: float) -> Array:
    """One classical fourth-order Runge-Kutta step of size `dt` for the autonomous ODE x' = f(x)."""
    k1 = f(x)
    k2 = f(x + (0.5 * dt) * k1)
    k3 = f(x + (0.5 * dt) * k2)
    k4 = f(x + dt * k3)
    return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def rk4_step(x: Array, dt: float = DT, **params: float) -> Array:
    """One RK4 step of Lorenz 63 of size `dt` (model time units); `params` = sigma, rho, beta."""
    return rk4(lambda u: lorenz63_tendency(u, **params), x, dt)


def integrate(x: Array, n_steps: int, dt: float = DT, **params: float) -> Array:
    """Final state after `n_steps` RK4 steps, batched over the leading axes of `x` (..., 3)."""
    for _ in range(int(n_steps)):
        x = rk4_step(x, dt, **params)
    return x


def normalise(x: Array) -> Array:
    """Physical (..., 3) -> normalised (x - shift) / scale (docs/decisions.md, E2)."""
    shift, scale = _constants_like(x)
    return (x - shift) / scale


def denormalise(x: Array) -> Array:
    """Normalised (..., 3) -> physical units: x * scale + shift."""
    shift, scale = _constants_like(x)
    return x * scale + shift


def _constants_like(x: Any) -> tuple[Any, Any]:
    if isinstance(x, np.ndarray):
        return NORM_SHIFT.astype(x.dtype, copy=False), NORM_SCALE.astype(x.dtype, copy=False)
    import torch

    kw = {"dtype": x.dtype, "device": x.device}
    return torch.as_tensor(NORM_SHIFT, **kw), torch.as_tensor(NORM_SCALE, **kw)


def _trajectory_loop(
    x0: np.ndarray,
    n_burn_in: int,
    n_store: int,
    dt: float,
    sigma: float,
    rho: float,
    beta: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    h = dt / 6.0
    half = 0.5 * dt
    for i in range(x0.shape[0]):
        a, b, c = x0[i, 0], x0[i, 1], x0[i, 2]
        for n in range(n_burn_in + n_store - 1):
            if n >= n_burn_in:
                j = n - n_burn_in
                out[i, j, 0] = a
                out[i, j, 1] = b
                out[i, j, 2] = c
            k1a = sigma * (b - a)
            k1b = a * (rho - c) - b
            k1c = a * b - beta * c
            ta, tb, tc = a + half * k1a, b + half * k1b, c + half * k1c
            k2a = sigma * (tb - ta)
            k2b = ta * (rho - tc) - tb
            k2c = ta * tb - beta * tc
            ta, tb, tc = a + half * k2a, b + half * k2b, c + half * k2c
            k3a = sigma * (tb - ta)
            k3b = ta * (rho - tc) - tb
            k3c = ta * tb - beta * tc
            ta, tb, tc = a + dt * k3a, b + dt * k3b, c + dt * k3c
            k4a = sigma * (tb - ta)
            k4b = ta * (rho - tc) - tb
            k4c = ta * tb - beta * tc
            a = a + h * (k1a + 2.0 * k2a + 2.0 * k3a + k4a)
            b = b + h * (k1b + 2.0 * k2b + 2.0 * k3b + k4b)
            c = c + h * (k1c + 2.0 * k2c + 2.0 * k3c + k4c)
        if n_store > 0:
            out[i, n_store - 1, 0] = a
            out[i, n_store - 1, 1] = b
            out[i, n_store - 1, 2] = c


@functools.cache
def _trajectory_kernel() -> Callable[..., None]:
    """`_trajectory_loop` compiled by numba (cached on disk), built on first call."""
    import numba

    return numba.njit(cache=True, nogil=True)(_trajectory_loop)


def integrate_trajectories(
    x0: np.ndarray,
    n_steps: int,
    n_burn_in: int = 0,
    dt: float = DT,
    sigma: float = SIGMA,
    rho: float = RHO,
    beta: float = BETA,
) -> np.ndarray:
    """Integrate many trajectories with RK4 and store every state after the burn-in.

    The arithmetic is done in float64 (compiled loop) and is identical, step by step, to
    `rk4_step` in float64.

    Args:
        x0: initial states (n_traj, 3), physical units.
        n_steps: RK4 steps integrated after the burn-in; `n_steps + 1` states are stored
            (the post-burn-in state included).
        n_burn_in: RK4 steps integrated and discarded first.
    Returns:
        float64 array (n_traj, n_steps + 1, 3), physical units.
    """
    x0 = np.ascontiguousarray(np.asarray(x0, dtype=np.float64))
    if x0.ndim != 2 or x0.shape[1] != 3:
        raise ValueError(f"x0 must have shape (n_traj, 3), got {x0.shape}")
    if n_steps < 0 or n_burn_in < 0:
        raise ValueError("n_steps and n_burn_in must be non-negative")
    out = np.empty((x0.shape[0], n_steps + 1, 3), dtype=np.float64)
    _trajectory_kernel()(x0, int(n_burn_in), int(n_steps) + 1, dt, sigma, rho, beta, out)
    return out


def initial_states(n_traj: int, seed: int, std: float = 1e-3) -> np.ndarray:
    """Initial states N(0, std^2 I) near the origin, seeded (docs/decisions.md, E1).

    Returns:
        float64 array (n_traj, 3), physical units.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return std * rng.standard_normal((n_traj, 3))


def leading_lyapunov_exponent(
    x0: np.ndarray,
    n_steps: int,
    n_spinup: int = 1000,
    renorm_every: int = 10,
    delta0: float = 1e-8,
    dt: float = DT,
) -> float:
    """Leading Lyapunov exponent (per model time unit) by two-trajectory renormalisation.

    A reference and a perturbed trajectory (initial separation `delta0`) are integrated with RK4;
    every `renorm_every` steps the separation is measured, its log growth accumulated, and the
    perturbed state is pulled back to distance `delta0` along the separation.

    Args:
        x0: starting state (3,), physical units.
        n_steps: RK4 steps over which growth is averaged (after `n_spinup` steps).
    """
    x = integrate_trajectories(np.asarray(x0)[None], 0, n_burn_in=n_spinup, dt=dt)[0, -1]
    direction = np.ones(3) / np.sqrt(3.0)
    pair = np.stack([x, x + delta0 * direction])
    total = 0.0
    n_blocks = n_steps // renorm_every
    for _ in range(n_blocks):
        pair = integrate(pair, renorm_every, dt)
        sep = pair[1] - pair[0]
        dist = float(np.linalg.norm(sep))
        total += np.log(dist / delta0)
        pair[1] = pair[0] + sep * (delta0 / dist)
    return total / (n_blocks * renorm_every * dt)
