"""Tests of ddmdyn.metrics.forecast and .accumulators against closed forms, brute force and
statistical truths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import ndtr

from ddmdyn.metrics.accumulators import EnsembleScoreSums, MeanAccumulator
from ddmdyn.metrics.forecast import (
    ensemble_crps,
    ensemble_moments,
    member_sum,
    nrmse_from_mse,
    rank_histogram,
    truth_rank,
)

SCALE = np.array([7.9239, 9.0124, 8.6261])


def _crps_brute(ens: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E|X - y| - 1/2 E|X - X'| over all member pairs; ens (..., N, k), y (..., k)."""
    skill = np.abs(ens - y[..., None, :]).mean(-2)
    pair = np.abs(ens[..., :, None, :] - ens[..., None, :, :]).mean((-2, -3))
    return skill - 0.5 * pair


# ---------------------------------------------------------------- nRMSE and moments


def test_nrmse_from_mse_hand_computed():
    mse_k = np.array([1.0, 4.0, 9.0]) * SCALE**2  # normalised MSEs 1, 4, 9
    assert nrmse_from_mse(mse_k, SCALE) == pytest.approx(np.sqrt(14.0 / 3), rel=1e-13)
    assert nrmse_from_mse([1.0, 4.0, 9.0]) == pytest.approx(np.sqrt(14.0 / 3), rel=1e-13)
    per_lead = np.stack([np.zeros(3), mse_k])  # (2 leads, 3)
    np.testing.assert_allclose(nrmse_from_mse(per_lead, SCALE), [0.0, np.sqrt(14.0 / 3)])
    pooled = nrmse_from_mse(per_lead, SCALE, axis=None)
    assert pooled == pytest.approx(np.sqrt(14.0 / 6), rel=1e-13)


def test_ensemble_moments_match_numpy():
    rng = np.random.default_rng(1)
    ens = rng.normal(size=(4, 9, 3))
    mean, cov = ensemble_moments(ens)
    np.testing.assert_allclose(mean, ens.mean(axis=1), rtol=1e-13)
    for b in range(4):
        np.testing.assert_allclose(cov[b], np.cov(ens[b].T), rtol=1e-12)
    np.testing.assert_allclose(member_sum(ens), ens.sum(axis=1), rtol=1e-13)
    mean1, cov1 = ensemble_moments(ens[:, :1])
    np.testing.assert_array_equal(mean1, ens[:, 0])
    assert cov1.shape == (4, 3, 3) and not cov1.any()


# ---------------------------------------------------------------- CRPS


def test_crps_of_two_members_is_analytic():
    # members {0, 1}: CRPS(y) = (|y| + |y - 1|) / 2 - 1/4: 1/4 at y = 0 and 0.5, 2.25 at y = 3
    ens = np.array([[[0.0], [1.0]]] * 3)  # (3 forecasts, 2 members, 1 variable)
    y = np.array([[0.0], [0.5], [3.0]])
    np.testing.assert_allclose(ensemble_crps(ens, y)[:, 0], [0.25, 0.25, 2.25], rtol=1e-15)


def test_crps_of_one_member_is_the_absolute_error():
    ens = np.array([[[2.0, -1.0, 0.5]]])
    np.testing.assert_allclose(ensemble_crps(ens, np.zeros((1, 3))), [[2.0, 1.0, 0.5]])


def test_crps_matches_pairwise_brute_force_and_integral():
    rng = np.random.default_rng(0)
    ens = rng.standard_normal((2, 7, 3))
    y = rng.standard_normal((2, 3))
    crps = ensemble_crps(ens, y)
    np.testing.assert_allclose(crps, _crps_brute(ens, y), rtol=1e-12)
    z = np.linspace(-12, 12, 480001)
    for b in range(2):
        for k in range(3):  # integral of (F_ens(z) - H(z - y))^2
            cdf = (ens[b, :, k][:, None] <= z).mean(axis=0)
            ref = np.trapezoid((cdf - (z >= y[b, k])) ** 2, z)
            assert abs(crps[b, k] - ref) < 1e-3


