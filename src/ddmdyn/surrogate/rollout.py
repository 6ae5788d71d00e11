"""Autoregressive surrogate roll-outs and their scores (docs/decisions.md, E17).

x_{k+1} = x_k + g(x_k) from the true initial states, batched over all starts at once (in chunks
of ``batch_size``). Scores per lead time 0..n_leads: MSE and MAE averaged over samples and the
3 normalised components (float64 sums, i.e. batch-size weighted); and the Hellinger distance
between the 3-D histograms (70 bins per axis on [-3.5, 3.5]) of predictions and truth pooled over
leads n_leads//2+1 .. n_leads. Truth is gathered by index arithmetic, chunk by chunk, and the
histogram counts are accumulated on the device, so nothing of size n_starts x n_leads is ever
held in memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ddmdyn.metrics.accumulators import MeanAccumulator
from ddmdyn.metrics.generation import HIST_BINS, HIST_HI, HIST_LO, hellinger_from_counts
from ddmdyn.surrogate.pairs import RolloutStarts, rollout_starts

__all__ = ["histogram_counts", "rollout", "rollout_scores"]

StepFn = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def rollout(
    step_fn: StepFn, x0: torch.Tensor, n_steps: int, batch_size: int | None = None
) -> torch.Tensor:
    """Iterate ``step_fn`` (B, 3) -> (B, 3) from x0 (B, 3).

    Returns (B, n_steps + 1, 3) with lead 0 = x0, on x0's device. Starts are processed in chunks
    of ``batch_size`` (all at once if None).
    """
    n = x0.shape[0]
    out = torch.empty((n, int(n_steps) + 1, *x0.shape[1:]), dtype=x0.dtype, device=x0.device)
    bs = n if batch_size is None else max(1, int(batch_size))
    for lo in range(0, n, bs):
        x = x0[lo : lo + bs]
        out[lo : lo + bs, 0] = x
        for k in range(1, int(n_steps) + 1):
            x = step_fn(x)
            out[lo : lo + bs, k] = x
    return out


def histogram_counts(
    x: torch.Tensor,
    counts: torch.Tensor | None = None,
    lo: float = HIST_LO,
    hi: float = HIST_HI,
    n_bins: int = HIST_BINS,
) -> torch.Tensor:
    """Accumulate 3-D histogram counts of states x (..., 3) on x's device.

    Same cells as ``ddmdyn.metrics.generation.histogram3d``: edges linspace(lo, hi, n_bins+1),
    half-open cells except the last (which includes hi); points outside or non-finite dropped.
    Returns int64 counts (n_bins**3,) (flattened (n_bins,)*3 in C order), added to ``counts``.
    """
    xc = x.reshape(-1, x.shape[-1]).to(torch.float64)
    if counts is None:
        counts = torch.zeros(n_bins**3, dtype=torch.int64, device=x.device)
    inside = ((xc >= lo) & (xc <= hi)).all(dim=1)
    xc = xc[inside]
    # the same float64 edge values as numpy (torch.linspace may differ in the last bit)
    edges = torch.as_tensor(np.linspace(lo, hi, n_bins + 1), device=x.device)
    idx = torch.floor((xc - lo) * (n_bins / (hi - lo))).to(torch.int64).clamp_(0, n_bins - 1)
    idx -= (xc < edges[idx]).to(torch.int64)
    idx += ((xc >= edges[idx + 1]) & (idx < n_bins - 1)).to(torch.int64)
    cell = (idx[:, 0] * n_bins + idx[:, 1]) * n_bins + idx[:, 2]
    counts += torch.bincount(cell, minlength=n_bins**3)
    return counts


def _as_step_fn(model: torch.nn.Module | StepFn, increment: bool) -> StepFn:
    if increment:
        return lambda x: x + model(x)
    return model


@torch.no_grad()
def rollout_scores(
    model: torch.nn.Module | StepFn,
    trajectories: np.ndarray | torch.Tensor,
    dt: int = 10,
    n_leads: int = 100,
    starts: RolloutStarts | None = None,
    batch_size: int = 16384,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    increment: bool = True,
) -> dict[str, np.ndarray | float | int]:
    """Roll out the surrogate from every start and score it against the truth.

    Args:
        model: callable on normalised states (B, 3); returns the increment g(x) if
            ``increment`` (a ``SurrogateModel``), else the next state.
        trajectories: (n_traj, T, 3) normalised test trajectories (moved to ``device``).
        dt: integration steps per surrogate step; the truth at lead k is x[t0 + k*dt].
        n_leads: surrogate steps per roll-out (100 = 10 MTU for dt = 10).
        starts: initial conditions; default ``rollout_starts(n_traj, T, dt, n_leads)`` (all).
        batch_size: starts rolled out together.
        device: where the roll-out runs (default: the trajectories' device).
        dtype: dtype of the states (float32 as the paper; float64 for exactness checks).
    Returns:
        dict with ``lead`` (n_leads+1,) int, ``mse`` and ``mae`` (n_leads+1,) float64 (lead 0 is
        the initial state, so 0), ``hellinger`` (float, leads n_leads//2+1..n_leads pooled),
        ``n_samples`` (int), ``hist_leads`` ((first, last) pooled lead).
    """
    traj = torch.as_tensor(trajectories)
    device = torch.device(device) if device is not None else traj.device
    traj = traj.to(device=device, dtype=dtype)
    n_traj, n_time = traj.shape[0], traj.shape[1]
    if starts is None:
        starts = rollout_starts(n_traj, n_time, dt, n_leads)
    if len(starts) == 0:
        raise ValueError("no roll-out starts")
    if int(starts.time.max()) + n_leads * dt >= n_time:
        raise ValueError("a roll-out start runs past the end of its trajectory")
    starts = starts.to(device)
    is_module = isinstance(model, torch.nn.Module)
    if is_module:
        model.eval()
    step_fn = _as_step_fn(model, increment)
    offsets = torch.arange(n_leads + 1, device=device) * dt
    first = n_leads // 2 + 1
    mse, mae = MeanAccumulator(), MeanAccumulator()  # per lead, over starts and components
    counts_pred = counts_true = None
    for lo in range(0, len(starts), batch_size):
        chunk = starts[lo : lo + batch_size]
        truth = traj[chunk.traj[:, None], chunk.time[:, None] + offsets]  # (b, L+1, 3)
        pred = rollout(step_fn, truth[:, 0].contiguous(), n_leads)
        err = (pred - truth).to(torch.float64)
        mse.add(err.square().sum(dim=(0, 2)), 3 * len(chunk))
        mae.add(err.abs().sum(dim=(0, 2)), 3 * len(chunk))
        if first <= n_leads:
            counts_pred = histogram_counts(pred[:, first:], counts_pred)
            counts_true = histogram_counts(truth[:, first:], counts_true)
    hell = float("nan")
    if counts_pred is not None and counts_true is not None:
        cp, ct = counts_pred.cpu().numpy(), counts_true.cpu().numpy()
        if cp.sum() > 0 and ct.sum() > 0:
            hell = hellinger_from_counts(cp, ct)
    return {
        "lead": np.arange(n_leads + 1),
        "mse": mse.mean,
        "mae": mae.mean,
        "hellinger": hell,
        "n_samples": len(starts),
        "hist_leads": (first, n_leads),
    }
