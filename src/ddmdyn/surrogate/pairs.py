"""Training pairs and roll-out starts for the surrogate models (docs/decisions.md, E3, E4, D8).

A pair is (x_t, x_{t+dt} - x_t) taken inside one trajectory, so ``n_traj * (T - dt)`` pairs exist
and none straddles two trajectories. Pairs are addressed by a flat id
``k = traj * (T - dt) + t`` (trajectory-major) and gathered by index arithmetic from the
trajectory tensor: no copy of the pair set is ever materialised.

Batches are a pure function of ``(seed, step)``: epoch ``e`` is a seeded permutation of the pair
ids, batch ``j`` of it is slice ``j``; the last batch of an epoch may be smaller (as the paper's
DataLoader, which does not drop it). Target corruption noise is a counter-based normal of
``(seed, pair id, epoch)``: redrawn each time a pair is drawn, independent of batch size and
device. A training run can therefore resume at any step and get the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ddmdyn.rng import counter_normal

__all__ = [
    "PairSampler",
    "RolloutStarts",
    "gather_pairs",
    "n_pairs",
    "rollout_starts",
    "validation_pairs",
]

# Key that separates the corruption stream from any other use of the same seed.
_CORRUPTION_STREAM = 0x5EED_C0DE


def n_pairs(n_traj: int, n_time: int, dt: int) -> int:
    """Number of within-trajectory pairs: ``n_traj * (n_time - dt)``."""
    if dt < 1 or dt >= n_time:
        raise ValueError(f"need 1 <= dt < n_time, got dt={dt}, n_time={n_time}")
    return n_traj * (n_time - dt)


def _as_tensor(trajectories: np.ndarray | torch.Tensor, device, dtype) -> torch.Tensor:
    t = torch.as_tensor(trajectories)
    if t.ndim != 3 or t.shape[-1] != 3:
        raise ValueError(f"trajectories must have shape (n_traj, T, 3), got {tuple(t.shape)}")
    return t.to(device=device, dtype=dtype if dtype is not None else t.dtype).contiguous()


def gather_pairs(
    trajectories: torch.Tensor, ids: torch.Tensor, dt: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and increments for flat pair ids.

    Args:
        trajectories: (n_traj, T, 3) normalised states.
        ids: (B,) int64 flat pair ids in ``[0, n_traj * (T - dt))``, on the trajectories' device.
        dt: integration steps between input and target state.
    Returns:
        x (B, 3) = x_t and y (B, 3) = x_{t+dt} - x_t, normalised units.
    """
    n_time = trajectories.shape[1]
    traj = torch.div(ids, n_time - dt, rounding_mode="floor")
    row = ids + traj * dt  # = traj * n_time + t, the row in the (n_traj * T, 3) view
    states = trajectories.reshape(-1, trajectories.shape[-1])
    x = states.index_select(0, row)
    return x, states.index_select(0, row + dt) - x


