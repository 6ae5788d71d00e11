"""DDPM / DDIM samplers checked with exact (oracle) denoisers of known distributions.

For Gaussian data N(m, C) the exact denoiser is linear in z, so every sampler step is an affine
map plus Gaussian noise and the law of the sampler output can be propagated analytically
(`propagate_gaussian`). Samples are compared with that law (tight: sampling tolerance only) and
the law itself with N(m, C) (the sampler's discretisation error, small for K = 1000).
"""

import math

import numpy as np
import pytest
import torch

from ddmdyn.diffusion.samplers import (
    coarse_to_fine,
    ddim_step_coefficients,
    ddpm_step_coefficients,
    reconstruct,
    sample,
)
from ddmdyn.diffusion.schedules import cosine_schedule, linear_schedule
from ddmdyn.rng import counter_normal

pytestmark = pytest.mark.usefixtures("torch_single_thread")


MEAN = torch.tensor([0.3, -0.5, 1.0], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.6, 0.1], [0.6, 0.8, -0.2], [0.1, -0.2, 0.5]], dtype=torch.float64)


class GaussianOracle:
    """Exact E[x0 | z_t] for x0 ~ N(mean, cov): mean + a C (a^2 C + s^2 I)^-1 (z - a mean)."""

    def __init__(self, schedule, mean=MEAN, cov=COV):
        self.schedule, self.mean, self.cov = schedule, mean, cov
        self.lam, self.U = torch.linalg.eigh(cov)

    def gain(self, t: int) -> torch.Tensor:
        a = self.schedule.alpha(t, dtype=torch.float64)
        s = self.schedule.sigma(t, dtype=torch.float64)
        return self.U @ torch.diag(a * self.lam / (a**2 * self.lam + s**2)) @ self.U.T

    def __call__(self, z, t):
        a = self.schedule.alpha(t, dtype=torch.float64)[:, None]
        s = self.schedule.sigma(t, dtype=torch.float64)[:, None]
        y = (z.double() - a * self.mean) @ self.U
        x0 = self.mean + (y * a * self.lam / (a**2 * self.lam + s**2)) @ self.U.T
        eps = (z.double() - a * x0) / s
        return x0.to(z.dtype), eps.to(z.dtype)


class MixtureOracle:
    """Exact E[x0 | z_t] for a mixture of isotropic Gaussians sum_j w_j N(m_j, s_j^2 I)."""

    def __init__(self, schedule, weights, means, stds):
        self.schedule = schedule
        self.logw = torch.log(torch.as_tensor(weights, dtype=torch.float64))
        self.means = torch.as_tensor(means, dtype=torch.float64)  # (J, D)
        self.var = torch.as_tensor(stds, dtype=torch.float64) ** 2  # (J,)

    def __call__(self, z, t):
        a = self.schedule.alpha(t, dtype=torch.float64)[:, None]
        s = self.schedule.sigma(t, dtype=torch.float64)[:, None]
        zd = z.double()
        v = a**2 * self.var + s**2  # (B, J) marginal variance of z per component
        diff = zd[:, None, :] - a[:, :, None] * self.means  # (B, J, D)
        D = z.shape[1]
        logp = self.logw - 0.5 * (diff**2).sum(-1) / v - 0.5 * D * torch.log(v)
        r = torch.softmax(logp, dim=1)  # (B, J)
        cond = self.means + (a * self.var / v)[:, :, None] * diff  # (B, J, D)
        x0 = (r[:, :, None] * cond).sum(1)
        return x0.to(z.dtype), ((zd - a * x0) / s).to(z.dtype)


def propagate_gaussian(oracle, schedule, K, sampler, eta, k0=None, mu=None, cov=None):
    """Exact mean/cov of the sampler output with the Gaussian oracle, from z ~ N(mu, cov)."""
    T = schedule.timesteps
    k0 = K if k0 is None else k0
    mu = torch.zeros(3, dtype=torch.float64) if mu is None else mu
    cov = torch.eye(3, dtype=torch.float64) if cov is None else cov
    eye = torch.eye(3, dtype=torch.float64)
    ab = schedule.alpha_bar
    for k in range(k0, 0, -1):
        t, s = coarse_to_fine(k, K, T), coarse_to_fine(k - 1, K, T)
        a = math.sqrt(ab[t])
        G = oracle.gain(t)  # x0_hat = G z + (I - a G) m
        x_lin, x_off = G, (eye - a * G) @ oracle.mean
        if s == 0:
            return x_lin @ mu + x_off, x_lin @ cov @ x_lin.T
        if sampler == "ddpm":
            cz, cx, var = ddpm_step_coefficients(ab[t], ab[s])
            L, off, nv = cz * eye + cx * x_lin, cx * x_off, var
        else:
            sig = math.sqrt(1 - ab[t])
            cx, ce, se = ddim_step_coefficients(ab[t], ab[s], eta)
            # eps_hat = (z - a x0_hat)/sig
            L = cx * x_lin + ce / sig * (eye - a * x_lin)
            off = cx * x_off - ce * a / sig * x_off
            nv = se**2
        mu = L @ mu + off
        cov = L @ cov @ L.T + nv * eye
    raise AssertionError("unreachable")


