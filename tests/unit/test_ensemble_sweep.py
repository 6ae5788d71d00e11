"""Diffusion-time ensembles of a tiny trained model: spread grows with S, batching is invisible."""

import numpy as np
import pytest
import torch

from ddmdyn import dynamics
from ddmdyn.diffusion.training import DiffusionTrainConfig, build_model, train_diffusion
from ddmdyn.ensemble_sweep import (
    generate_sweep,
    mardia_excess_kurtosis,
    pick_states,
    sweep_statistics,
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    traj = dynamics.integrate_trajectories(dynamics.initial_states(2, 0), 20_000, n_burn_in=1000)
    states = dynamics.normalise(traj.reshape(-1, 3)).astype(np.float32)
    cfg = DiffusionTrainConfig(
        hidden=32, n_blocks=2, emb_dim=32, timesteps=100, batch_size=512, n_steps=300,
        learning_rate=3e-3, val_every=300, val_batches=1, checkpoint_every=10_000, seed=0,
    )  # fmt: skip
    ckpt = tmp_path_factory.mktemp("ens") / "state.pt"
    res = train_diffusion(cfg, states, states[:2000], ckpt, progress=False, handle_signals=False)
    model = build_model(cfg)
    model.network.load_state_dict(res.raw_state)
    return model.eval(), traj


def test_spread_grows_with_diffusion_step(tiny_model):
    model, traj = tiny_model
    centres = pick_states(traj, 6, seed=1)
    ens = generate_sweep(model, centres, [1, 5, 20], 32, 50, "ddpm", 0.0, 3, torch.device("cpu"))
    assert ens.shape == (6, 3, 32, 3)
    spread = dynamics.normalise(ens).std(axis=2).mean(axis=(0, 2))
    assert spread[0] < spread[1] < spread[2], spread


def test_ensemble_does_not_depend_on_chunking(tiny_model):
    model, traj = tiny_model
    centres = pick_states(traj, 5, seed=2)
    args = (model, centres, [2, 6], 8, 50, "ddpm", 0.0, 11, torch.device("cpu"))
    one = generate_sweep(*args, chunk=5)
    several = generate_sweep(*args, chunk=2)
    np.testing.assert_allclose(one, several, rtol=0, atol=1e-4)


def test_sweep_statistics_dataset(tiny_model):
    model, traj = tiny_model
    centres = pick_states(traj, 4, seed=3)
    ens = generate_sweep(model, centres, [1, 10], 16, 50, "ddpm", 0.0, 5, torch.device("cpu"))
    ref = dynamics.normalise(traj.reshape(-1, 3)[::50])
    ds = sweep_statistics(ens, centres, [1, 10], ref)
    assert ds["spread"].dims == ("diffusion_step", "variable")
    assert ds["ensemble"].dims == ("diffusion_step", "state", "member", "variable")
    assert np.all(np.isfinite(ds["attractor_distance"].values))


def test_mardia_excess_kurtosis_of_gaussian_is_zero():
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=(4, 20_000))
    assert np.abs(mardia_excess_kurtosis(x)).max() < 0.3
    u = rng.uniform(-1, 1, size=(20_000, 3))  # light tails: negative excess kurtosis
    assert mardia_excess_kurtosis(u) < -2
