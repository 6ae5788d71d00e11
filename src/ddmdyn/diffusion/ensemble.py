"""Ensembles around given states by partial diffusion and reverse sampling.

The sampler of docs/decisions.md, E18 and D3.

For a state x (normalised), a diffusion depth S (coarse step out of K) and member m:
    t* = round(S T / K);  z = sqrt(ab_t*) x + sigma_t* eps;  member = reverse chain from S to 1.
Noise is counter_normal(seed, stream_id, cycle, S, member, purpose, step) (purpose 0: the
initial diffusion with step 0; purpose 1: reverse coarse step k),
so an ensemble is the same whether it is generated alone or in a batch with others.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..rng import counter_key
from .model import Denoiser
from .samplers import coarse_to_fine, reverse_chain
from .schedules import NoiseSchedule

__all__ = ["diffusion_ensemble"]

PURPOSE_DIFFUSE = 0
PURPOSE_STEP = 1


def diffusion_ensemble(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    states: torch.Tensor,
    n_members: int,
    diffusion_steps: Sequence[int],
    n_coarse_steps: int = 100,
    seed: int = 0,
    stream_ids: torch.Tensor | None = None,
    cycle: int = 0,
    sampler: str = "ddpm",
    eta: float = 0.0,
) -> torch.Tensor:
    """Diffusion ensembles around states; all (state, S, member) rows share one reverse loop.

    Args:
        denoiser: (z, t) -> (x0_hat, eps_hat) in normalised space.
        schedule: noise schedule (T fine steps).
        states: (B, D) normalised states (e.g. deterministic forecasts).
        n_members: ensemble size M.
        diffusion_steps: coarse diffusion depths S (each in 1..K).
        n_coarse_steps: K of the reverse chain (paper: 100 -> S=13 means fine step 130).
        seed: integer seed.
        stream_ids: (B,) int64 identities of the states (e.g. truth index); default arange(B).
        cycle: assimilation cycle (or any further integer key).
        sampler, eta: 'ddpm' (paper) or 'ddim' with eta.

    Returns:
        (B, len(diffusion_steps), M, D) members in normalised space, dtype of states.
    """
    if states.ndim != 2:
        raise ValueError("states must have shape (B, D)")
    B, D = states.shape
    device = states.device
    S_list = [int(s) for s in diffusion_steps]
    K, T = int(n_coarse_steps), schedule.timesteps
    if any(s < 1 or s > K for s in S_list):
        raise ValueError(f"diffusion steps must lie in 1..{K}")
    if stream_ids is None:
        stream_ids = torch.arange(B, device=device)
    stream_ids = stream_ids.reshape(-1).to(device=device, dtype=torch.int64)
    if stream_ids.numel() != B:
        raise ValueError("stream_ids must have one entry per state")
    nS, M = len(S_list), int(n_members)

    # Row layout (B, nS, M) flattened; per-row keys.
    sid = stream_ids.view(B, 1, 1).expand(B, nS, M).reshape(-1)
    S_rows = torch.tensor(S_list, dtype=torch.int64, device=device).view(1, nS, 1)
    S_rows = S_rows.expand(B, nS, M).reshape(-1)
    mem = torch.arange(M, dtype=torch.int64, device=device).view(1, 1, M).expand(B, nS, M)
    mem = mem.reshape(-1)

    fine = torch.tensor([coarse_to_fine(s, K, T) for s in S_list], device=device)
    t_star = fine.view(1, nS, 1).expand(B, nS, M).reshape(-1)
    with torch.inference_mode():
        alpha = schedule.alpha(t_star, dtype=states.dtype).unsqueeze(-1)
        sigma = schedule.sigma(t_star, dtype=states.dtype).unsqueeze(-1)
        x = states.unsqueeze(1).unsqueeze(1).expand(B, nS, M, D).reshape(-1, D)
        key = counter_key(seed, sid, cycle, S_rows, mem)
        eps = key.extend(PURPOSE_DIFFUSE, 0).normal(D, states.dtype)
        z = alpha * x + sigma * eps
        step_key = key.extend(PURPOSE_STEP)

        def noise(k: int, rows: torch.Tensor | None) -> torch.Tensor:
            sk = step_key if rows is None else step_key.index(rows)
            return sk.extend(k).normal(D, states.dtype)

        out = reverse_chain(denoiser, schedule, z, S_rows, K, sampler, eta, noise)
    return out.view(B, nS, M, D)