def validation_pairs(
    trajectories: np.ndarray | torch.Tensor,
    dt: int = 10,
    n_max: int | None = None,
    device=None,
    dtype: torch.dtype | None = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n_max`` pairs (flat id order, no shuffle, no corruption; docs/decisions.md, E3).

    Returns:
        x (n, 3), y (n, 3) tensors with n = min(n_max, number of pairs).
    """
    traj = _as_tensor(trajectories, device, dtype)
    n = n_pairs(traj.shape[0], traj.shape[1], dt)
    n = n if n_max is None else min(n, int(n_max))
    return gather_pairs(traj, torch.arange(n, device=traj.device), dt)


class PairSampler:
    """Seeded batches of (x_t, x_{t+dt} - x_t) drawn from normalised trajectories.

    Args:
        trajectories: (n_traj, T, 3) normalised states (NumPy or torch); moved to ``device``.
        dt: surrogate time step in integration steps (10 = 0.1 MTU).
        n_subset: if given, a fixed seeded subset of this many pair ids (sample-size scaling).
        subset_seed: seed of that subset.
        corruption: std of Gaussian noise added to the targets (normalised units), training only.
        seed: seed of the epoch permutations and of the corruption noise.
        device: device of the trajectories and of the batches.
        dtype: dtype the trajectories are cast to (None keeps theirs).
    """

    def __init__(
        self,
        trajectories: np.ndarray | torch.Tensor,
        dt: int = 10,
        n_subset: int | None = None,
        subset_seed: int = 0,
        corruption: float = 0.0,
        seed: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = torch.float32,
    ) -> None:
        self.trajectories = _as_tensor(trajectories, device, dtype)
        self.device = self.trajectories.device
        self.dt = int(dt)
        self.n_total = n_pairs(self.trajectories.shape[0], self.trajectories.shape[1], self.dt)
        if corruption < 0:
            raise ValueError("corruption must be >= 0")
        self.corruption = float(corruption)
        self.seed = int(seed)
        self.subset: torch.Tensor | None = None
        if n_subset is not None:
            if not 1 <= n_subset <= self.n_total:
                raise ValueError(f"n_subset must be in [1, {self.n_total}], got {n_subset}")
            rng = np.random.default_rng([int(subset_seed), 0x5B5E7])
            ids = np.sort(rng.choice(self.n_total, size=int(n_subset), replace=False))
            self.subset = torch.as_tensor(ids, dtype=torch.int64, device=self.device)
        self._perm_epoch: int | None = None
        self._perm: torch.Tensor | None = None

    def __len__(self) -> int:
        """Number of pairs the sampler draws from (the subset size if a subset is used)."""
        return self.n_total if self.subset is None else int(self.subset.numel())

    def batches_per_epoch(self, batch_size: int) -> int:
        """Batches in one pass over the pairs (the last one may be smaller)."""
        return math.ceil(len(self) / self.effective_batch_size(batch_size))

    def effective_batch_size(self, batch_size: int) -> int:
        """min(batch_size, number of pairs), as the paper does for small subsets."""
        return max(1, min(int(batch_size), len(self)))

    def _permutation(self, epoch: int) -> torch.Tensor:
        if self._perm_epoch != epoch:
            rng = np.random.default_rng([self.seed, int(epoch), 0x9E37])
            perm = rng.permutation(len(self))
            self._perm = torch.as_tensor(perm, dtype=torch.int64, device=self.device)
            self._perm_epoch = epoch
        assert self._perm is not None
        return self._perm

    def batch_ids(
        self, step: int, batch_size: int, shuffle: bool = True
    ) -> tuple[torch.Tensor, int]:
        """Flat pair ids of batch ``step`` and its epoch number."""
        bs = self.effective_batch_size(batch_size)
        per_epoch = self.batches_per_epoch(bs)
        epoch, j = divmod(int(step), per_epoch)
        lo, hi = j * bs, min((j + 1) * bs, len(self))
        if shuffle:
            pos = self._permutation(epoch)[lo:hi]
        else:
            pos = torch.arange(lo, hi, device=self.device)
        ids = pos if self.subset is None else self.subset[pos]
        return ids, epoch

    def batch(
        self, step: int, batch_size: int, shuffle: bool = True, corrupt: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number ``step`` (counting across epochs) as (x (B, 3), y (B, 3)).

        The targets carry the corruption noise when ``corrupt`` and ``self.corruption > 0``.
        """
        ids, epoch = self.batch_ids(step, batch_size, shuffle)
        x, y = gather_pairs(self.trajectories, ids, self.dt)
        if corrupt and self.corruption > 0:
            noise = counter_normal(self.seed, _CORRUPTION_STREAM, ids, epoch, n=3, dtype=y.dtype)
            y = y + self.corruption * noise
        return x, y

    def epoch(
        self, batch_size: int, shuffle: bool = False, epoch: int = 0
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """All batches of one epoch (one pass over every pair exactly once)."""
        per_epoch = self.batches_per_epoch(batch_size)
        for j in range(per_epoch):
            yield self.batch(epoch * per_epoch + j, batch_size, shuffle=shuffle)


@dataclass(frozen=True)
class RolloutStarts:
    """Initial conditions of the test roll-outs: trajectory and time index per sample (int64)."""

    traj: torch.Tensor
    time: torch.Tensor

    def __len__(self) -> int:
        return int(self.traj.numel())

    def __getitem__(self, sl: slice) -> RolloutStarts:
        return RolloutStarts(self.traj[sl], self.time[sl])

    def to(self, device) -> RolloutStarts:
        return RolloutStarts(self.traj.to(device), self.time.to(device))


def rollout_starts(
    n_traj: int,
    n_time: int,
    dt: int = 10,
    n_leads: int = 100,
    stride: int = 1,
    max_starts: int | None = None,
) -> RolloutStarts:
    """Roll-out initial conditions in the paper's trajectory-fastest order (docs/decisions.md, E4).

    Start times are ``range(0, T - n_leads*dt - 1, stride)`` (the paper's range, which leaves the
    last valid start out); sample ``i`` is trajectory ``i % n_traj`` at start ``i // n_traj``.
    With ``max_starts`` the start times per trajectory are thinned to that many, evenly spaced.
    At paper scale (16 x 1,000,001, dt 10, 100 leads, stride 1) this gives 15,984,000 samples.
    """
    n_valid = n_time - n_leads * dt - 1
    if n_valid < 1:
        raise ValueError(f"trajectories of length {n_time} are too short for {n_leads}x{dt}")
    times = torch.arange(0, n_valid, int(stride), dtype=torch.int64)
    if max_starts is not None and times.numel() > max_starts:
        pick = torch.linspace(0, times.numel() - 1, int(max_starts), dtype=torch.float64)
        times = times[pick.round().to(torch.int64)]
    traj = torch.arange(n_traj, dtype=torch.int64).repeat(times.numel())
    return RolloutStarts(traj=traj, time=times.repeat_interleave(n_traj))
