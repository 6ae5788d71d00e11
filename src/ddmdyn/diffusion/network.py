"""Dense residual denoiser with FiLM time conditioning (spec 2.2).

Architecture (defaults = the paper, 1,185,283 parameters):
    emb(t)  = [sin(t f), cos(t f)], f_k = exp(-ln(max_freq) k/(emb_dim/2 - 1)), raw integer t
    h       = Linear(n_dim -> hidden)(z)
    block:  n = LayerNorm(h) (no affine); (scale, shift) = Linear(emb_dim -> 2 hidden)(emb(t))
            h = h + gamma * Linear(ReLU(Linear(n * (1 + scale) + shift)))
    out     = Linear(hidden -> n_dim)(h)

FiLM depends on the integer step only. ``film_mode="table"`` (default) therefore computes the
embedding and the FiLM Linear once per *distinct* step in the batch and gathers rows, which removes
about two thirds of the FLOPs at batch 16,384; ``film_mode="per_sample"`` is the straightforward
reference path (one embedding and one FiLM Linear per sample). Both give the same function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DenseResidualDenoiser", "ResidualFiLMBlock", "SinusoidalEmbedding"]

FILM_MODES = ("table", "per_sample")


class SinusoidalEmbedding(nn.Module):
    """Sinusoidal embedding of raw (unscaled) steps: (...,) -> (..., dim), sin half first."""

    def __init__(self, dim: int = 512, max_freq: float = 1e4) -> None:
        super().__init__()
        if dim % 2 or dim < 4:
            raise ValueError("embedding dim must be even and >= 4")
        half = dim // 2
        k = torch.arange(half, dtype=torch.float64)
        freqs = torch.exp(-math.log(max_freq) * k / (half - 1)).to(torch.float32)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        arg = t.to(self.freqs.dtype).unsqueeze(-1) * self.freqs
        return torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)


class ResidualFiLMBlock(nn.Module):
    """LayerNorm (no affine) -> FiLM -> Linear-ReLU-Linear -> layer scale -> residual add."""

    def __init__(self, hidden: int, emb_dim: int, layer_scale_init: float) -> None:
        super().__init__()
        self.hidden = hidden
        self.film = nn.Linear(emb_dim, 2 * hidden)
        self.lin1 = nn.Linear(hidden, hidden)
        self.lin2 = nn.Linear(hidden, hidden)
        self.gamma = nn.Parameter(torch.full((hidden,), float(layer_scale_init)))

    def forward(self, h: torch.Tensor, film: torch.Tensor) -> torch.Tensor:
        """h (..., hidden); film (..., 2*hidden) = (scale, shift), broadcastable against h."""
        n = F.layer_norm(h, (self.hidden,), eps=1e-5)
        scale, shift = film.split(self.hidden, dim=-1)
        n = torch.addcmul(shift, n, scale + 1.0)
        return torch.addcmul(h, self.lin2(F.relu(self.lin1(n))), self.gamma)


class DenseResidualDenoiser(nn.Module):
    """Residual MLP denoiser: forward(z (B, n_dim), t (B,) integer steps) -> (B, n_dim)."""

    def __init__(
        self,
        n_dim: int = 3,
        hidden: int = 256,
        n_blocks: int = 3,
        emb_dim: int = 512,
        max_freq: float = 1e4,
        layer_scale_init: float = 1e-6,
        film_mode: str = "table",
    ) -> None:
        super().__init__()
        if film_mode not in FILM_MODES:
            raise ValueError(f"film_mode must be one of {FILM_MODES}")
        self.hparams = {
            "n_dim": int(n_dim),
            "hidden": int(hidden),
            "n_blocks": int(n_blocks),
            "emb_dim": int(emb_dim),
            "max_freq": float(max_freq),
            "layer_scale_init": float(layer_scale_init),
        }
        self.film_mode = film_mode
        self.embedding = SinusoidalEmbedding(emb_dim, max_freq)
        self.input_proj = nn.Linear(n_dim, hidden)
        self.blocks = nn.ModuleList(
            ResidualFiLMBlock(hidden, emb_dim, layer_scale_init) for _ in range(n_blocks)
        )
        self.output_proj = nn.Linear(hidden, n_dim)

    # -- FiLM -----------------------------------------------------------------------------------
    def film_table(self, steps: torch.Tensor) -> list[torch.Tensor]:
        """FiLM (scale | shift) rows for integer steps (U,): one (U, 2*hidden) tensor per block."""
        emb = self.embedding(steps)
        return [blk.film(emb) for blk in self.blocks]

    def _films(self, t: torch.Tensor | int, batch: int, device, mode: str) -> list[torch.Tensor]:
        if not isinstance(t, torch.Tensor):
            steps = torch.tensor([int(t)], device=device)
            return self.film_table(steps)  # (1, 2h) rows broadcast over the batch
        t = t.reshape(-1).to(device)
        if t.numel() != batch:
            raise ValueError(f"t has {t.numel()} entries for a batch of {batch}")
        if mode == "per_sample":
            return self.film_table(t)
        if mode != "table":
            raise ValueError(f"film_mode must be one of {FILM_MODES}")
        steps, inverse = torch.unique(t, return_inverse=True)
        if steps.numel() == 1:
            return self.film_table(steps)
        return [f.index_select(0, inverse) for f in self.film_table(steps)]

    # -- forward --------------------------------------------------------------------------------
    def hidden_state(
        self, z: torch.Tensor, t: torch.Tensor | int, film_mode: str | None = None
    ) -> torch.Tensor:
        """Last-block activations (B, hidden) at steps t (before the output Linear)."""
        films = self._films(t, z.shape[0], z.device, film_mode or self.film_mode)
        h = self.input_proj(z)
        for blk, film in zip(self.blocks, films, strict=True):
            h = blk(h, film)
        return h

    def forward(
        self, z: torch.Tensor, t: torch.Tensor | int, film_mode: str | None = None
    ) -> torch.Tensor:
        """Network output (B, n_dim) for noisy states z (B, n_dim) at integer steps t (B,) or int."""
        return self.output_proj(self.hidden_state(z, t, film_mode))

    def features(self, x: torch.Tensor, times: Sequence[int]) -> torch.Tensor:
        """Frozen-feature view (spec 4.2 "pretrained"): x (B, n_dim) -> (B, len(times), hidden).

        The state x is fed without noise; each time gets its own static FiLM, and the hidden state
        is carried through all blocks separately per time. t = 0 is allowed (never trained).
        """
        device = x.device
        steps = torch.as_tensor(list(times), dtype=torch.int64, device=device)
        films = self.film_table(steps)  # (n_times, 2h) per block
        h = self.input_proj(x).unsqueeze(1)  # (B, 1, h) -> broadcast to (B, n_times, h)
        for blk, film in zip(self.blocks, films, strict=True):
            h = blk(h, film)
        return h.expand(x.shape[0], steps.numel(), h.shape[-1])
