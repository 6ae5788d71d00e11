"""Tests of ddmdyn.metrics.forecast against closed forms, brute force and statistical truths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ddmdyn.metrics.forecast import (
    MeanAccumulator,
    crps_ensemble,
    crps_gaussian,
    ensemble_spread,
    ensemble_variance,
    mae_per_lead,
    mse_per_lead,
    nrmse_from_mse,
    rank_histogram,
    rmse,
    spread_skill_ratio,
)

SCALE = np.array([7.9239, 9.0124, 8.6261])


def _crps_brute(ens: np.ndarray, y: np.ndarray, fair: bool = False) -> np.ndarray:
    m = ens.shape[-1]
    skill = np.abs(ens - y[..., None]).mean(-1)
    pair = np.abs(ens[..., :, None] - ens[..., None, :]).sum((-1, -2))
    return skill - 0.5 * pair / (m * (m - 1) if fair else m * m)


# ---------------------------------------------------------------- deterministic errors


def test_rmse_and_per_lead_hand_computed():
    truth = np.zeros((2, 3, 3))
    pred = np.zeros((2, 3, 3))
    pred[:, 1, :] = 1.0  # lead 1: error 1 everywhere
    pred[0, 2, 0] = 6.0  # lead 2: one error of 6 among 6 values
    np.testing.assert_allclose(mse_per_lead(pred, truth), [0.0, 1.0, 6.0])
    np.testing.assert_allclose(mae_per_lead(pred, truth), [0.0, 1.0, 1.0])
    np.testing.assert_allclose(mse_per_lead(pred, truth, lead_axis=1), [0.0, 1.0, 6.0])
    assert rmse(pred, truth) == pytest.approx(np.sqrt((6 + 36) / 18))


def test_normalised_rmse_follows_spec():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(50, 3)) * SCALE
    pred = truth + rng.normal(size=(50, 3)) * [1.0, 2.0, 3.0]
    mse_k = np.mean((pred - truth) ** 2, axis=0)
    expected = np.sqrt(np.mean(mse_k / SCALE**2))
    assert rmse(pred, truth, scale=SCALE) == pytest.approx(expected, rel=1e-13)
    assert nrmse_from_mse(mse_k, SCALE) == pytest.approx(expected, rel=1e-13)
    # errors equal to the scale give nRMSE 1 and nMAE 1
    assert rmse(truth + SCALE, truth, scale=SCALE) == pytest.approx(1.0)
    lead = np.stack([truth, truth + SCALE], axis=1)
    np.testing.assert_allclose(mae_per_lead(lead, np.stack([truth, truth], 1), scale=SCALE), [0, 1])


def test_ensemble_spread_and_variance():
    ens = np.array([[[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]]])  # (1, M=2, 3): unbiased var = d^2 / 2
    np.testing.assert_allclose(ensemble_variance(ens), [[2.0, 8.0, 18.0]])
    assert ensemble_spread(ens) == pytest.approx(np.sqrt(28.0 / 3))
    scale = np.array([1.0, 2.0, 3.0])
    assert ensemble_spread(ens, scale=scale) == pytest.approx(np.sqrt(2.0))
    # a large ensemble of N(0, s^2) has spread ~ s; member axis elsewhere
    rng = np.random.default_rng(1)
    big = rng.normal(size=(4000, 20, 3)) * 0.7
    assert ensemble_spread(big, axis=0) == pytest.approx(0.7, rel=0.01)
    assert ensemble_spread(big, axis=0, mean_axis=0).shape == (3,)


def test_spread_skill_ratio_of_reliable_ensemble_is_one():
    rng = np.random.default_rng(2)
    t, m = 20000, 5
    # truth and members exchangeable draws of the same distribution around a random centre
    centre = rng.normal(size=(t, 1))
    draws = centre + rng.normal(size=(t, m + 1))
    truth, ens = draws[:, 0], draws[:, 1:]
    spread = ensemble_spread(ens[..., None], axis=1)
    err = rmse(ens.mean(1), truth)
    assert spread_skill_ratio(spread, err, n_members=m) == pytest.approx(1.0, abs=0.03)
    assert spread_skill_ratio(spread, err) == pytest.approx(np.sqrt(m / (m + 1)), abs=0.03)


# ---------------------------------------------------------------- CRPS


@pytest.mark.parametrize("fair", [False, True])
def test_crps_sorted_equals_brute_force(fair):
    rng = np.random.default_rng(3)
    ens = rng.normal(size=(4, 5, 11))
    y = rng.normal(size=(4, 5))
    np.testing.assert_allclose(crps_ensemble(ens, y, fair=fair), _crps_brute(ens, y, fair), 1e-12)
    # members on another axis
    moved = np.moveaxis(ens, -1, 1)
    np.testing.assert_allclose(
        crps_ensemble(moved, y, axis=1, fair=fair), _crps_brute(ens, y, fair)
    )


def test_crps_ensemble_hand_computed_and_single_member():
    # ens {0, 1}, y = 0: E|X - y| = 1/2, E|X - X'| = 1/2 -> 1/4 (fair: 1/2 - 1/2 = 0)
    assert crps_ensemble(np.array([0.0, 1.0]), np.array(0.0)) == pytest.approx(0.25)
    assert crps_ensemble(np.array([0.0, 1.0]), np.array(0.0), fair=True) == pytest.approx(0.0)
    assert crps_ensemble(np.array([[2.0]]), np.array([-1.0])) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        crps_ensemble(np.array([[2.0]]), np.array([-1.0]), fair=True)


def test_crps_large_gaussian_ensemble_approaches_closed_form():
    rng = np.random.default_rng(4)
    mu, sigma = 0.3, 1.7
    y = np.array([-2.0, 0.0, 0.3, 1.0, 5.0])
    ens = rng.normal(mu, sigma, size=(5, 200000))
    exact = crps_gaussian(mu, sigma, y)
    np.testing.assert_allclose(crps_ensemble(ens, y), exact, rtol=0.01)
    np.testing.assert_allclose(crps_ensemble(ens, y, fair=True), exact, rtol=0.01)


def test_crps_gaussian_known_values():
    # at y = mu: sigma (2 phi(0) - 1/sqrt(pi)) = sigma (sqrt(2) - 1) / sqrt(pi)
    assert crps_gaussian(1.0, 2.0, 1.0) == pytest.approx(2 * (np.sqrt(2) - 1) / np.sqrt(np.pi))
    np.testing.assert_allclose(crps_gaussian(0.0, 0.0, np.array([-2.0, 3.0])), [2.0, 3.0])
    # far from the mean the CRPS tends to |y - mu| - sigma / sqrt(pi)
    assert crps_gaussian(0.0, 1.0, 30.0) == pytest.approx(30.0 - 1 / np.sqrt(np.pi))


# ---------------------------------------------------------------- rank histogram


def test_rank_histogram_uniform_for_exchangeable_obs():
    rng = np.random.default_rng(5)
    t, m = 22000, 10
    ens = rng.normal(size=(t, m))
    obs = rng.normal(size=t)
    counts = rank_histogram(ens, obs, rng)
    assert counts.shape == (m + 1,) and counts.sum() == t
    assert stats.chisquare(counts).pvalue > 1e-3


def test_rank_histogram_u_shaped_for_underdispersion():
    rng = np.random.default_rng(6)
    t, m = 5000, 10
    counts = rank_histogram(0.4 * rng.normal(size=(t, m)), rng.normal(size=t), rng)
    assert counts[0] > 3 * counts[m // 2] and counts[-1] > 3 * counts[m // 2]
    assert stats.chisquare(counts).pvalue < 1e-10


def test_rank_histogram_random_tie_breaking():
    rng = np.random.default_rng(7)
    t, m = 22000, 4
    ens = np.zeros((t, m))  # all members equal to the observation: rank uniform on 0..M
    counts = rank_histogram(ens, np.zeros(t), rng)
    assert stats.chisquare(counts).pvalue > 1e-3
    # no ties: deterministic ranks
    np.testing.assert_array_equal(
        rank_histogram(np.array([[0.0, 1.0, 2.0]] * 2), np.array([-1.0, 1.5])), [1, 0, 1, 0]
    )


# ---------------------------------------------------------------- accumulator


def test_mean_accumulator_matches_stored_mean():
    rng = np.random.default_rng(8)
    values = rng.normal(size=(500, 11, 4, 3)).astype(np.float32) ** 2
    acc = MeanAccumulator()
    for v in values:
        acc.update(v)
    assert acc.count == 500
    np.testing.assert_allclose(acc.mean, values.astype(np.float64).mean(0), rtol=1e-12)
    assert acc.mean.dtype == np.float64


def test_mean_accumulator_weighted_batches_and_torch():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(103, 3))
    acc = MeanAccumulator()
    tacc = MeanAccumulator()
    for part in np.array_split(x, [10, 50]):
        acc.update(part.mean(0), weight=len(part))
        tacc.update(torch.as_tensor(part, dtype=torch.float32).mean(0), weight=len(part))
    np.testing.assert_allclose(acc.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(tacc.mean, x.mean(0), rtol=1e-6)
    assert isinstance(tacc.mean, np.ndarray)
    with pytest.raises(ValueError):
        acc.update(np.zeros(4))
    with pytest.raises(ValueError):
        _ = MeanAccumulator().mean
