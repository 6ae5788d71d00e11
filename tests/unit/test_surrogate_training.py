"""Surrogate pairs, Adam training and the ridge fit (docs/decisions.md, E3, D8, E12, D9)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

from ddmdyn.checkpointing import JobInterrupted
from ddmdyn.dynamics import initial_states, integrate_trajectories, normalise
from ddmdyn.surrogate.backbones import PolynomialFeatures
from ddmdyn.surrogate.pairs import PairSampler, n_pairs, rollout_starts, validation_pairs
from ddmdyn.surrogate.ridge import RidgeAccumulator
from ddmdyn.surrogate.training import build_surrogate, evaluate, fit_ridge, train_surrogate


def _ramp_trajectories(n_traj=4, n_time=50):
    """State of trajectory i at time t is 1000 i + t in every component."""
    t = np.arange(n_time, dtype=np.float64)
    traj = 1000.0 * np.arange(n_traj)[:, None] + t[None, :]
    return np.repeat(traj[:, :, None], 3, axis=2)


@pytest.fixture(scope="module")
def l63():
    x0 = integrate_trajectories(initial_states(3, seed=0), 0, n_burn_in=2000)[:, -1]
    traj = normalise(integrate_trajectories(x0, 3000)).astype(np.float32)
    return traj[:2], traj[2:]  # (2, 3001, 3) train, (1, 3001, 3) validation


@pytest.fixture
def resume_settings(l63):
    """Training settings shared by the two resume tests: validation every 4 steps on 256 pairs."""
    xv, yv = validation_pairs(l63[1], dt=10)
    return {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "val_every": 4,
        "val_pairs": (xv[:256], yv[:256]),
    }


def _small_dense(seed):
    """The small dense linear-head surrogate the resume tests train (weights drawn from `seed`)."""
    return build_surrogate("dense", "linear", {"widths": [16]}, seed=seed)


# -- pairs ------------------------------------------------------------------------------------


def test_pairs_never_straddle_trajectories_and_cover_each_pair_once():
    traj = _ramp_trajectories(4, 50)
    sampler = PairSampler(traj, dt=10, dtype=torch.float64)
    assert len(sampler) == n_pairs(4, 50, 10) == 4 * 40
    xs, ys = [], []
    for x, y in sampler.epoch(batch_size=7, shuffle=True):
        xs.append(x)
        ys.append(y)
    x, y = torch.cat(xs), torch.cat(ys)
    assert torch.all(y == 10.0)  # a straddling pair would jump by ~1000
    traj_id = torch.div(x[:, 0], 1000, rounding_mode="floor")
    t = x[:, 0] - 1000 * traj_id
    assert torch.all(t <= 39)
    # every (trajectory, time) pair exactly once in an epoch
    assert sorted(x[:, 0].tolist()) == sorted((1000.0 * i + s) for i in range(4) for s in range(40))


def test_batches_are_a_pure_function_of_seed_and_step():
    traj = _ramp_trajectories(3, 30)
    a = PairSampler(traj, dt=2, seed=5)
    b = PairSampler(traj, dt=2, seed=5)
    for step in [0, 3, 11, 4, 0]:  # any order, across epochs
        torch.testing.assert_close(a.batch(step, 8), b.batch(step, 8))
    assert not torch.equal(a.batch(0, 8)[0], PairSampler(traj, dt=2, seed=6).batch(0, 8)[0])
    # the last batch of an epoch is partial, as the paper's DataLoader (no drop_last)
    assert a.batches_per_epoch(8) == 11 and a.batch(10, 8)[0].shape[0] == 84 - 80


def test_subset_is_seeded_and_caps_the_batch():
    traj = _ramp_trajectories(3, 30)
    s1 = PairSampler(traj, dt=2, n_subset=5, subset_seed=1)
    s2 = PairSampler(traj, dt=2, n_subset=5, subset_seed=1)
    s3 = PairSampler(traj, dt=2, n_subset=5, subset_seed=2)
    assert len(s1) == 5 and torch.equal(s1.subset, s2.subset)
    assert not torch.equal(s1.subset, s3.subset)
    x, y = s1.batch(0, 64)
    assert x.shape == (5, 3)  # min(batch, n)
    assert torch.all(y == 2.0)
    ids = s1.subset.tolist()
    assert sorted((x[:, 0]).tolist()) == sorted(1000.0 * (i // 28) + i % 28 for i in ids)


def test_corruption_noise_is_seeded_redrawn_each_epoch_and_training_only():
    traj = _ramp_trajectories(8, 300)
    level = 0.3
    sampler = PairSampler(traj, dt=10, corruption=level, seed=1, dtype=torch.float64)
    per_epoch = sampler.batches_per_epoch(len(sampler))
    assert per_epoch == 1
    x0, y0 = sampler.batch(0, len(sampler), shuffle=False)
    x1, y1 = sampler.batch(1, len(sampler), shuffle=False)  # same pairs, next epoch
    torch.testing.assert_close(x0, x1)
    n0, n1 = y0 - 10.0, y1 - 10.0
    assert abs(n0.std().item() - level) < 0.02 and abs(n0.mean().item()) < 0.02
    assert abs(np.corrcoef(n0.ravel(), n1.ravel())[0, 1]) < 0.05  # redrawn, independent
    torch.testing.assert_close(sampler.batch(0, len(sampler), shuffle=False)[1], y0)
    _, clean = sampler.batch(0, len(sampler), shuffle=False, corrupt=False)
    assert torch.all(clean == 10.0)
    xv, yv = validation_pairs(traj, dt=10, n_max=100, dtype=torch.float64)
    assert torch.all(yv == 10.0) and torch.equal(xv[:, 0], torch.arange(100.0))


def test_rollout_starts_follow_the_paper_layout():
    starts = rollout_starts(n_traj=16, n_time=1_000_001, dt=10, n_leads=100)
    assert len(starts) == 15_984_000
    assert starts.traj[:18].tolist() == [*range(16), 0, 1]
    assert starts.time[:18].tolist() == [0] * 16 + [1, 1]
    assert int(starts.time.max()) == 998_999
    few = rollout_starts(n_traj=2, n_time=1001, dt=10, n_leads=20, max_starts=5)
    assert len(few) == 10 and few.time.tolist()[::2] == [0, 200, 400, 599, 799]
    strided = rollout_starts(n_traj=2, n_time=1001, dt=10, n_leads=20, stride=100)
    assert strided.time.tolist()[::2] == [0, 100, 200, 300, 400, 500, 600, 700]


# -- training ---------------------------------------------------------------------------------


def test_tiny_joint_training_reduces_validation_loss(l63):
    train, val = l63
    sampler = PairSampler(train, dt=10, seed=0)
    val_pairs = validation_pairs(val, dt=10, n_max=2000)
    model = build_surrogate("dense", "linear", {"widths": [32, 32]}, seed=0)
    before, _ = evaluate(model, *val_pairs)
    hist = train_surrogate(
        model,
        sampler,
        n_steps=200,
        batch_size=128,
        learning_rate=3e-3,
        val_pairs=val_pairs,
        val_every=100,
    )
    assert hist.step == [100, 200]
    assert hist.val_loss[-1] < 0.2 * before
    assert hist.val_loss[-1] == pytest.approx(evaluate(model, *val_pairs)[0])


def test_frozen_backbone_training_changes_only_the_head(l63):
    train, _ = l63
    model = build_surrogate("random_fourier", "mlp", {"n_features": 64}, {"hidden": 16}, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_surrogate(model, PairSampler(train), n_steps=5, batch_size=64, train_backbone=False)
    after = model.state_dict()
    assert torch.equal(after["backbone.weight"], before["backbone.weight"])
    assert not torch.equal(after["head.net.0.weight"], before["head.net.0.weight"])


def test_resumed_training_equals_uninterrupted(l63, resume_settings, tmp_path):
    train, _ = l63
    kw = resume_settings
    full = _small_dense(seed=1)
    ref = train_surrogate(full, PairSampler(train, seed=2, corruption=0.1), n_steps=8, **kw)
    ckpt = tmp_path / "surrogate.ckpt"
    part = _small_dense(seed=1)
    train_surrogate(part, PairSampler(train, seed=2, corruption=0.1), 4, checkpoint_path=ckpt, **kw)
    resumed = _small_dense(seed=7)  # weights from ckpt
    hist = train_surrogate(
        resumed, PairSampler(train, seed=2, corruption=0.1), 8, checkpoint_path=ckpt, **kw
    )
    for k, v in full.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v, rtol=0, atol=0)
    assert hist == ref


class _SignalAt(PairSampler):
    """A pair sampler that sends this process SIGTERM while drawing batch `at` (a time limit)."""

    def __init__(self, *args, at: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.at = at

    def batch(self, k, batch_size, shuffle=True):
        if k == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().batch(k, batch_size, shuffle)


def test_sigterm_between_validations_checkpoints_and_resumes_bit_for_bit(
    l63, resume_settings, tmp_path
):
    train, _ = l63
    kw = resume_settings
    full = _small_dense(seed=1)
    ref = train_surrogate(full, PairSampler(train, seed=2), n_steps=10, **kw)
    ckpt = tmp_path / "surrogate.ckpt"
    first = _small_dense(seed=1)
    with pytest.raises(JobInterrupted, match="after step 6") as info:
        train_surrogate(
            first,
            _SignalAt(train, seed=2, at=5),
            10,
            checkpoint_path=ckpt,
            handle_signals=True,
            **kw,
        )
    assert info.value.step == 6 and info.value.signum == signal.SIGTERM and ckpt.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    retry = _small_dense(seed=3)
    hist = train_surrogate(retry, PairSampler(train, seed=2), 10, checkpoint_path=ckpt, **kw)
    # steps 5-6 ran before the signal: the record at step 8 still averages steps 5..8
    assert hist == ref
    for k, v in full.state_dict().items():
        torch.testing.assert_close(retry.state_dict()[k], v, rtol=0, atol=0)


def test_fit_ridge_streams_one_pass_and_fits_the_flow_map(l63):
    train, val = l63
    sampler = PairSampler(train, dt=10)
    model = fit_ridge(PolynomialFeatures(4), sampler, batch_size=1000)
    # reference: one batch holding every pair, accumulated directly
    x, y = sampler.batch(0, len(sampler), shuffle=False)
    acc = RidgeAccumulator(34)
    acc.update(PolynomialFeatures(4)(x), y)
    ref = acc.solve(1e-4)
    torch.testing.assert_close(model.head.weight, ref.weight, rtol=1e-7, atol=1e-9)
    xv, yv = validation_pairs(val, dt=10)
    mse, _ = evaluate(model, xv, yv)
    assert mse < 0.05 * yv.var().item()  # degree-4 polynomials capture most of the 0.1 MTU map
