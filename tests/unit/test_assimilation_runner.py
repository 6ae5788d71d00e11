"""The DA glue (`assimilation.runner`) against independent truth.

`build_method` must give each method of `experiments.DA_METHODS` the right kind, member count,
covariance (diagonal or full) and the right meaning of its parameter (std inflation for the static
ensembles and 3D-Var, covariance inflation for the ETKF): checked against the Kalman / OI update
written out here. `diffusion_source` (normalise -> partial diffusion ensemble -> denormalise) is run
with the exact denoiser of a Gaussian law; its members in physical units must follow the law of the
sampler chain propagated analytically (which is close to the Bayes conditional law), and the EnOI
gain it implies must equal the closed form P (P + R)^-1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ddmdyn.assimilation.methods import ETKF, EnOI
from ddmdyn.assimilation.runner import (
    DiffusionEnsembleSettings,
    build_method,
    diffusion_source,
)
from ddmdyn.assimilation.sources import CallableSource
from ddmdyn.catalogue import DA_METHODS
from ddmdyn.diffusion.samplers import coarse_to_fine
from ddmdyn.diffusion.schedules import cosine_schedule
from ddmdyn.dynamics import NORM_SCALE, NORM_SHIFT
from tests.unit.test_samplers import GaussianOracle, assert_matches_law, propagate_gaussian

#: A Lorenz-63-like climatological law in physical units: x and y strongly correlated.
MEAN_PHYS = np.array([0.5, 0.3, 23.0])
COV_PHYS = np.array([[62.0, 50.0, 1.0], [50.0, 80.0, -2.0], [1.0, -2.0, 75.0]])
OBS_STD = 2.0


pytestmark = pytest.mark.usefixtures("torch_single_thread")


class OracleModel(nn.Module):
    """Stands in for a trained `DiffusionModel`: the exact denoiser of N(MEAN_PHYS, COV_PHYS)
    expressed in normalised space, with one dummy parameter (the source reads its device)."""

    def __init__(self) -> None:
        super().__init__()
        self.schedule = cosine_schedule()
        self.mean = torch.as_tensor((MEAN_PHYS - NORM_SHIFT) / NORM_SCALE)
        self.cov = torch.as_tensor(COV_PHYS / np.outer(NORM_SCALE, NORM_SCALE))
        self.oracle = GaussianOracle(self.schedule, self.mean, self.cov)
        self.anchor = nn.Parameter(torch.zeros(()))

    def denoise(self, z: torch.Tensor, t: torch.Tensor):
        return self.oracle(z, t)


def chain_law_physical(model: OracleModel, x_b_phys: np.ndarray, S: int, K: int):
    """Exact (mean, cov) in physical units of the ensemble members around x_b: diffuse the
    normalised x_b to fine step t(S) and run the DDPM chain with the Gaussian oracle; plus the
    Bayes law of the same construction with an ideal reverse process."""
    sched = model.schedule
    t0 = coarse_to_fine(S, K, sched.timesteps)
    a, s = math.sqrt(sched.alpha_bar[t0]), math.sqrt(1 - sched.alpha_bar[t0])
    x = torch.as_tensor((x_b_phys - NORM_SHIFT) / NORM_SCALE)
    eye = torch.eye(3, dtype=torch.float64)
    mu, cov = propagate_gaussian(
        model.oracle, sched, K, "ddpm", 0.0, k0=S, mu=a * x, cov=s**2 * eye
    )
    G = model.oracle.gain(t0)
    bayes_mu = model.mean + G @ (a * x - a * model.mean)
    bayes_cov = s**2 * G @ G.T + (model.cov - a * G @ model.cov)
    scale = torch.as_tensor(NORM_SCALE)
    shift = torch.as_tensor(NORM_SHIFT)

    def phys(m, c):
        return m * scale + shift, c * torch.outer(scale, scale)

    return phys(mu, cov), phys(bayes_mu, bayes_cov)


# --------------------------------------------------------------------------------------------
# diffusion_source


@pytest.mark.parametrize("S", [5, 30])
def test_diffusion_source_members_follow_the_conditional_law_in_physical_units(S):
    model = OracleModel()
    K, n = 100, 6000
    settings = DiffusionEnsembleSettings(n_coarse_steps=K, sampler="ddpm")
    source = diffusion_source(model, n, S, settings, seed=3)
    x_b = np.array([[5.0, 7.0, 30.0], [-9.0, -11.0, 18.0]])
    ens = source(x_b, cycle=4, truth_index=np.array([0, 5]))
    assert ens.shape == (2, n, 3) and ens.dtype == np.float64
    for b in range(2):
        (mu, cov), (bayes_mu, bayes_cov) = chain_law_physical(model, x_b[b], S, K)
        # the sampler chain's own law vs. the Bayes law: discretisation error only
        scale = torch.as_tensor(NORM_SCALE)
        assert torch.all((mu - bayes_mu).abs() < 0.03 * scale)
        assert torch.all((cov - bayes_cov).abs() < 0.05 * torch.outer(scale, scale))
        # the members: sampling error only
        assert_matches_law(torch.as_tensor(ens[b]), mu, cov)
    # members of truth 5 do not depend on the batch they are generated in
    alone = source(x_b[1:], cycle=4, truth_index=np.array([5]))
    np.testing.assert_allclose(alone[0], ens[1], rtol=0, atol=1e-4)


def test_diffusion_source_enoi_gain_is_the_closed_form():
    """EnOI with a large diffusion ensemble is linear in the innovation; its gain (columns from
    three unit innovations) equals P (P + R)^-1 with P the members' exact covariance."""
    model = OracleModel()
    K, S, n = 100, 20, 8000
    settings = DiffusionEnsembleSettings(n_coarse_steps=K, sampler="ddpm")
    enoi = EnOI(diffusion_source(model, n, S, settings, seed=7), OBS_STD)
    x_b = np.array([3.0, 4.0, 28.0])
    (_, P), (_, P_bayes) = chain_law_physical(model, x_b, S, K)
    R = OBS_STD**2 * np.eye(3)
    gain = P.numpy() @ np.linalg.inv(P.numpy() + R)
    gain_bayes = P_bayes.numpy() @ np.linalg.inv(P_bayes.numpy() + R)
    forecast = np.repeat(x_b[None, None, :], 3, axis=0)  # (3 truths, 1, 3), same background
    obs = x_b + np.eye(3)  # unit innovation in each variable
    step = enoi(forecast, obs, cycle=2, truth_index=np.zeros(3, dtype=np.int64))
    implied = (step.state[:, 0, :] - x_b).T  # column j = response to innovation e_j
    np.testing.assert_allclose(implied, gain, atol=0.02)
    np.testing.assert_allclose(implied, gain_bayes, atol=0.03)
    # the background ensemble is the source's physical ensemble around x_b
    np.testing.assert_allclose(step.background.mean(1), np.repeat(x_b[None], 3, 0), atol=1.0)


