"""Output parameterisations ("heads") of the denoiser (docs/decisions.md, E7).

With z = alpha*x0 + sigma*eps and network output p:

| head     | target                 | x0_hat               | eps_hat              |
|----------|------------------------|----------------------|----------------------|
| noise    | eps                    | (z - sigma p)/alpha  | p                    |
| state    | x0                     | p                    | (z - alpha p)/sigma  |
| velocity | alpha eps - sigma x0   | alpha z - sigma p    | sigma z + alpha p    |

The velocity formulas rely on alpha^2 + sigma^2 = 1 (VP schedules). alpha and sigma broadcast
against z (e.g. shape (B, 1)). No clipping anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["Head", "NoiseHead", "StateHead", "VelocityHead", "head_loss", "make_head"]


@dataclass(frozen=True)
class Head:
    """Base class: a parameterisation of the network output."""

    name: str = "base"

    def target(self, x0, eps, alpha, sigma) -> torch.Tensor:
        """Training target for clean state x0 and noise eps."""
        raise NotImplementedError

    def to_x0_eps(self, pred, z, alpha, sigma) -> tuple[torch.Tensor, torch.Tensor]:
        """(x0_hat, eps_hat) from the network output pred at noisy state z."""
        raise NotImplementedError


@dataclass(frozen=True)
class NoiseHead(Head):
    """epsilon-prediction."""

    name: str = "noise"

    def target(self, x0, eps, alpha, sigma):
        return eps

    def to_x0_eps(self, pred, z, alpha, sigma):
        return (z - sigma * pred) / alpha, pred


@dataclass(frozen=True)
class StateHead(Head):
    """x0-prediction."""

    name: str = "state"

    def target(self, x0, eps, alpha, sigma):
        return x0

    def to_x0_eps(self, pred, z, alpha, sigma):
        return pred, (z - alpha * pred) / sigma


@dataclass(frozen=True)
class VelocityHead(Head):
    """v-prediction, v = alpha*eps - sigma*x0."""

    name: str = "velocity"

    def target(self, x0, eps, alpha, sigma):
        return alpha * eps - sigma * x0

    def to_x0_eps(self, pred, z, alpha, sigma):
        return alpha * z - sigma * pred, sigma * z + alpha * pred


_ALIASES = {
    "noise": NoiseHead,
    "eps": NoiseHead,
    "epsilon": NoiseHead,
    "state": StateHead,
    "x": StateHead,
    "x0": StateHead,
    "velocity": VelocityHead,
    "v": VelocityHead,
}


def make_head(name: str) -> Head:
    """Head by name: 'noise' (eps), 'state' (x) or 'velocity' (v)."""
    try:
        return _ALIASES[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown head {name!r}; expected noise, state or velocity") from None


def head_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Mean loss over all elements: 'mse' (MSELoss) or 'l1'/'mae' (L1Loss)."""
    k = kind.lower()
    if k == "mse":
        return F.mse_loss(pred, target)
    if k in ("l1", "mae"):
        return F.l1_loss(pred, target)
    raise ValueError(f"unknown loss {kind!r}; expected 'mse' or 'l1'")
