"""Feature extractors ("backbones") of the surrogate models (docs/decisions.md, E13).

Every backbone maps normalised states x (B, 3) to features (B, n_features) and exposes
``n_features``. Trainable: ``DenseBackbone``, ``DenseResidualBackbone``. Fixed (no trainable
parameter): ``PolynomialFeatures``, ``RandomFourierFeatures``, ``PretrainedDiffusionBackbone``.
All are computed in torch on the device of the input.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "BACKBONE_KINDS",
    "DenseBackbone",
    "DenseResidualBackbone",
    "PolynomialFeatures",
    "PretrainedDiffusionBackbone",
    "RandomFourierFeatures",
    "build_backbone",
    "freeze",
    "polynomial_exponents",
]

DEFAULT_TIMES: tuple[int, ...] = (0, 50, 100, 200, 400, 600)


def freeze(module: nn.Module) -> nn.Module:
    """Set requires_grad False on every parameter and switch to eval mode; returns the module."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


class DenseBackbone(nn.Module):
    """Linear(n_in -> w_1) ReLU [-> Linear(w_i -> w_{i+1}) ReLU]...; features = last width."""

    def __init__(self, widths: Sequence[int] = (256, 256), n_in: int = 3) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths:
            raise ValueError("widths must not be empty")
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise([n_in, *widths]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.n_features = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _ResidualBlock(nn.Module):
    """LayerNorm (affine) -> Linear -> ReLU -> Linear -> x gamma -> + residual."""

    def __init__(self, hidden: int, mult: int, layer_scale_init: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=True)
        self.lin1 = nn.Linear(hidden, hidden * mult)
        self.lin2 = nn.Linear(hidden * mult, hidden)
        self.gamma = nn.Parameter(torch.full((hidden,), float(layer_scale_init)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(h, self.lin2(torch.relu(self.lin1(self.norm(h)))), self.gamma)


class DenseResidualBackbone(nn.Module):
    """Linear(n_in -> hidden), then ``n_blocks`` residual blocks without time conditioning."""

    def __init__(
        self,
        hidden: int = 256,
        n_blocks: int = 3,
        mult: int = 1,
        layer_scale_init: float = 1e-6,
        n_in: int = 3,
    ) -> None:
        super().__init__()
        self.input_proj = nn.Linear(n_in, hidden)
        self.blocks = nn.Sequential(
            *(_ResidualBlock(hidden, mult, layer_scale_init) for _ in range(n_blocks))
        )
        self.n_features = int(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.input_proj(x))


def polynomial_exponents(degree: int, n_in: int = 3) -> torch.Tensor:
    """Exponents (n_monomials, n_in) of all monomials of total degree 1..degree.

    Order as sklearn's PolynomialFeatures(include_bias=False): by degree, then
    combinations-with-replacement of the variables in lexicographic order
    (x, y, z, x^2, xy, xz, y^2, yz, z^2, x^3, ...). 34 monomials for degree 4 and 3 inputs.
    """
    rows = []
    for d in range(1, int(degree) + 1):
        for combo in itertools.combinations_with_replacement(range(n_in), d):
            e = [0] * n_in
            for i in combo:
                e[i] += 1
            rows.append(e)
    return torch.tensor(rows, dtype=torch.int64)


class PolynomialFeatures(nn.Module):
    """Every monomial of the inputs up to ``degree``, no constant (docs/decisions.md, E13)."""

    def __init__(self, degree: int = 2, n_in: int = 3) -> None:
        super().__init__()
        if degree < 1:
            raise ValueError("degree must be >= 1")
        self.degree = int(degree)
        self.register_buffer("exponents", polynomial_exponents(degree, n_in), persistent=False)
        self.n_features = int(self.exponents.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # powers[k] = x**k for k = 0..degree: (degree+1, B, n_in); gather one power per exponent
        powers = [torch.ones_like(x), x]
        for _ in range(2, self.degree + 1):
            powers.append(powers[-1] * x)
        table = torch.stack(powers)  # (degree+1, B, n_in)
        e = self.exponents  # (F, n_in)
        cols = torch.arange(e.shape[1], device=x.device)
        # (F, n_in, B) -> product over the inputs -> (B, F)
        picked = table[e, :, cols.expand_as(e)]
        return picked.prod(dim=1).transpose(0, 1)


class RandomFourierFeatures(nn.Module):
    """phi(x) = sqrt(2/n) [sin(2 pi x W / lambda), cos(2 pi x W / lambda)], W ~ N(0, 1) frozen.

    W (n_in, n/2) is drawn from a torch generator seeded with ``seed`` and stored as a buffer (so
    it is saved with the model and follows ``.to(device)``). For W ~ N(0, I) the feature inner
    product approximates the Gaussian kernel exp(-2 pi^2 |x - y|^2 / lambda^2).
    """

    def __init__(
        self, n_features: int = 512, wavelength: float = 1.0, seed: int = 0, n_in: int = 3
    ) -> None:
        super().__init__()
        if n_features < 2 or n_features % 2:
            raise ValueError("n_features must be even and >= 2")
        gen = torch.Generator().manual_seed(int(seed))
        self.register_buffer("weight", torch.randn(n_in, n_features // 2, generator=gen))
        self.n_features = int(n_features)
        self.wavelength = float(wavelength)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arg = (x @ self.weight.to(x.dtype)) * (2.0 * math.pi / self.wavelength)
        return math.sqrt(2.0 / self.n_features) * torch.cat([arg.sin(), arg.cos()], dim=-1)


class PretrainedDiffusionBackbone(nn.Module):
    """Frozen DDM denoiser as feature extractor (docs/decisions.md, E13 "pretrained").

    Features are ``network.features(x, times)`` (B, n_times, hidden) flattened time-major to
    (B, n_times * hidden): the clean state passed through the input projection and every residual
    block with a static FiLM per diffusion time. All parameters are frozen.

    Args:
        network: a ``DenseResidualDenoiser`` (or anything with ``features`` and ``hparams``).
        times: diffusion steps whose FiLM is used; the paper uses (0, 50, 100, 200, 400, 600).
        untrained: replace the weights by a fresh random initialisation of the same architecture
            (built from ``network.hparams``), drawn under ``torch.manual_seed(seed)``.
        seed: seed of that initialisation.
    """

    def __init__(
        self,
        network: nn.Module,
        times: Sequence[int] = DEFAULT_TIMES,
        untrained: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if untrained:
            network = _fresh_copy(network, seed)
        self.network = freeze(network)
        self.times = tuple(int(t) for t in times)
        if not self.times:
            raise ValueError("times must not be empty")
        hidden = int(getattr(network, "hparams", {}).get("hidden", 0)) or _probe_hidden(network)
        self.n_features = len(self.times) * hidden

    def train(self, mode: bool = True) -> PretrainedDiffusionBackbone:
        """The wrapped network stays in eval mode (it is frozen)."""
        super().train(mode)
        self.network.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network.features(x, self.times).reshape(x.shape[0], -1)

    @classmethod
    def from_checkpoint(
        cls,
        path: str,
        times: Sequence[int] = DEFAULT_TIMES,
        weights: str = "raw",
        untrained: bool = False,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> PretrainedDiffusionBackbone:
        """Build from a diffusion model file (``load_diffusion_model``), raw or EMA weights."""
        from ddmdyn.diffusion.checkpoint import load_diffusion_model

        model = load_diffusion_model(path, weights=weights, device=device or "cpu")
        return cls(model.network, times=times, untrained=untrained, seed=seed)


def _fresh_copy(network: nn.Module, seed: int) -> nn.Module:
    hparams = getattr(network, "hparams", None)
    if hparams is None:
        raise ValueError("an untrained copy needs the network's constructor hparams")
    device = next(network.parameters()).device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        fresh = type(network)(**dict(hparams))
    return fresh.to(device)


def _probe_hidden(network: nn.Module) -> int:
    device = next(network.parameters()).device
    with torch.no_grad():
        return int(network.features(torch.zeros(1, 3, device=device), [0]).shape[-1])


BACKBONE_KINDS = ("dense", "dense_residual", "polynomial", "random_fourier", "pretrained")


def build_backbone(kind: str, **params: Any) -> nn.Module:
    """Backbone by name with its keyword parameters.

    kinds: ``dense`` (widths), ``dense_residual`` (hidden, n_blocks, mult, layer_scale_init),
    ``polynomial`` (degree), ``random_fourier`` (n_features, wavelength, seed), ``pretrained``
    (network=<module> or checkpoint=<path> [+ weights, device]; times, untrained, seed).
    """
    if kind == "dense":
        return DenseBackbone(**params)
    if kind == "dense_residual":
        return DenseResidualBackbone(**params)
    if kind == "polynomial":
        return PolynomialFeatures(**params)
    if kind == "random_fourier":
        return RandomFourierFeatures(**params)
    if kind == "pretrained":
        params = dict(params)
        if "network" in params:
            return PretrainedDiffusionBackbone(params.pop("network"), **params)
        if "checkpoint" in params:
            return PretrainedDiffusionBackbone.from_checkpoint(params.pop("checkpoint"), **params)
        raise ValueError("pretrained backbone needs `network` or `checkpoint`")
    raise ValueError(f"unknown backbone kind {kind!r}; expected one of {BACKBONE_KINDS}")
