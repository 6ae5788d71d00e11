"""Closed-form streaming ridge regression on standardised features (docs/decisions.md, D9).

``RidgeAccumulator`` collects float64 sufficient statistics over batches in one pass; ``solve``
then solves once, in float64:

    std_j = sqrt(S_jj / (N + 1))          S = sum (x - mu)(x - mu)^T   (stds < 1e-8 -> 1)
    R     = S / ((N + 1) std std^T)       (the feature correlation matrix of the paper)
    c     = sum (x - mu)(y - ybar)^T / ((N + 1) std)
    (R + lambda I) w = c                  (Cholesky; least squares if that fails)
    prediction = ((x - mu) / std) w + ybar

i.e. ridge regression on standardised features with an unpenalised intercept. The ``N + 1``
normalisation follows the authors' code. The sums are accumulated around a fixed shift (the
first batch's mean), which keeps the centred second moments accurate in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["RidgeAccumulator", "RidgeHead", "solve_ridge"]

STD_FLOOR = 1e-8


def _as_f64(a: np.ndarray | torch.Tensor, device) -> torch.Tensor:
    return torch.as_tensor(a).to(device=device, dtype=torch.float64)


class RidgeHead(nn.Module):
    """Linear prediction ``((x - mean) / std) @ weight + bias`` with float64 buffers.

    Buffers: mean (F,), std (F,), weight (F, T), bias (T,). The forward pass runs in the dtype
    and on the device of its input (buffers are cast), so the head works on any device.
    """

    def __init__(
        self, mean: torch.Tensor, std: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> None:
        super().__init__()
        self.register_buffer("mean", mean.to(torch.float64))
        self.register_buffer("std", std.to(torch.float64))
        self.register_buffer("weight", weight.to(torch.float64))
        self.register_buffer("bias", bias.to(torch.float64))
        self.n_features = int(weight.shape[0])
        self.n_targets = int(weight.shape[1])

    @classmethod
    def empty(cls, n_features: int, n_targets: int = 3) -> RidgeHead:
        """A zero head of the right shapes (to load a saved state_dict into)."""
        f, t = int(n_features), int(n_targets)
        return cls(torch.zeros(f), torch.ones(f), torch.zeros(f, t), torch.zeros(t))

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(A (F, T), b (T,)) in float64 with prediction = x @ A + b (original feature units)."""
        a = self.weight / self.std[:, None]
        return a, self.bias - self.mean @ a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dt = x.dtype
        z = (x - self.mean.to(dt)) / self.std.to(dt)
        return torch.addmm(self.bias.to(dt), z, self.weight.to(dt))


class RidgeAccumulator:
    """Float64 sufficient statistics of (features, targets) accumulated batch by batch.

    Args:
        n_features: F, feature dimension.
        n_targets: T, target dimension (3 for the increments).
        device: where the sums live (the device of the feature batches avoids transfers).
    """

    def __init__(self, n_features: int, n_targets: int = 3, device=None) -> None:
        self.n_features = int(n_features)
        self.n_targets = int(n_targets)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        f, t, kw = self.n_features, self.n_targets, {"dtype": torch.float64, "device": self.device}
        self.count = 0
        self.shift_x: torch.Tensor | None = None
        self.shift_y: torch.Tensor | None = None
        self.sum_x = torch.zeros(f, **kw)
        self.sum_y = torch.zeros(t, **kw)
        self.sum_xx = torch.zeros(f, f, **kw)
        self.sum_xy = torch.zeros(f, t, **kw)

    def update(self, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> None:
        """Add a batch: features x (B, F), targets y (B, T); any float dtype, any device."""
        x = _as_f64(x, self.device)
        y = _as_f64(y, self.device)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"x must be (B, {self.n_features}), got {tuple(x.shape)}")
        if y.ndim != 2 or y.shape != (x.shape[0], self.n_targets):
            raise ValueError(f"y must be ({x.shape[0]}, {self.n_targets}), got {tuple(y.shape)}")
        if x.shape[0] == 0:
            return
        if self.shift_x is None:
            self.shift_x = x.mean(0)
            self.shift_y = y.mean(0)
        xc = x - self.shift_x
        yc = y - self.shift_y
        self.count += int(x.shape[0])
        self.sum_x += xc.sum(0)
        self.sum_y += yc.sum(0)
        self.sum_xx.addmm_(xc.T, xc)
        self.sum_xy.addmm_(xc.T, yc)

    def moments(self) -> dict[str, torch.Tensor | int]:
        """Mean of x and y, centred scatter S_xx = sum (x-mu)(x-mu)^T and S_xy (float64)."""
        if self.count == 0 or self.shift_x is None or self.shift_y is None:
            raise ValueError("no data accumulated")
        n = self.count
        dx = self.sum_x / n
        dy = self.sum_y / n
        s_xx = self.sum_xx - n * torch.outer(dx, dx)
        s_xy = self.sum_xy - n * torch.outer(dx, dy)
        return {
            "count": n,
            "mean_x": self.shift_x + dx,
            "mean_y": self.shift_y + dy,
            "s_xx": 0.5 * (s_xx + s_xx.T),
            "s_xy": s_xy,
        }

    def solve(self, l2: float = 1e-4) -> RidgeHead:
        """Solve the standardised ridge problem once (float64); returns a ``RidgeHead`` (CPU)."""
        m = self.moments()
        return solve_ridge(m["count"], m["mean_x"], m["mean_y"], m["s_xx"], m["s_xy"], l2)


def solve_ridge(
    count: int,
    mean_x: torch.Tensor,
    mean_y: torch.Tensor,
    s_xx: torch.Tensor,
    s_xy: torch.Tensor,
    l2: float = 1e-4,
) -> RidgeHead:
    """Ridge solution from centred scatter matrices (see module docstring); float64 on CPU."""
    cpu = {"dtype": torch.float64, "device": "cpu"}
    mean_x, mean_y = mean_x.to(**cpu), mean_y.to(**cpu)
    s_xx, s_xy = s_xx.to(**cpu), s_xy.to(**cpu)
    denom = float(count) + 1.0
    std = torch.sqrt(torch.clamp(torch.diagonal(s_xx), min=0.0) / denom)
    std = torch.where(std < STD_FLOOR, torch.ones_like(std), std)
    r = s_xx / (denom * torch.outer(std, std))
    c = s_xy / (denom * std[:, None])
    a = r + float(l2) * torch.eye(r.shape[0], **cpu)
    chol, info = torch.linalg.cholesky_ex(a)
    if int(info) == 0:
        w = torch.cholesky_solve(c, chol)
    else:
        w = torch.linalg.lstsq(a, c, driver="gelsd").solution
    return RidgeHead(mean_x, std, w, mean_y)
