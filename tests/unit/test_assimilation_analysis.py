"""Ensemble-space analysis, ensemble sources and DA methods against closed-form results."""

from __future__ import annotations

import numpy as np
import pytest

from ddmdyn.assimilation import (
    ETKF,
    CallableSource,
    EnOI,
    GaussianCovarianceSource,
    SigmaPointSource,
    apply_weights,
    ensemble_update,
    ensemble_weights,
)
from tests.resources import C_FULL


def _exact_moment_ensemble(rng, mean, cov, n):
    """Ensemble (n, k) whose sample mean and (n-1)-normalised covariance equal mean, cov exactly."""
    z = rng.standard_normal((n, mean.size))
    z -= z.mean(axis=0)
    s = z.T @ z / (n - 1)
    z = z @ np.linalg.inv(np.linalg.cholesky(s)).T
    return mean + z @ np.linalg.cholesky(cov).T


def _kalman(m_f, P_f, y, H, R):
    S = H @ P_f @ H.T + R
    K = P_f @ H.T @ np.linalg.inv(S)
    return m_f + K @ (y - H @ m_f), (np.eye(len(m_f)) - K @ H) @ P_f


def _sample_cov(ens):
    xp = ens - ens.mean(axis=0)
    return xp.T @ xp / (len(ens) - 1)


# ----------------------------------------------------------------------------------------------
# Ensemble weights