def test_build_method_ddm_uses_the_diffusion_source_with_its_members_and_step():
    model = OracleModel()
    settings = DiffusionEnsembleSettings(n_coarse_steps=20)
    x_b = np.array([[1.0, 2.0, 20.0]])
    for name in ("ddm_enoi_50", "ddm_enoi_10"):
        method = build_method(name, 4.0, COV_PHYS, OBS_STD, seed=9, diffusion_model=model,
                              diffusion_settings=settings)  # fmt: skip
        assert isinstance(method, EnOI) and method.n_state == 1 and method.obs_std == OBS_STD
        assert isinstance(method.source, CallableSource)
        ens = method.source(x_b, 3, np.array([0]))
        assert ens.shape == (1, DA_METHODS[name].n_members, 3)
        direct = diffusion_source(model, DA_METHODS[name].n_members, 4, settings, 9)
        np.testing.assert_array_equal(ens, direct(x_b, 3, np.array([0])))
    with pytest.raises(ValueError, match="needs a diffusion model"):
        build_method("ddm_enoi_50", 4.0, COV_PHYS, OBS_STD, seed=0)
    with pytest.raises(ValueError, match=r"outside 1\.\.20"):
        build_method("ddm_enoi_50", 21, COV_PHYS, OBS_STD, 0, model, settings)


# --------------------------------------------------------------------------------------------
# build_method: static methods and the ETKF against the Kalman update


