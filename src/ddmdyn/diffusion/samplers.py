"""Ancestral DDPM and DDIM samplers on a coarse grid of K steps (docs/decisions.md, E10).

Coarse step k in {K, ..., 1} maps to fine steps t = round(k m), s = round((k-1) m), m = T/K
(Python/torch round-half-to-even). One reverse step uses (x0_hat, eps_hat) = denoiser(z, t):

- DDPM: z_s = c_z z + c_x x0_hat + sqrt(beta_tilde) n, the exact Gaussian posterior
  q(z_s | z_t, x0 = x0_hat) (see `ddpm_step_coefficients`).
- DDIM: z_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - s_eta^2) eps_hat + s_eta n, with
  s_eta = eta sqrt((1-ab_s)/(1-ab_t)) sqrt(1 - ab_t/ab_s).

The last step (k = 1, s = 0) returns x0_hat itself; x0_hat is never clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..rng import CounterKey, counter_key
from .model import Denoiser
from .schedules import NoiseSchedule

__all__ = [
    "SAMPLERS",
    "coarse_to_fine",
    "ddim_step_coefficients",
    "ddpm_step_coefficients",
    "reconstruct",
    "reverse_chain",
    "sample",
]

SAMPLERS = ("ddpm", "ddim")
#: Stream-id layout of `sample`: keys (seed, sample index, purpose, coarse step).
PURPOSE_PRIOR = 0
PURPOSE_STEP = 1


def coarse_to_fine(k: int, n_coarse_steps: int, timesteps: int) -> int:
    """Fine step round(k * T / K) of coarse step k."""
    return round(k * timesteps / n_coarse_steps)


def ddpm_step_coefficients(alpha_bar_t: float, alpha_bar_s: float) -> tuple[float, float, float]:
    """Posterior q(z_s | z_t, x0) = N(c_z z_t + c_x x0, beta_tilde I) for fine steps s < t.

    With a = alpha_bar_t / alpha_bar_s:
        c_z = sqrt(a) (1 - alpha_bar_s) / (1 - alpha_bar_t)
        c_x = sqrt(alpha_bar_s) (1 - a) / (1 - alpha_bar_t)
        beta_tilde = (1 - a) (1 - alpha_bar_s) / (1 - alpha_bar_t)
    Returns (c_z, c_x, beta_tilde) as floats (computed in float64).
    """
    ab_t, ab_s = float(alpha_bar_t), float(alpha_bar_s)
    a = ab_t / ab_s
    one_m = 1.0 - ab_t
    return (
        math.sqrt(a) * (1.0 - ab_s) / one_m,
        math.sqrt(ab_s) * (1.0 - a) / one_m,
        (1.0 - a) * (1.0 - ab_s) / one_m,
    )


def ddim_step_coefficients(
    alpha_bar_t: float, alpha_bar_s: float, eta: float = 0.0
) -> tuple[float, float, float]:
    """DDIM step z_s = c_x x0_hat + c_eps eps_hat + s_eta n; returns (c_x, c_eps, s_eta)."""
    ab_t, ab_s = float(alpha_bar_t), float(alpha_bar_s)
    s_eta = eta * math.sqrt((1.0 - ab_s) / (1.0 - ab_t)) * math.sqrt(max(1.0 - ab_t / ab_s, 0.0))
    c_eps = math.sqrt(max(1.0 - ab_s - s_eta**2, 0.0))
    return math.sqrt(ab_s), c_eps, s_eta


NoiseFn = Callable[[int, torch.Tensor | None], torch.Tensor]


def reverse_chain(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    z: torch.Tensor,
    k0: torch.Tensor | int,
    n_coarse_steps: int,
    sampler: str = "ddpm",
    eta: float = 0.0,
    noise: NoiseFn | None = None,
) -> torch.Tensor:
    """Reverse chain from per-row coarse start steps k0 down to 1; returns x0_hat (B, D).

    Rows with a smaller k0 stay untouched until the loop reaches their start step, so rows
    starting at different depths share one loop (and one network call per coarse step).

    Args:
        denoiser: (z, t) -> (x0_hat, eps_hat), t an int64 tensor of fine steps.
        schedule: noise schedule with T fine steps.
        z: (B, D) noisy states at fine step coarse_to_fine(k0) of each row.
        k0: int or int tensor (B,) of coarse start steps in 1..K.
        n_coarse_steps: K.
        sampler: 'ddpm' or 'ddim' (one of `SAMPLERS`).
        eta: DDIM stochasticity (ignored for DDPM).
        noise: noise(k, rows) -> (len(rows) or B, D) tensor of N(0,1) for coarse step k, where
            rows is an int64 index tensor of the active rows or None for all rows; default
            torch.randn (not reproducible across batch sizes).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    K, T = int(n_coarse_steps), schedule.timesteps
    B = z.shape[0]
    if isinstance(k0, torch.Tensor):
        k0_rows = k0.reshape(-1).to(device=z.device, dtype=torch.int64)
        if k0_rows.numel() != B:
            raise ValueError("k0 must have one entry per row")
        k_max = int(k0_rows.max()) if B else 0
        k_min = int(k0_rows.min()) if B else 0
    else:
        k_max = k_min = int(k0)
        k0_rows = None
    if B == 0:
        return z.clone()
    if k_min < 1 or k_max > K:
        raise ValueError(f"start steps must lie in 1..{K}")
    ab = schedule.alpha_bar
    if noise is None:

        def noise(k: int, rows: torch.Tensor | None) -> torch.Tensor:
            n = B if rows is None else rows.numel()
            return torch.randn((n, z.shape[1]), device=z.device, dtype=z.dtype)

    z = z.clone()
    for k in range(k_max, 0, -1):
        t = coarse_to_fine(k, K, T)
        s = coarse_to_fine(k - 1, K, T)
        rows = None
        if k0_rows is not None and k > k_min:  # some rows have not started yet
            rows = torch.nonzero(k0_rows >= k).reshape(-1)
        zk = z if rows is None else z.index_select(0, rows)
        tk = torch.full((zk.shape[0],), t, dtype=torch.int64, device=z.device)
        x0_hat, eps_hat = denoiser(zk, tk)
        if k == 1 or s == 0:
            new = x0_hat
        elif sampler == "ddpm":
            c_z, c_x, var = ddpm_step_coefficients(ab[t], ab[s])
            new = c_z * zk + c_x * x0_hat + math.sqrt(var) * noise(k, rows)
        else:
            c_x, c_eps, s_eta = ddim_step_coefficients(ab[t], ab[s], eta)
            new = c_x * x0_hat + c_eps * eps_hat
            if s_eta > 0:
                new = new + s_eta * noise(k, rows)
        if rows is None:
            z = new.to(z.dtype)
        else:
            z.index_copy_(0, rows, new.to(z.dtype))
    return z


