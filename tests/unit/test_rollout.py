"""Autoregressive roll-outs and their scores (docs/decisions.md, E17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddmdyn.dynamics import (
    denormalise,
    initial_states,
    integrate,
    integrate_trajectories,
    normalise,
)
from ddmdyn.metrics.generation import hellinger_from_counts, histogram3d
from ddmdyn.surrogate.pairs import rollout_starts
from ddmdyn.surrogate.rollout import histogram_counts, rollout, rollout_scores

DT = 10


@pytest.fixture(scope="module")
def truth():
    """Three normalised float64 trajectories of 1201 states (RK4, dt = 0.01)."""
    x0 = integrate_trajectories(initial_states(3, seed=1), 0, n_burn_in=2000)[:, -1]
    return normalise(integrate_trajectories(x0, 1200))


def _true_increment(x: torch.Tensor) -> torch.Tensor:
    """The exact 10-step RK4 flow map in normalised units, as an increment."""
    return normalise(integrate(denormalise(x), DT)) - x


def test_true_flow_map_has_zero_error_at_every_lead(truth):
    n_leads = 40  # 4 MTU
    starts = rollout_starts(3, truth.shape[1], DT, n_leads, stride=37)
    scores = rollout_scores(
        _true_increment, truth, DT, n_leads, starts, batch_size=50, dtype=torch.float64
    )
    assert scores["n_samples"] == len(starts) > 50
    assert scores["mse"].shape == (n_leads + 1,) and scores["mae"].shape == (n_leads + 1,)
    assert scores["mse"][0] == 0.0
    assert np.max(scores["mae"]) < 1e-9
    assert scores["hellinger"] == 0.0
    assert scores["hist_leads"] == (21, 40)


def test_scores_match_brute_force_and_do_not_depend_on_batch_size(truth):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    net = net.double()
    with torch.no_grad():
        net[2].weight.mul_(0.05)
    n_leads = 12
    starts = rollout_starts(3, truth.shape[1], DT, n_leads, max_starts=40)
    a = rollout_scores(net, truth, DT, n_leads, starts, batch_size=7, dtype=torch.float64)
    b = rollout_scores(net, truth, DT, n_leads, starts, batch_size=1000, dtype=torch.float64)
    # brute force: loop over samples and leads in NumPy
    tr, t0 = starts.traj.numpy(), starts.time.numpy()
    preds, truths = [], []
    with torch.no_grad():
        for i in range(len(starts)):
            x = torch.as_tensor(truth[tr[i], t0[i]])
            traj = [x.numpy()]
            for _ in range(n_leads):
                x = x + net(x[None])[0]
                traj.append(x.numpy())
            preds.append(traj)
            truths.append(truth[tr[i], t0[i] + DT * np.arange(n_leads + 1)])
    preds, truths = np.array(preds), np.array(truths)
    err = preds - truths
    np.testing.assert_allclose(a["mse"], (err**2).mean(axis=(0, 2)), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(a["mae"], np.abs(err).mean(axis=(0, 2)), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(b["mse"], a["mse"], rtol=1e-10)
    assert a["mse"][-1] > 1e-4  # the network is not the flow map
    pooled = slice(n_leads // 2 + 1, None)
    ref = hellinger_from_counts(
        histogram3d(preds[:, pooled].reshape(-1, 3)), histogram3d(truths[:, pooled].reshape(-1, 3))
    )
    assert a["hellinger"] == pytest.approx(ref, rel=1e-12) and ref > 0
    assert b["hellinger"] == pytest.approx(ref, rel=1e-12)


def test_rollout_iterates_the_step_function_in_chunks():
    x0 = torch.randn(10, 3, dtype=torch.float64)
    out = rollout(lambda x: 2.0 * x, x0, 5, batch_size=3)
    assert out.shape == (10, 6, 3)
    powers = 2.0 ** torch.arange(6, dtype=torch.float64)
    torch.testing.assert_close(out, x0[:, None, :] * powers[None, :, None], rtol=0, atol=0)


def test_device_histogram_equals_numpy_histogram3d():
    rng = np.random.default_rng(0)
    x = rng.uniform(-4.0, 4.0, (5000, 3))
    edges = np.linspace(-3.5, 3.5, 71)
    x[:300] = rng.choice(edges, (300, 3))  # points exactly on bin edges, including +-3.5
    x[300, 0] = np.nan
    counts = histogram_counts(torch.as_tensor(x[:2500]))
    counts = histogram_counts(torch.as_tensor(x[2500:]).reshape(50, 50, 3), counts)
    np.testing.assert_array_equal(counts.numpy(), histogram3d(x).ravel())
    assert counts.sum() < 5000  # outside points and NaN dropped


def test_rejects_starts_that_run_past_the_trajectory(truth):
    starts = rollout_starts(3, truth.shape[1], DT, 10)
    with pytest.raises(ValueError):
        rollout_scores(_true_increment, truth, DT, 200, starts)
