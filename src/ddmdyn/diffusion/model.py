"""A diffusion model = network + noise schedule + head (docs/decisions.md, E5-E7)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .heads import Head, head_loss
from .schedules import NoiseSchedule

__all__ = ["Denoiser", "DiffusionModel"]


@runtime_checkable
class Denoiser(Protocol):
    """Anything mapping (z (B, D), t (B,) int64 fine steps) -> (x0_hat (B, D), eps_hat (B, D))."""

    def __call__(self, z: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


class DiffusionModel(nn.Module):
    """Bundles a denoising network, a `NoiseSchedule` and a `Head`; callable as a `Denoiser`."""

    def __init__(self, network: nn.Module, schedule: NoiseSchedule, head: Head) -> None:
        super().__init__()
        self.network = network
        self.schedule = schedule
        self.head = head

    def _coeffs(self, t: torch.Tensor, like: torch.Tensor):
        alpha = self.schedule.alpha(t, device=like.device, dtype=like.dtype).reshape(-1, 1)
        sigma = self.schedule.sigma(t, device=like.device, dtype=like.dtype).reshape(-1, 1)
        return alpha, sigma

    def diffuse(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """z_t = alpha_t x0 + sigma_t eps; x0, eps (B, D), t (B,) integer steps."""
        alpha, sigma = self._coeffs(t, x0)
        return alpha * x0 + sigma * eps

    def denoise(self, z: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x0_hat, eps_hat) for noisy states z (B, D) at integer fine steps t (B,)."""
        alpha, sigma = self._coeffs(t, z)
        pred = self.network(z, t)
        return self.head.to_x0_eps(pred, z, alpha, sigma)

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.denoise(z, t)

    def loss(
        self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, kind: str = "mse"
    ) -> torch.Tensor:
        """Head loss (scalar, mean over batch and dims) for clean x0 (B, D), steps t, noise eps."""
        alpha, sigma = self._coeffs(t, x0)
        z = alpha * x0 + sigma * eps
        pred = self.network(z, t).to(x0.dtype)  # float32 loss under mixed precision
        return head_loss(pred, self.head.target(x0, eps, alpha, sigma), kind)