def reconstruct(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    z: torch.Tensor,
    k0: int,
    n_coarse_steps: int,
    sampler: str = "ddpm",
    eta: float = 0.0,
    noise: Callable[[int], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Run coarse steps k = k0..1 from z (B, D) at fine step round(k0 T/K); returns x0_hat (B, D).

    noise(k) -> tensor like z gives the N(0, I) draw of coarse step k (default torch.randn).
    Runs under torch.inference_mode.
    """
    fn = None if noise is None else (lambda k, rows: noise(k))
    with torch.inference_mode():
        return reverse_chain(denoiser, schedule, z, int(k0), n_coarse_steps, sampler, eta, fn)


def sample(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    n_samples: int,
    n_coarse_steps: int = 1000,
    sampler: str = "ddpm",
    eta: float = 0.0,
    seed: int = 0,
    batch_size: int = 16384,
    device=None,
    n_dim: int = 3,
    first_index: int = 0,
) -> torch.Tensor:
    """Unconditional samples (n_samples, n_dim), float32, normalised space, on `device`.

    Sample i (global index first_index + i) draws its prior from counter_normal(seed, i, 0, 0)
    and the noise of coarse step k from counter_normal(seed, i, 1, k), so the result does not
    depend on batch_size (nor on how a large job is split using first_index).
    """
    device = torch.device(device or "cpu")
    out = torch.empty((n_samples, n_dim), dtype=torch.float32, device=device)
    with torch.inference_mode():
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            ids = torch.arange(first_index + start, first_index + stop, device=device)
            key = counter_key(seed, ids)
            z = key.extend(PURPOSE_PRIOR, 0).normal(n_dim)
            step_key = key.extend(PURPOSE_STEP)

            def noise(k: int, rows: torch.Tensor | None, sk: CounterKey = step_key) -> torch.Tensor:
                return (sk if rows is None else sk.index(rows)).extend(k).normal(n_dim)

            out[start:stop] = reverse_chain(
                denoiser, schedule, z, n_coarse_steps, n_coarse_steps, sampler, eta, noise
            )
    return out