def assert_matches_law(x, mean, cov, n_sigma=5.0):
    """Sample mean and covariance of x (n, 3) agree with (mean, cov) within sampling error."""
    x = x.double()
    n = x.shape[0]
    m_hat = x.mean(0)
    se_m = torch.sqrt(torch.diag(cov) / n)
    assert torch.all((m_hat - mean).abs() < n_sigma * se_m), (m_hat, mean)
    c_hat = torch.cov(x.T)
    d = torch.diag(cov)
    se_c = torch.sqrt((d[:, None] * d[None, :] + cov**2) / n)
    assert torch.all((c_hat - cov).abs() < n_sigma * se_c), (c_hat, cov)


def test_coarse_to_fine_mapping():
    assert [coarse_to_fine(k, 100, 1000) for k in (0, 1, 13, 100)] == [0, 10, 130, 1000]
    assert coarse_to_fine(1, 3, 10) == 3 and coarse_to_fine(2, 3, 10) == 7


def test_ddpm_coefficients_match_posterior():
    """Closed form vs. Bayes with q(z_s|x) = N(sqrt(ab_s) x, 1 - ab_s) and
    q(z_t|z_s) = N(sqrt(a) z_s, 1 - a)."""
    for ab_t, ab_s in [(0.5, 0.9), (2.4e-7, 0.3), (0.97, 0.99996)]:
        a = ab_t / ab_s
        prec = 1 / (1 - ab_s) + a / (1 - a)  # posterior precision of z_s given x and z_t
        var = 1 / prec
        c_z = var * math.sqrt(a) / (1 - a)
        c_x = var * math.sqrt(ab_s) / (1 - ab_s)
        got = ddpm_step_coefficients(ab_t, ab_s)
        np.testing.assert_allclose(got, (c_z, c_x, var), rtol=1e-10)


def test_ddim_coefficients_limits():
    c_x, c_e, s_e = ddim_step_coefficients(0.5, 0.9, 0.0)
    assert (
        s_e == 0 and c_x == pytest.approx(math.sqrt(0.9)) and c_e == pytest.approx(math.sqrt(0.1))
    )
    # eta = 1 gives the DDPM posterior variance
    _, _, s1 = ddim_step_coefficients(0.5, 0.9, 1.0)
    assert s1**2 == pytest.approx(ddpm_step_coefficients(0.5, 0.9)[2], rel=1e-12)


@pytest.mark.parametrize(
    ("K", "sampler", "eta", "sched", "law_tol"),
    [
        (1000, "ddpm", 0.0, "cosine", 0.01),
        (100, "ddpm", 0.0, "cosine", 0.06),
        (1000, "ddim", 0.0, "cosine", 0.01),
        (100, "ddim", 0.0, "cosine", 0.04),
        (100, "ddim", 1.0, "cosine", 0.06),
        (100, "ddpm", 0.0, "linear", 0.12),
    ],
)
def test_gaussian_oracle_reproduces_law(K, sampler, eta, sched, law_tol):
    schedule = cosine_schedule() if sched == "cosine" else linear_schedule()
    oracle = GaussianOracle(schedule)
    mu, cov = propagate_gaussian(oracle, schedule, K, sampler, eta)
    # the sampler's own law is close to the data law (discretisation error only)
    assert torch.allclose(mu, MEAN, atol=law_tol)
    assert torch.allclose(cov, COV, atol=law_tol)
    n = 10_000 if K == 1000 else 20_000
    x = sample(oracle, schedule, n, K, sampler, eta, seed=1, batch_size=n)
    assert x.shape == (n, 3) and x.dtype == torch.float32
    assert_matches_law(x, mu, cov)