@pytest.mark.parametrize(
    ("n", "p", "rho", "centred"),
    [
        (5, 3, 1.0, True),
        (2, 3, 1.3, True),
        (50, 3, 1.07, True),
        (4, 3, 0.8, False),
        (12, 2, 2.0, False),
    ],
)
def test_weights_match_direct_member_space_formulas(n, p, rho, centred):
    rng = np.random.default_rng(0)
    B = 3
    Y = rng.standard_normal((B, n, p)) * 2.0
    if centred:  # rank-deficient Y Y^T (rank <= n - 1), as in every real ensemble
        Y -= Y.mean(axis=1, keepdims=True)
    d = rng.standard_normal((B, p))
    w, T = ensemble_weights(Y, d, rho)
    f = (n - 1) / rho
    for b in range(B):
        A = Y[b] @ Y[b].T + f * np.eye(n)
        np.testing.assert_allclose(w[b], np.linalg.solve(A, Y[b] @ d[b]), rtol=1e-11, atol=1e-13)
        lam, U = np.linalg.eigh(A)
        T_ref = np.sqrt(n - 1) * (U / np.sqrt(lam)) @ U.T
        np.testing.assert_allclose(T[b], T_ref, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(T[b], T[b].T, atol=1e-14)
        np.testing.assert_allclose(T[b] @ T[b], (n - 1) * np.linalg.inv(A), atol=1e-12)
        assert np.linalg.eigvalsh(T[b]).min() > 0


def test_update_without_transform_matrix_equals_apply_weights():
    rng = np.random.default_rng(1)
    Xp = rng.standard_normal((4, 7, 3))
    Xp -= Xp.mean(axis=1, keepdims=True)
    Y = Xp[..., [0, 2]] / 1.5
    d = rng.standard_normal((4, 2))
    base = rng.standard_normal((4, 3))
    mean_a, members_a = apply_weights(base, Xp, *ensemble_weights(Y, d, 1.2))
    mean_b, members_b = ensemble_update(base, Xp, Y, d, 1.2)
    np.testing.assert_allclose(mean_b, mean_a, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(members_b, members_a, rtol=1e-12, atol=1e-13)


def test_weights_reject_single_member_and_bad_inflation():
    with pytest.raises(ValueError):
        ensemble_weights(np.ones((1, 1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError):
        ensemble_weights(np.ones((1, 4, 3)), np.ones((1, 3)), rho=0.0)


# ----------------------------------------------------------------------------------------------
# ETKF against the Kalman filter (linear-Gaussian, H = I and partial H)


@pytest.mark.parametrize("rho", [1.0, 1.34])
def test_etkf_exact_moment_ensemble_equals_kalman_filter(rho):
    rng = np.random.default_rng(2)
    m_f = np.array([1.0, -2.0, 20.0])
    P_f = C_FULL * 3.0 + 0.2 * np.eye(3)
    y = np.array([2.5, -0.5, 21.0])
    sigma = 2.0
    ens = _exact_moment_ensemble(rng, m_f, P_f, 12)
    step = ETKF(12, inflation=rho, obs_std=sigma)(ens[None], y[None], cycle=0)
    m_a, P_a = _kalman(m_f, rho * P_f, y, np.eye(3), sigma**2 * np.eye(3))
    np.testing.assert_allclose(step.state[0].mean(axis=0), m_a, atol=1e-10)
    np.testing.assert_allclose(_sample_cov(step.state[0]), P_a, atol=1e-10)
    assert step.background is not None and np.array_equal(step.background[0], ens)


def test_etkf_partial_observations_equal_kalman_filter():
    rng = np.random.default_rng(3)
    m_f = np.array([0.5, 1.0, 25.0])
    P_f = C_FULL + 0.1 * np.eye(3)
    y_full = np.array([1.7, 99.0, -99.0])  # only x is observed; the rest must be ignored
    ens = _exact_moment_ensemble(rng, m_f, P_f, 6)
    step = ETKF(6, obs_std=0.7, obs_indices=[0])(ens[None], y_full[None], cycle=0)
    H = np.array([[1.0, 0.0, 0.0]])
    m_a, P_a = _kalman(m_f, P_f, y_full[:1], H, np.array([[0.49]]))
    np.testing.assert_allclose(step.state[0].mean(axis=0), m_a, atol=1e-10)
    np.testing.assert_allclose(_sample_cov(step.state[0]), P_a, atol=1e-10)


def test_etkf_large_sampled_ensemble_matches_kalman_filter_within_sampling_error():
    rng = np.random.default_rng(4)
    n = 2000
    m_f = np.array([-3.0, -4.0, 18.0])
    P_f = 2.0 * C_FULL + 0.3 * np.eye(3)
    y = np.array([-1.0, -5.0, 19.5])
    R = 4.0 * np.eye(3)
    ens = m_f + rng.standard_normal((n, 3)) @ np.linalg.cholesky(P_f).T
    step = ETKF(n, obs_std=2.0)(ens[None], y[None], cycle=0)
    m_a, P_a = _kalman(m_f, P_f, y, np.eye(3), R)
    K = P_f @ np.linalg.inv(P_f + R)
    # mean error ~ (I-K)(sample mean error) + (gain error) (y - m_f): standard errors
    # sqrt(P_f,ii / N) and sqrt(2 / N) |K (y - m_f)|; allow 5 of each.
    tol_mean = 5 * np.sqrt(np.diag(P_f) / n) + 5 * np.sqrt(2 / n) * np.abs(K @ (y - m_f))
    assert np.all(np.abs(step.state[0].mean(axis=0) - m_a) < tol_mean)
    # covariance: relative sampling error sqrt(2 / N) ~ 3 %; allow 5 standard errors
    tol_cov = 5 * np.sqrt(2 / n) * np.sqrt(np.outer(np.diag(P_a), np.diag(P_a)))
    assert np.all(np.abs(_sample_cov(step.state[0]) - P_a) < tol_cov)


# ----------------------------------------------------------------------------------------------
# EnOI and sources


def test_enoi_with_sigma_points_is_optimal_interpolation():
    infl, sigma = 1.72, 2.0
    B_cov = infl**2 * C_FULL
    x_b = np.array([[1.0, 2.0, 25.0], [-7.0, -9.0, 30.0]])
    y = np.array([[3.0, 1.0, 24.0], [-6.0, -12.0, 27.0]])
    step = EnOI(SigmaPointSource(C_FULL, inflation=infl), sigma)(x_b[:, None], y, cycle=7)
    gain = B_cov @ np.linalg.inv(B_cov + sigma**2 * np.eye(3))
    x_a = x_b + (y - x_b) @ gain.T
    np.testing.assert_allclose(step.state[:, 0], x_a, rtol=1e-13, atol=1e-13)
    # analysis ensemble: mean x_a, covariance (I - K) B
    np.testing.assert_allclose(step.analysis.mean(axis=1), x_a, rtol=1e-13, atol=1e-13)
    for b in range(2):
        np.testing.assert_allclose(
            _sample_cov(step.analysis[b]), (np.eye(3) - gain) @ B_cov, atol=1e-13
        )
    assert step.state.shape == (2, 1, 3) and step.background.shape == (2, 6, 3)


def test_sigma_points_have_exact_moments():
    x_b = np.array([[0.3, -1.0, 22.0]])
    ens = SigmaPointSource(C_FULL, inflation=1.5)(x_b, cycle=0)[0]
    np.testing.assert_allclose(ens.mean(axis=0), x_b[0], atol=1e-14)
    np.testing.assert_allclose(_sample_cov(ens), 2.25 * C_FULL, atol=1e-14)


def test_enoi_gain_is_the_generated_ensemble_sample_gain():
    src = GaussianCovarianceSource(C_FULL, n_members=50, inflation=1.82, seed=5)
    x_b = np.array([[1.0, 1.0, 20.0], [5.0, 6.0, 30.0]])
    y = x_b + np.array([[1.0, -1.0, 2.0], [0.5, 0.5, -3.0]])
    step = EnOI(src, 2.0)(x_b[:, None], y, cycle=3)
    ens = src(x_b, 3)
    np.testing.assert_array_equal(step.background, ens)
    for b in range(2):
        P = _sample_cov(ens[b])
        x_a = x_b[b] + P @ np.linalg.solve(P + 4.0 * np.eye(3), y[b] - x_b[b])
        np.testing.assert_allclose(step.state[b, 0], x_a, rtol=1e-12)


def test_gaussian_source_common_random_numbers_and_batch_invariance():
    x_b = np.array([[0.0, 0.0, 20.0], [1.0, 2.0, 3.0], [-5.0, -5.0, 30.0]])
    a = GaussianCovarianceSource(C_FULL, 10, 2.0, seed=11)
    b = GaussianCovarianceSource(np.diag(np.diag(C_FULL)), 10, 2.0, seed=11)
    e1 = a(x_b, 4)
    np.testing.assert_array_equal(e1, a(x_b, 4))  # deterministic per (seed, cycle)
    assert not np.allclose(e1, a(x_b, 5))  # fresh draws each cycle
    assert not np.allclose(e1, GaussianCovarianceSource(C_FULL, 10, 2.0, seed=12)(x_b, 4))
    # a truth's ensemble does not depend on the batch it is run in
    np.testing.assert_array_equal(a(x_b[2:], 4, truth_index=np.array([2]))[0], e1[2])
    # same seed -> same standard normals: for diagonal C the x-perturbations are proportional
    pa, pb = e1 - x_b[:, None], b(x_b, 4) - x_b[:, None]
    np.testing.assert_allclose(pa[..., 0], pb[..., 0], rtol=1e-12)
    np.testing.assert_allclose(e1.mean(axis=1), x_b, atol=1e-13)  # centred


def test_gaussian_source_covariance_is_inflated_c():
    src = GaussianCovarianceSource(C_FULL, n_members=50, inflation=1.5, seed=0)
    x_b = np.zeros((4, 3))
    covs = [
        _sample_cov(e) for c in range(100) for e in src(x_b, c)
    ]  # 400 ensembles of 50: relative standard error of the mean ~ sqrt(2 / 19600)
    np.testing.assert_allclose(np.mean(covs, axis=0), 2.25 * C_FULL, atol=0.05 * 2.25 * 1.378)


def test_callable_source_passes_arguments_and_checks_shape():
    calls = []

    def fn(x_b, cycle, truth_index):
        calls.append((cycle, truth_index.tolist()))
        return np.repeat(x_b[:, None], 4, axis=1) + truth_index[:, None, None]

    src = CallableSource(fn, n_members=4, pass_truth_index=True)
    out = src(np.zeros((2, 3)), 9, truth_index=np.array([3, 7]))
    assert calls == [(9, [3, 7])] and out.shape == (2, 4, 3) and out[1, 0, 0] == 7
    with pytest.raises(ValueError):
        CallableSource(lambda x, c: np.zeros((2, 5, 3)), n_members=4)(np.zeros((2, 3)), 0)
