"""Generation glue against independent truth: `generate_states` with an exact denoiser, and the
Frechet score computed through the real feature path (a saved dense_two surrogate, reloaded by
`feature_function`, inside `score_generated`) against the closed form for Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddmdyn.dynamics import NORM_SCALE, NORM_SHIFT
from ddmdyn.generation import generate_states, score_generated
from ddmdyn.surrogate.runner import (
    build_model,
    feature_function,
    make_spec,
    save_surrogate,
)
from tests.unit.test_assimilation_runner import COV_PHYS, MEAN_PHYS, OracleModel
from tests.unit.test_samplers import assert_matches_law, propagate_gaussian

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def test_generated_states_follow_the_data_law_in_physical_units():
    """With the exact denoiser of N(MEAN_PHYS, COV_PHYS) (normalised inside), the states come
    back in physical units with the sampler chain's law (sampling error only), which is the
    data law up to the discretisation error of K = 100 coarse steps."""
    model = OracleModel()
    n, K = 20_000, 100
    x = generate_states(model, n, K, "ddpm", 0.0, seed=2, batch_size=8192, device="cpu")
    assert x.shape == (n, 3) and x.dtype == np.float32
    mu, cov = propagate_gaussian(model.oracle, model.schedule, K, "ddpm", 0.0)
    scale, shift = torch.as_tensor(NORM_SCALE), torch.as_tensor(NORM_SHIFT)
    mu_phys, cov_phys = mu * scale + shift, cov * torch.outer(scale, scale)
    assert_matches_law(torch.as_tensor(x), mu_phys, cov_phys)
    np.testing.assert_allclose(mu_phys.numpy(), MEAN_PHYS, atol=0.1 * NORM_SCALE.min())
    sd = np.sqrt(np.diag(COV_PHYS))
    np.testing.assert_array_less(np.abs(cov_phys.numpy() - COV_PHYS), 0.1 * np.outer(sd, sd))


# --------------------------------------------------------------------------------------------
# Frechet surrogate distance through the saved feature network


def linear_dense_two(path, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Save a dense_two surrogate whose ReLUs never clip on |x| < 8, so that its features are
    the affine map A x + c; returns (A (256, 3), c (256,)) in float64."""
    model = build_model(make_spec("dense_two", seed), seed)
    gen = torch.Generator().manual_seed(seed)
    lin1, lin2 = model.backbone.net[0], model.backbone.net[2]
    with torch.no_grad():
        lin1.weight.uniform_(-0.3, 0.3, generator=gen)
        lin1.bias.fill_(10.0)  # |W1 x| <= 3 * 0.3 * 8 < 10 for |x_i| < 8: first ReLU never clips
        lin2.weight.uniform_(0.0, 0.02, generator=gen)  # >= 0 on positive inputs: nor the second
        lin2.bias.uniform_(0.0, 1.0, generator=gen)
    w1, b1 = (p.detach().double().numpy() for p in (lin1.weight, lin1.bias))
    w2, b2 = (p.detach().double().numpy() for p in (lin2.weight, lin2.bias))
    save_surrogate(path, model, make_spec("dense_two", seed))
    return w2 @ w1, w2 @ b1 + b2


def frechet_linear_features(x1: np.ndarray, x2: np.ndarray, A: np.ndarray) -> float:
    """Frechet distance of the Gaussian fits of features A x (+ c), from the 3x3 moments of x:
    the nonzero eigenvalues of (A S1 A^T)(A S2 A^T) are those of S1 G S2 G with G = A^T A."""
    m1, m2 = x1.mean(0), x2.mean(0)
    s1, s2 = np.cov(x1.T, ddof=1), np.cov(x2.T, ddof=1)
    G = A.T @ A
    eig = np.linalg.eigvals(s1 @ G @ s2 @ G).real.clip(min=0)
    d = A @ (m1 - m2)
    return float(d @ d + np.trace(G @ s1) + np.trace(G @ s2) - 2 * np.sqrt(eig).sum())


def test_frechet_score_of_two_gaussians_is_the_closed_form(tmp_path):
    path = tmp_path / "dense_two.pt"
    A, c = linear_dense_two(path)
    features = feature_function(path, batch_size=1000)
    rng = np.random.default_rng(1)
    m1, s1 = np.array([0.3, -0.2, 0.1]), 0.8
    m2, s2 = np.array([0.0, 0.0, 0.0]), 1.0
    gen = m1 + s1 * rng.standard_normal((3000, 3))
    ref = m2 + s2 * rng.standard_normal((9000, 3))
    # the reloaded feature network is the affine map (float32 round-off only)
    f = features(gen[:50]).double().numpy()
    np.testing.assert_allclose(f, gen[:50] @ A.T + c, rtol=1e-5, atol=1e-4)

    scores = score_generated(gen, ref, features, seed=0)
    got = float(scores["frechet"])
    # exact for the samples' own moments (the Gaussian fit is of the features)
    assert got == pytest.approx(frechet_linear_features(gen, ref, A), rel=1e-3)
    # and the population value |A (m1 - m2)|^2 + (s1 - s2)^2 tr(A^T A) within sampling error
    population = np.sum((A @ (m1 - m2)) ** 2) + (s1 - s2) ** 2 * np.trace(A.T @ A)
    assert got == pytest.approx(population, rel=0.15)
    # the floor compares two reference subsets: same law, so far below the score
    assert 0 <= float(scores["frechet_floor"]) < 0.2 * got
    assert scores.attrs["n_generated"] == 3000 and scores.attrs["n_reference"] == 9000
