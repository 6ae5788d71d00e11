"""Variance-preserving noise schedules (docs/decisions.md, E5).

A schedule is the table alpha_bar[t], t = 0..T, with alpha_bar[0] = 1 (clean data). The forward
process is z_t = alpha_t * x + sigma_t * eps with alpha_t = sqrt(alpha_bar[t]) and
sigma_t = sqrt(1 - alpha_bar[t]). Tables are computed in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["NoiseSchedule", "cosine_schedule", "linear_schedule", "make_schedule"]


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """Discrete VP schedule.

    Attributes:
        alpha_bar: float64 tensor (T+1,), alpha_bar[0] = 1, decreasing.
        name: schedule family ("cosine", "linear", or "custom").
        params: keyword parameters of the family, for rebuilding it (see `make_schedule`).
    """

    alpha_bar: torch.Tensor
    name: str = "custom"
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        ab = torch.as_tensor(self.alpha_bar, dtype=torch.float64).detach().cpu()
        if ab.ndim != 1 or ab.numel() < 2:
            raise ValueError("alpha_bar must be 1-D with at least 2 entries")
        if ab[0] != 1.0:
            raise ValueError("alpha_bar[0] must be 1 (clean data)")
        if not torch.all((ab > 0) & (ab <= 1)):
            raise ValueError("alpha_bar must lie in (0, 1]")
        object.__setattr__(self, "alpha_bar", ab)

    @property
    def timesteps(self) -> int:
        """Number of diffusion steps T."""
        return self.alpha_bar.numel() - 1

    @property
    def betas(self) -> torch.Tensor:
        """beta_t = 1 - alpha_bar[t]/alpha_bar[t-1] for t = 1..T, float64 (T,)."""
        return 1.0 - self.alpha_bar[1:] / self.alpha_bar[:-1]

    def table(self, kind: str, device=None, dtype=torch.float32) -> torch.Tensor:
        """Full (T+1,) table of 'alpha_bar', 'alpha' or 'sigma' on device/dtype (cached)."""
        key = (kind, str(torch.device(device or "cpu")), dtype)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            if kind == "alpha_bar":
                tab = self.alpha_bar
            elif kind == "alpha":
                tab = self.alpha_bar.sqrt()
            elif kind == "sigma":
                tab = (1.0 - self.alpha_bar).sqrt()
            else:
                raise ValueError(f"unknown table {kind!r}")
            cache[key] = tab.to(device=device or "cpu", dtype=dtype)
        return cache[key]

    def _gather(self, kind: str, t, device, dtype) -> torch.Tensor:
        if isinstance(t, torch.Tensor):
            if t.dtype.is_floating_point:
                raise TypeError("diffusion steps must be integers")
            idx = t.to(torch.int64)
            dev = t.device if device is None else torch.device(device)
        else:
            idx = torch.as_tensor(np.asarray(t), dtype=torch.int64)
            dev = torch.device("cpu" if device is None else device)
        if idx.device.type == "cpu" and idx.numel():
            if int(idx.min()) < 0 or int(idx.max()) > self.timesteps:
                raise IndexError(f"diffusion step outside 0..{self.timesteps}")
        return self.table(kind, idx.device, dtype)[idx].to(dev)

    def alpha_bar_at(self, t, device=None, dtype=torch.float32) -> torch.Tensor:
        """alpha_bar at integer steps t (int, sequence or integer tensor), same shape as t."""
        return self._gather("alpha_bar", t, device, dtype)

    def alpha(self, t, device=None, dtype=torch.float32) -> torch.Tensor:
        """alpha_t = sqrt(alpha_bar[t]) at integer steps t; device defaults to t's (else CPU)."""
        return self._gather("alpha", t, device, dtype)

    def sigma(self, t, device=None, dtype=torch.float32) -> torch.Tensor:
        """sigma_t = sqrt(1 - alpha_bar[t]) at integer steps t."""
        return self._gather("sigma", t, device, dtype)

    def to_dict(self) -> dict:
        """Plain description {'name', 'timesteps', **params} for rebuilding via make_schedule."""
        return {"name": self.name, "timesteps": self.timesteps, **self.params}


def _from_betas(betas: np.ndarray) -> torch.Tensor:
    ab = np.cumprod(1.0 - betas)
    return torch.from_numpy(np.concatenate([[1.0], ab]))


def cosine_schedule(
    timesteps: int = 1000, shift: float = 0.008, max_beta: float = 0.9
) -> NoiseSchedule:
    """Cosine schedule (Nichol & Dhariwal) with beta clipping at max_beta (docs/decisions.md, E5).

    tau_i = (i/T + s)/(1 + s), f_i = cos^2(pi/2 tau_i), beta_i = min(1 - f_i/f_{i-1}, max_beta).
    """
    i = np.arange(timesteps + 1, dtype=np.float64)
    tau = (i / timesteps + shift) / (1.0 + shift)
    f = np.cos(0.5 * math.pi * tau) ** 2
    betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)
    return NoiseSchedule(
        _from_betas(betas), "cosine", {"shift": float(shift), "max_beta": float(max_beta)}
    )


def linear_schedule(
    timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.03
) -> NoiseSchedule:
    """Betas linearly spaced from beta_start to beta_end (docs/decisions.md, E5)."""
    betas = np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)
    return NoiseSchedule(
        _from_betas(betas),
        "linear",
        {"beta_start": float(beta_start), "beta_end": float(beta_end)},
    )


def make_schedule(name: str, timesteps: int = 1000, **params: float) -> NoiseSchedule:
    """Build a schedule by family name ('cosine' or 'linear') with optional family parameters."""
    key = name.lower()
    if key in ("cosine", "cos"):
        return cosine_schedule(timesteps, **params)
    if key == "linear":
        return linear_schedule(timesteps, **params)
    raise ValueError(f"unknown schedule {name!r}; expected 'cosine' or 'linear'")
