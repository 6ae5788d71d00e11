"""Partial-diffusion ensembles (docs/decisions.md, E18, D3)."""

import math

import pytest
import torch

from ddmdyn.diffusion.ensemble import diffusion_ensemble
from ddmdyn.diffusion.heads import make_head
from ddmdyn.diffusion.model import DiffusionModel
from ddmdyn.diffusion.network import DenseResidualDenoiser
from ddmdyn.diffusion.samplers import coarse_to_fine, reconstruct
from ddmdyn.diffusion.schedules import cosine_schedule
from ddmdyn.rng import counter_normal

MEAN = torch.tensor([0.0, 0.5, -0.5], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.8, 0.0], [0.8, 1.0, 0.1], [0.0, 0.1, 0.6]], dtype=torch.float64)


pytestmark = pytest.mark.usefixtures("torch_single_thread")


class GaussianOracle:
    """Exact E[x0 | z_t] for x0 ~ N(MEAN, COV)."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.lam, self.U = torch.linalg.eigh(COV)

    def gain(self, t):
        a = math.sqrt(self.schedule.alpha_bar[t])
        s2 = 1 - self.schedule.alpha_bar[t].item()
        return self.U @ torch.diag(a * self.lam / (a**2 * self.lam + s2)) @ self.U.T

    def __call__(self, z, t):
        a = self.schedule.alpha(t, dtype=torch.float64)[:, None]
        s = self.schedule.sigma(t, dtype=torch.float64)[:, None]
        y = (z.double() - a * MEAN) @ self.U
        x0 = MEAN + (y * a * self.lam / (a**2 * self.lam + s**2)) @ self.U.T
        return x0.to(z.dtype), ((z.double() - a * x0) / s).to(z.dtype)


def _states(n=5):
    return torch.linspace(-1, 1, n * 3).reshape(n, 3)


def test_shape_and_matches_straightforward_loop():
    """Equal to reconstruct() per (state, S) with the documented noise keys."""
    sched = cosine_schedule()
    oracle = GaussianOracle(sched)
    x = _states(3)
    ids = torch.tensor([7, 2, 11])
    S_list, M, K, seed, cycle = [1, 4, 13], 6, 100, 5, 42
    ens = diffusion_ensemble(oracle, sched, x, M, S_list, K, seed, ids, cycle)
    assert ens.shape == (3, 3, M, 3)
    mem = torch.arange(M)
    for b in range(3):
        for j, S in enumerate(S_list):
            t = coarse_to_fine(S, K, 1000)
            a, s = sched.alpha(t).item(), sched.sigma(t).item()
            eps = counter_normal(seed, int(ids[b]), cycle, S, mem, 0, 0, n=3)
            z = a * x[b] + s * eps

            def noise(k, b=b, S=S):
                return counter_normal(seed, int(ids[b]), cycle, S, mem, 1, k, n=3)

            ref = reconstruct(oracle, sched, z, S, K, "ddpm", noise=noise)
            torch.testing.assert_close(ens[b, j], ref, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("use_network", [False, True])
def test_independent_of_batching(use_network):
    sched = cosine_schedule()
    if use_network:
        torch.manual_seed(0)
        net = DenseResidualDenoiser(hidden=32, n_blocks=2, emb_dim=16)
        with torch.no_grad():
            for blk in net.blocks:
                blk.gamma.fill_(0.5)
        den = DiffusionModel(net, sched, make_head("velocity")).eval()
    else:
        den = GaussianOracle(sched)
    x = _states(4)
    ids = torch.tensor([0, 1, 2, 3])
    full = diffusion_ensemble(den, sched, x, 5, [2, 8, 20], 100, 9, ids, cycle=3)
    part = diffusion_ensemble(den, sched, x[2:], 5, [8], 100, 9, ids[2:], cycle=3)
    torch.testing.assert_close(part[:, 0], full[2:, 1], atol=1e-5, rtol=1e-5)
    one = diffusion_ensemble(den, sched, x[1:2], 5, [20, 2], 100, 9, ids[1:2], cycle=3)
    torch.testing.assert_close(one[0, 0], full[1, 2], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(one[0, 1], full[1, 0], atol=1e-5, rtol=1e-5)
    # more members: the first five are unchanged
    more = diffusion_ensemble(den, sched, x, 8, [2, 8, 20], 100, 9, ids, cycle=3)
    torch.testing.assert_close(more[:, :, :5], full, atol=1e-5, rtol=1e-5)
    # a different cycle or stream id gives a different ensemble
    other = diffusion_ensemble(den, sched, x, 5, [2, 8, 20], 100, 9, ids, cycle=4)
    assert (other - full).abs().mean() > 1e-3
    shifted = diffusion_ensemble(den, sched, x, 5, [2, 8, 20], 100, 9, ids + 100, cycle=3)
    assert (shifted - full).abs().mean() > 1e-3


def test_spread_grows_with_diffusion_depth():
    sched = cosine_schedule()
    oracle = GaussianOracle(sched)
    x = torch.tensor([[0.5, 0.9, -0.3]])
    S_list = [1, 3, 8, 13, 25, 50, 100]
    ens = diffusion_ensemble(oracle, sched, x, 2000, S_list, 100, seed=1)
    spread = ens[0].double().var(dim=1).sum(-1)  # total variance per S
    assert torch.all(spread[1:] > spread[:-1]), spread
    # S = 100 is (almost) unconditional sampling: total variance -> trace(COV)
    assert spread[-1].item() == pytest.approx(COV.trace().item(), rel=0.1)
    assert spread[0].item() < 0.01


def test_gaussian_conditional_mean_and_covariance():
    """Member law at depth S vs. Bayes: mean m + G a (x - m), cov s^2 G G^T + (C - a G C)."""
    sched = cosine_schedule()
    oracle = GaussianOracle(sched)
    x = torch.tensor([[1.0, 0.2, -1.0]], dtype=torch.float64)
    S, K = 20, 100
    t = coarse_to_fine(S, K, 1000)
    a, s2 = math.sqrt(sched.alpha_bar[t]), 1 - sched.alpha_bar[t].item()
    G = oracle.gain(t)
    mean = MEAN + a * G @ (x[0] - MEAN)
    cov = s2 * G @ G.T + COV - a * G @ COV
    ens = diffusion_ensemble(oracle, sched, x.float(), 8000, [S], K, seed=2)[0, 0].double()
    torch.testing.assert_close(ens.mean(0), mean, atol=0.03, rtol=0)
    # DDPM with K = 100 slightly under-disperses (posterior variance beta-tilde): 15 %
    torch.testing.assert_close(torch.cov(ens.T), cov, atol=0.15 * cov.diag().max().item(), rtol=0)


def test_validation():
    sched = cosine_schedule()
    oracle = GaussianOracle(sched)
    with pytest.raises(ValueError):
        diffusion_ensemble(oracle, sched, _states(2), 3, [0], 100)
    with pytest.raises(ValueError):
        diffusion_ensemble(oracle, sched, _states(2), 3, [101], 100)
    with pytest.raises(ValueError):
        diffusion_ensemble(oracle, sched, _states(2), 3, [5], 100, stream_ids=torch.arange(3))