def test_crps_of_large_gaussian_ensemble_approaches_closed_form():
    rng = np.random.default_rng(2)
    mu, sigma, y = 0.3, 1.7, np.array([[-1.0], [0.3], [2.5]])
    ens = mu + sigma * rng.standard_normal((3, 400000, 1))
    z = (y - mu) / sigma
    exact = sigma * (z * (2 * ndtr(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(ensemble_crps(ens, y), exact, rtol=0.01)


# ---------------------------------------------------------------- ranks


def test_truth_rank_counts_members_strictly_below():
    ens = np.array([[[0.0], [1.0], [1.0], [2.0]]])  # ties count as not below
    ranks = [int(truth_rank(ens, np.array([[v]]))[0, 0]) for v in (-1.0, 1.0, 1.5, 9.0)]
    assert ranks == [0, 1, 3, 4]


def test_rank_histogram_flat_for_exchangeable_truth():
    rng = np.random.default_rng(3)
    t, n = 40000, 7
    draws = rng.normal(size=(t, n + 1, 3))  # truth and members from one distribution
    counts = sum(rank_histogram(draws[i : i + 1, :n], draws[i : i + 1, n]) for i in range(t))
    assert counts.shape == (1, 3, n + 1) and counts.sum() == 3 * t
    chi2 = stats.chisquare(counts.reshape(3, n + 1), axis=1)
    assert np.all(chi2.pvalue > 1e-3)


def test_rank_histogram_u_shaped_for_underdispersion():
    rng = np.random.default_rng(4)
    ens = 0.4 * rng.normal(size=(5000, 10, 1))
    counts = rank_histogram(ens, rng.normal(size=(5000, 1))).sum(axis=0)[0]
    assert counts[0] > 3 * counts[5] and counts[-1] > 3 * counts[5]


# ---------------------------------------------------------------- accumulators


def test_mean_accumulator_equals_mean_of_all_values():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(103, 3))
    acc, tacc = MeanAccumulator(), MeanAccumulator()
    for part in np.array_split(x, [10, 50]):
        acc.add(part.sum(0), len(part))
        tacc.add(torch.as_tensor(part).sum(0), len(part))
    assert acc.count == 103
    np.testing.assert_allclose(acc.mean, np.mean(x, axis=0), rtol=1e-13)
    np.testing.assert_allclose(tacc.mean, acc.mean, rtol=1e-13)
    assert isinstance(tacc.mean, np.ndarray) and tacc.mean.dtype == np.float64
    with pytest.raises(ValueError):
        acc.add(np.zeros(4), 1)
    with pytest.raises(ValueError):
        _ = MeanAccumulator().mean


def test_ensemble_score_sums_equal_stored_time_means():
    rng = np.random.default_rng(5)
    n_cycles, leads, B, n = 6, 3, 2, 5
    windows = rng.normal(size=(n_cycles, leads, B, n, 3))
    truths = rng.normal(size=(n_cycles, leads, B, 3))
    analyses = windows[:, -1] * 0.5
    acc = EnsembleScoreSums(B, leads)
    for c in range(n_cycles):
        acc.add_forecast(windows[c], truths[c])
        acc.add_analysis(windows[c, -1], analyses[c], truths[c, -1])
    means = acc.time_means()
    ens_mean = windows.mean(axis=3)
    ref_mse = ((ens_mean - truths) ** 2).mean(axis=0)  # (leads, B, 3)
    np.testing.assert_allclose(means["mse_lead"], np.swapaxes(ref_mse, 0, 1), rtol=1e-12)
    ref_var = windows.var(axis=3, ddof=1).mean(axis=0)
    np.testing.assert_allclose(means["var_lead"], np.swapaxes(ref_var, 0, 1), rtol=1e-12)
    ref_ana = ((analyses.mean(axis=2) - truths[:, -1]) ** 2).mean(axis=0)
    np.testing.assert_allclose(means["ana_mse"], ref_ana, rtol=1e-12)
    np.testing.assert_allclose(means["bg_var"], windows[:, -1].var(axis=2, ddof=1).mean(0))
    ref_crps = np.mean([_crps_brute(windows[c, -1], truths[c, -1]) for c in range(n_cycles)], 0)
    np.testing.assert_allclose(means["crps_var"], ref_crps, rtol=1e-12)
    assert acc.rank_hist.shape == (B, 3, n + 1) and np.all(acc.rank_hist.sum(-1) == n_cycles)
    # a restored copy continues identically
    copy = EnsembleScoreSums(B, leads)
    copy.load(acc.state())
    for name in ("se_lead", "cov_ana", "rank_hist"):
        np.testing.assert_array_equal(getattr(copy, name), getattr(acc, name))


def test_ensemble_score_sums_without_cycles_are_nan():
    means = EnsembleScoreSums(2, 4).time_means()
    assert means["mse_lead"].shape == (2, 4, 3) and np.all(np.isnan(means["mse_lead"]))
    assert np.all(np.isnan(means["crps_var"]))
