"""Noise schedules and heads (docs/decisions.md, E5, E7)."""

import numpy as np
import pytest
import torch

from ddmdyn.diffusion.heads import head_loss, make_head
from ddmdyn.diffusion.schedules import (
    NoiseSchedule,
    cosine_schedule,
    linear_schedule,
    make_schedule,
)

# (t, alpha_bar, sigma, abs tolerance on alpha_bar, abs tolerance on sigma) of the authors'
# schedules (docs/decisions.md, E5)
COSINE = [
    (1, 0.99996, 0.0064, 5e-6, 5e-5),
    (50, 0.9920, 0.089, 5e-5, 5e-4),
    (100, 0.9721, 0.167, 5e-5, 5e-4),
    (130, 0.9546, 0.213, 5e-5, 5e-4),
    (200, 0.8987, 0.318, 5e-5, 5e-4),
    (400, 0.6475, 0.594, 5e-5, 5e-4),
    (500, 0.494, 0.711, 5e-4, 5e-4),
    (600, 0.341, 0.812, 5e-4, 5e-4),
]


@pytest.mark.parametrize(("t", "ab", "sig", "tol_ab", "tol_sig"), COSINE)
def test_cosine_values_from_spec(t, ab, sig, tol_ab, tol_sig):
    s = cosine_schedule()
    assert s.alpha_bar_at(t, dtype=torch.float64).item() == pytest.approx(ab, abs=tol_ab)
    assert s.sigma(t, dtype=torch.float64).item() == pytest.approx(sig, abs=tol_sig)


def test_cosine_end_and_clipping():
    s = cosine_schedule()
    assert s.timesteps == 1000
    assert s.alpha_bar[0] == 1.0
    assert s.alpha_bar[1000].item() == pytest.approx(2.4e-7, rel=0.05)
    assert s.sigma(1000).item() == pytest.approx(1.0, abs=1e-6)
    betas = s.betas
    assert betas[-1].item() == pytest.approx(0.9, abs=1e-12)  # only the last beta is clipped
    assert betas[-2].item() == pytest.approx(0.75, abs=0.01)
    assert (betas[:-1] < 0.9).all()
    # alpha_bar equals the closed form f_t/f_0 before the clipped step
    t = np.arange(1000)
    f = np.cos(0.5 * np.pi * (t / 1000 + 0.008) / 1.008) ** 2
    np.testing.assert_allclose(s.alpha_bar[:1000].numpy(), f / f[0], rtol=1e-10)


@pytest.mark.parametrize(
    ("t", "ab", "tol"),
    [(100, 0.854, 5e-4), (200, 0.540, 5e-4), (500, 0.022, 5e-4), (1000, 2.5e-7, 1e-8)],
)
def test_linear_values_from_spec(t, ab, tol):
    s = linear_schedule()
    assert s.alpha_bar_at(t, dtype=torch.float64).item() == pytest.approx(ab, abs=tol)


def test_linear_betas_and_monotonicity():
    s = linear_schedule()
    np.testing.assert_allclose(s.betas.numpy(), np.linspace(1e-4, 0.03, 1000), rtol=1e-9)
    for sched in (s, cosine_schedule()):
        assert (sched.alpha_bar[1:] < sched.alpha_bar[:-1]).all()


def test_alpha_sigma_shapes_devices_and_vp_identity():
    s = cosine_schedule(200)
    t = torch.tensor([[0, 1], [100, 200]])
    a, sg = s.alpha(t), s.sigma(t)
    assert a.shape == (2, 2) and a.dtype == torch.float32 and a.device == t.device
    torch.testing.assert_close(a**2 + sg**2, torch.ones(2, 2))
    assert s.alpha(0).item() == 1.0 and s.sigma(0).item() == 0.0
    with pytest.raises(IndexError):
        s.alpha(torch.tensor([201]))
    with pytest.raises(TypeError):
        s.alpha(torch.tensor([1.0]))


def test_make_schedule_and_validation():
    assert torch.equal(make_schedule("cosine", 1000).alpha_bar, cosine_schedule().alpha_bar)
    assert torch.equal(make_schedule("linear", 50).alpha_bar, linear_schedule(50).alpha_bar)
    d = make_schedule("cosine", 10).to_dict()
    assert torch.equal(
        make_schedule(d.pop("name"), d.pop("timesteps"), **d).alpha_bar,
        cosine_schedule(10).alpha_bar,
    )
    with pytest.raises(ValueError):
        make_schedule("sigmoid", 10)
    with pytest.raises(ValueError):
        NoiseSchedule(torch.tensor([0.9, 0.5]))


@pytest.mark.parametrize("name", ["noise", "state", "velocity"])
def test_head_conversions_are_exact_inverses(name):
    head = make_head(name)
    g = torch.Generator().manual_seed(0)
    sched = cosine_schedule()
    t = torch.randint(1, 1000, (512,), generator=g)  # t = 1000 makes alpha ~ 5e-4
    alpha = sched.alpha(t, dtype=torch.float64)[:, None]
    sigma = sched.sigma(t, dtype=torch.float64)[:, None]
    x0 = torch.randn(512, 3, generator=g, dtype=torch.float64)
    eps = torch.randn(512, 3, generator=g, dtype=torch.float64)
    z = alpha * x0 + sigma * eps
    target = head.target(x0, eps, alpha, sigma)
    x0_hat, eps_hat = head.to_x0_eps(target, z, alpha, sigma)
    torch.testing.assert_close(x0_hat, x0, rtol=0, atol=1e-9)
    torch.testing.assert_close(eps_hat, eps, rtol=0, atol=1e-9)


def test_head_targets_and_losses():
    x0, eps = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[0.5, -1.0, 0.0]])
    a, s = torch.tensor([[0.6]]), torch.tensor([[0.8]])
    torch.testing.assert_close(make_head("v").target(x0, eps, a, s), 0.6 * eps - 0.8 * x0)
    torch.testing.assert_close(make_head("eps").target(x0, eps, a, s), eps)
    torch.testing.assert_close(make_head("x").target(x0, eps, a, s), x0)
    p, q = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 4.0]])
    assert head_loss(p, q, "mse").item() == pytest.approx(2.5)
    assert head_loss(p, q, "l1").item() == pytest.approx(1.5)
    with pytest.raises(ValueError):
        head_loss(p, q, "huber")
    with pytest.raises(ValueError):
        make_head("score")