def test_mixture_oracle_ddpm():
    schedule = cosine_schedule()
    w = [0.2, 0.5, 0.3]
    means = [[-1.5, 0.0, 0.0], [1.5, 0.5, -0.5], [0.0, -1.5, 1.5]]
    stds = [0.3, 0.2, 0.4]
    oracle = MixtureOracle(schedule, w, means, stds)
    n = 20_000
    x = sample(oracle, schedule, n, 100, "ddpm", seed=5, batch_size=n).double()
    d = torch.cdist(x, torch.tensor(means, dtype=torch.float64))
    lab = d.argmin(1)
    for j in range(3):
        sel = x[lab == j]
        frac = sel.shape[0] / n
        assert abs(frac - w[j]) < 5 * math.sqrt(w[j] * (1 - w[j]) / n)
        torch.testing.assert_close(
            sel.mean(0),
            torch.tensor(means[j], dtype=torch.float64),
            atol=5 * stds[j] / math.sqrt(sel.shape[0]) + 0.01,
            rtol=0,
        )
        assert sel.std(0).mean().item() == pytest.approx(stds[j], rel=0.1)


def test_sample_independent_of_batch_size_and_split():
    schedule = cosine_schedule()
    oracle = MixtureOracle(schedule, [0.5, 0.5], [[-1, 0, 0], [1, 0, 0]], [0.3, 0.3])
    a = sample(oracle, schedule, 300, 50, "ddpm", seed=3, batch_size=300)
    b = sample(oracle, schedule, 300, 50, "ddpm", seed=3, batch_size=64)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    c = sample(oracle, schedule, 100, 50, "ddpm", seed=3, batch_size=37, first_index=200)
    torch.testing.assert_close(a[200:], c, atol=1e-5, rtol=1e-5)
    d = sample(oracle, schedule, 300, 50, "ddpm", seed=4, batch_size=300)
    assert (a - d).abs().mean() > 0.1


def test_reconstruct_from_k0_gives_conditional_law():
    """Diffuse x to step t0 and reconstruct: law = that of the chain from N(a x, s^2 I)."""
    schedule = cosine_schedule()
    oracle = GaussianOracle(schedule)
    K, k0 = 100, 30
    t0 = coarse_to_fine(k0, K, 1000)
    x = torch.tensor([1.0, 0.0, -0.5], dtype=torch.float64)
    a, s = math.sqrt(schedule.alpha_bar[t0]), math.sqrt(1 - schedule.alpha_bar[t0])
    mu, cov = propagate_gaussian(
        oracle,
        schedule,
        K,
        "ddpm",
        0.0,
        k0=k0,
        mu=a * x,
        cov=s**2 * torch.eye(3, dtype=torch.float64),
    )
    # Exact Bayes answer for comparison: mixture over z of N(E[x0|z], Var[x0|z])
    G = oracle.gain(t0)
    post_var = COV - a * G @ COV
    mean_exact = MEAN + G @ (a * x - a * MEAN)
    cov_exact = s**2 * G @ G.T + post_var
    assert torch.allclose(mu, mean_exact, atol=0.03)
    assert torch.allclose(cov, cov_exact, atol=0.05)
    n = 20_000
    ids = torch.arange(n)
    z = (a * x + s * counter_normal(11, ids, 0, n=3, dtype=torch.float64)).float()
    out = reconstruct(
        oracle, schedule, z, k0, K, "ddpm", noise=lambda k: counter_normal(11, ids, k, n=3)
    )
    assert_matches_law(out, mu, cov)
    # DDIM with eta = 0 is deterministic
    d1 = reconstruct(oracle, schedule, z[:50], k0, K, "ddim")
    d2 = reconstruct(oracle, schedule, z[:50], k0, K, "ddim")
    assert torch.equal(d1, d2)


def test_last_step_returns_x0_hat_without_clipping():
    schedule = cosine_schedule()

    def far(z, t):  # a denoiser whose x0 estimate is far outside any clipping range
        return torch.full_like(z, 50.0), torch.zeros_like(z)

    out = reconstruct(far, schedule, torch.zeros(4, 3), 1, 100, "ddpm")
    assert torch.all(out == 50.0)
    with pytest.raises(ValueError):
        reconstruct(far, schedule, torch.zeros(4, 3), 0, 100)
    with pytest.raises(ValueError):
        reconstruct(far, schedule, torch.zeros(4, 3), 3, 100, sampler="euler")
