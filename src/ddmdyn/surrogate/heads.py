"""Trainable heads on top of the backbone features (docs/decisions.md, E12, E14).

``LinearHead`` is trained jointly with a from-scratch backbone ("SGDRegressionModule", Adam);
``MLPHead`` is trained with Adam on a frozen backbone. The closed-form ridge head lives in
``ridge.py``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearHead", "MLPHead", "build_head"]


class LinearHead(nn.Module):
    """Linear(n_features -> n_out): features (B, F) -> increments (B, n_out)."""

    def __init__(self, n_features: int, n_out: int = 3) -> None:
        super().__init__()
        self.linear = nn.Linear(int(n_features), int(n_out))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)


class MLPHead(nn.Module):
    """Linear(n_features -> hidden) -> ReLU -> Linear(hidden -> n_out)."""

    def __init__(self, n_features: int, hidden: int = 256, n_out: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(int(n_features), int(hidden)), nn.ReLU(), nn.Linear(int(hidden), int(n_out))
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


def build_head(kind: str, n_features: int, **params) -> nn.Module:
    """Head by name: ``linear`` (n_out) or ``mlp`` (hidden, n_out). Ridge heads come from a fit."""
    if kind == "linear":
        return LinearHead(n_features, **params)
    if kind == "mlp":
        return MLPHead(n_features, **params)
    raise ValueError(f"unknown head kind {kind!r}; expected 'linear' or 'mlp' (ridge: fit_ridge)")
