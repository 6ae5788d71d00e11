"""Surrogate feature extractors (docs/decisions.md, E13): shapes, values, kernel stats, freezing."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from ddmdyn.diffusion.network import DenseResidualDenoiser
from ddmdyn.surrogate.backbones import (
    DenseBackbone,
    DenseResidualBackbone,
    PolynomialFeatures,
    PretrainedDiffusionBackbone,
    RandomFourierFeatures,
    build_backbone,
)
from ddmdyn.surrogate.heads import LinearHead, MLPHead
from ddmdyn.surrogate.training import SurrogateModel


def _n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# -- polynomial -------------------------------------------------------------------------------


@pytest.mark.parametrize(("degree", "count"), [(1, 3), (2, 9), (3, 19), (4, 34)])
def test_polynomial_feature_count(degree, count):
    poly = PolynomialFeatures(degree)
    assert poly.n_features == count
    assert poly(torch.randn(5, 3)).shape == (5, count)


def test_polynomial_exact_values_in_sklearn_order():
    x, y, z = 2.0, 3.0, 5.0
    expected = [
        x, y, z,
        x * x, x * y, x * z, y * y, y * z, z * z,
        x**3, x * x * y, x * x * z, x * y * y, x * y * z, x * z * z, y**3, y * y * z, y * z * z,
        z**3,
    ]  # fmt: skip
    out = PolynomialFeatures(3)(torch.tensor([[x, y, z]], dtype=torch.float64))
    np.testing.assert_array_equal(out[0].numpy(), expected)


def test_polynomial_degree4_matches_brute_force_products():
    x = torch.randn(7, 3, dtype=torch.float64)
    out = PolynomialFeatures(4)(x)
    cols = []
    for d in range(1, 5):
        for combo in itertools.combinations_with_replacement(range(3), d):
            cols.append(torch.stack([x[:, i] for i in combo], dim=1).prod(dim=1))
    np.testing.assert_allclose(out.numpy(), torch.stack(cols, 1).numpy(), rtol=1e-14)
    assert not any(p.requires_grad for p in PolynomialFeatures(4).parameters())


# -- random Fourier ---------------------------------------------------------------------------


def test_rff_shape_seed_and_unit_norm():
    rff = RandomFourierFeatures(256, seed=3)
    x = torch.randn(10, 3)
    phi = rff(x)
    assert phi.shape == (10, 256) and rff.n_features == 256
    assert rff.weight.shape == (3, 128)
    # sin^2 + cos^2 = 1 per frequency, times 2/n over n/2 frequencies -> |phi|^2 = 1
    np.testing.assert_allclose((phi**2).sum(1).numpy(), 1.0, rtol=1e-5)
    torch.testing.assert_close(RandomFourierFeatures(256, seed=3)(x), phi)
    assert not torch.allclose(RandomFourierFeatures(256, seed=4)(x), phi)
    assert "weight" in rff.state_dict() and _n_params(rff) == 0


@pytest.mark.parametrize("wavelength", [1.0, 2.5])
def test_rff_kernel_approximates_gaussian_kernel(wavelength):
    n = 40_000  # Monte-Carlo std of the estimate <= 1/sqrt(n) = 0.005
    rff = RandomFourierFeatures(n, wavelength=wavelength, seed=0).double()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    direction = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    direction /= direction.norm(dim=1, keepdim=True)
    dist = torch.linspace(0.0, 0.45 * wavelength, 12, dtype=torch.float64)
    y = x + dist[:, None] * direction
    estimate = (rff(x) * rff(y)).sum(1)
    kernel = torch.exp(-2 * math.pi**2 * dist**2 / wavelength**2)
    assert kernel.min() < 0.1 < 0.9 < kernel.max()  # the test covers the kernel's range
    np.testing.assert_allclose(estimate.numpy(), kernel.numpy(), atol=0.03)


# -- dense networks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("widths", "params"), [([256], 1_795), ([256, 256], 67_587), ([256, 256, 256], 133_379)]
)
def test_dense_parameter_counts_match_spec(widths, params):
    backbone = DenseBackbone(widths)
    assert backbone.n_features == 256
    assert _n_params(SurrogateModel(backbone, LinearHead(256))) == params


def test_residual_backbone_matches_spec_and_starts_near_its_input_projection():
    backbone = DenseResidualBackbone()
    assert _n_params(SurrogateModel(backbone, LinearHead(256))) == 398_851
    assert all(blk.norm.elementwise_affine for blk in backbone.blocks)
    x = torch.randn(16, 3)
    h0 = backbone.input_proj(x)
    out = backbone(x)
    # gamma = 1e-6: each block adds a tiny residual
    assert (out - h0).abs().max() < 1e-4
    assert (out - h0).abs().max() > 0


def test_mlp_head_parameter_counts_match_spec():
    assert _n_params(MLPHead(1536)) == 394_243
    assert _n_params(MLPHead(256)) == 66_563


# -- pretrained diffusion features -------------------------------------------------------------


def _small_denoiser(seed=0):
    torch.manual_seed(seed)
    net = DenseResidualDenoiser(hidden=16, n_blocks=2, emb_dim=8)
    with torch.no_grad():  # make the residual branches matter
        for blk in net.blocks:
            blk.gamma.fill_(0.7)
    return net


def test_pretrained_features_equal_network_run_at_fixed_steps():
    net = _small_denoiser()
    times = [0, 7, 400]
    backbone = PretrainedDiffusionBackbone(net, times)
    x = torch.randn(9, 3)
    feats = backbone(x)
    assert backbone.n_features == 48 and feats.shape == (9, 48)
    for i, t in enumerate(times):
        # reference: the network's own forward path with a fixed integer step for the batch
        ref = net.hidden_state(x, torch.full((9,), t), film_mode="per_sample")
        torch.testing.assert_close(feats[:, 16 * i : 16 * (i + 1)], ref, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(feats[:, :16], feats[:, 16:32])  # times do differ


def test_pretrained_backbone_is_frozen():
    net = _small_denoiser()
    backbone = PretrainedDiffusionBackbone(net, [400])
    assert _n_params(backbone) == 0
    model = SurrogateModel(backbone, LinearHead(backbone.n_features))
    model(torch.randn(4, 3)).sum().backward()
    assert all(p.grad is None for p in backbone.parameters())
    model.train()
    assert not backbone.network.training


def test_untrained_variant_is_fresh_seeded_and_nearly_linear():
    net = _small_denoiser()
    fresh = PretrainedDiffusionBackbone(net, [0, 50], untrained=True, seed=1)
    again = PretrainedDiffusionBackbone(net, [0, 50], untrained=True, seed=1)
    other = PretrainedDiffusionBackbone(net, [0, 50], untrained=True, seed=2)
    x = torch.randn(6, 3)
    torch.testing.assert_close(fresh(x), again(x))
    assert not torch.allclose(fresh(x), other(x))
    assert not torch.allclose(fresh.network.input_proj.weight, net.input_proj.weight)
    # fresh gamma = 1e-6: features ~= input projection of x, duplicated over the times
    h0 = fresh.network.input_proj(x)
    torch.testing.assert_close(fresh(x), torch.cat([h0, h0], 1), atol=1e-4, rtol=0)


def test_build_backbone_kinds():
    assert build_backbone("dense", widths=[8, 4]).n_features == 4
    assert build_backbone("dense_residual", hidden=8, n_blocks=1).n_features == 8
    assert build_backbone("polynomial", degree=4).n_features == 34
    assert build_backbone("random_fourier", n_features=64, seed=0).n_features == 64
    assert build_backbone("pretrained", network=_small_denoiser(), times=[1, 2]).n_features == 32
    with pytest.raises(ValueError):
        build_backbone("nope")


def test_pretrained_from_checkpoint_reads_raw_or_ema_weights(tmp_path):
    from ddmdyn.diffusion.checkpoint import save_model
    from ddmdyn.diffusion.heads import make_head
    from ddmdyn.diffusion.model import DiffusionModel
    from ddmdyn.diffusion.schedules import make_schedule

    raw_net, ema_net = _small_denoiser(0), _small_denoiser(1)
    model = DiffusionModel(raw_net, make_schedule("cosine", 1000), make_head("velocity"))
    path = save_model(tmp_path / "ddm.pt", model, ema_state=ema_net.state_dict())
    x = torch.randn(5, 3)
    for weights, net in (("raw", raw_net), ("ema", ema_net)):
        loaded = build_backbone("pretrained", checkpoint=str(path), weights=weights, times=[0, 9])
        torch.testing.assert_close(loaded(x), PretrainedDiffusionBackbone(net, [0, 9])(x))