def _kalman_mean(x_b: np.ndarray, P: np.ndarray, y: np.ndarray) -> np.ndarray:
    R = OBS_STD**2 * np.eye(3)
    return x_b + P @ np.linalg.solve(P + R, y - x_b)


def test_every_method_has_its_kind_and_members():
    kinds = {"ddm_enoi", "enoi_diag", "enoi_full", "var3d", "etkf"}
    assert {spec.kind for spec in DA_METHODS.values()} == kinds
    for name, spec in DA_METHODS.items():
        if spec.uses_diffusion:
            continue
        method = build_method(name, 1.3, COV_PHYS, OBS_STD, seed=1)
        if spec.kind == "etkf":
            assert isinstance(method, ETKF)
            assert method.n_state == method.n_members == spec.n_members
            assert method.inflation == 1.3
        else:
            assert isinstance(method, EnOI) and method.n_state == 1
            ens = method.source(np.zeros((2, 3)), 0, np.arange(2))
            assert ens.shape == (2, spec.n_members, 3)
        assert method.obs_std == OBS_STD


@pytest.mark.parametrize(("name", "diagonal"), [("enoi_diag", True), ("enoi_full", False)])
def test_static_enoi_covariance_and_std_inflation(name, diagonal):
    """Background ensembles have mean x_b and expected covariance inflation^2 C (C diagonal for
    enoi_diag); each analysis is the Kalman update with the ensemble's own covariance."""
    infl = 1.7
    method = build_method(name, infl, COV_PHYS, OBS_STD, seed=2)
    C = np.diag(np.diag(COV_PHYS)) if diagonal else COV_PHYS
    x_b = np.array([[2.0, -3.0, 25.0]])
    y = np.array([[4.0, -1.0, 22.0]])
    covs = []
    for cycle in range(300):
        step = method(x_b[:, None, :], y, cycle, np.array([0]))
        ens = step.background[0]
        np.testing.assert_allclose(ens.mean(0), x_b[0], atol=1e-10)
        P = np.cov(ens.T, ddof=1)
        covs.append(P)
        np.testing.assert_allclose(step.state[0, 0], _kalman_mean(x_b[0], P, y[0]), atol=1e-9)
    mean_cov = np.mean(covs, axis=0)
    # 300 x 49 degrees of freedom: relative sampling error ~ 1.2 %
    tol = 0.06 * infl**2 * np.sqrt(np.outer(np.diag(C), np.diag(C)))
    np.testing.assert_array_less(np.abs(mean_cov - infl**2 * C), tol)


def test_var3d_is_optimal_interpolation_with_std_inflation():
    infl = 1.4
    method = build_method("var3d", infl, COV_PHYS, OBS_STD, seed=0)
    x_b = np.array([[1.0, 2.0, 24.0], [-3.0, 0.0, 30.0]])
    y = np.array([[2.0, 0.0, 20.0], [0.0, 1.0, 31.0]])
    step = method(x_b[:, None, :], y, 0, np.arange(2))
    for b in range(2):
        want = _kalman_mean(x_b[b], infl**2 * COV_PHYS, y[b])
        np.testing.assert_allclose(step.state[b, 0], want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["etkf_3", "etkf_12"])
def test_etkf_inflation_multiplies_the_covariance(name):
    """ETKF analysis mean = Kalman update with P = inflation x sample covariance; analysis
    covariance = (I - K) P (the square-root filter's exact property)."""
    rho = 1.3
    n = DA_METHODS[name].n_members
    method = build_method(name, rho, COV_PHYS, OBS_STD, seed=0)
    rng = np.random.default_rng(4)
    forecast = rng.multivariate_normal([0.0, 1.0, 24.0], COV_PHYS / 4, size=(1, n))
    y = np.array([[1.0, 0.0, 26.0]])
    step = method(forecast, y, 0, np.array([0]))
    x_f = forecast[0].mean(0)
    P = rho * np.cov(forecast[0].T, ddof=1)
    np.testing.assert_allclose(step.state[0].mean(0), _kalman_mean(x_f, P, y[0]), atol=1e-9)
    K = P @ np.linalg.inv(P + OBS_STD**2 * np.eye(3))
    np.testing.assert_allclose(np.cov(step.state[0].T, ddof=1), (np.eye(3) - K) @ P, atol=1e-8)
    assert step.state.shape == (1, n, 3)
