"""Cycled DA: free runs, linear-Gaussian cycling, Lorenz 63 ETKF skill, batching, scores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from ddmdyn.assimilation import (
    ETKF,
    EnOI,
    GaussianCovarianceSource,
    SigmaPointSource,
    draw_initial_states,
    make_observations,
    run_cycled_da,
)
from ddmdyn.assimilation.sources import cycle_normals
from ddmdyn.assimilation.streams import (
    INITIAL_STATES,
    OBSERVATION_NOISE,
    STATIC_ENSEMBLE,
    stream_seed,
)
from ddmdyn.dynamics import NORM_SCALE, initial_states, integrate, integrate_trajectories, rk4_step
from tests.resources import C_FULL


@pytest.fixture(scope="module")
def l63_truth() -> np.ndarray:
    x0 = integrate_trajectories(initial_states(3, seed=7), 0, n_burn_in=3000)[:, -1]
    return integrate_trajectories(x0, 4000)  # (3, 4001, 3)


def _sample_cov(ens):
    xp = ens - ens.mean(axis=0)
    return xp.T @ xp / (len(ens) - 1)


# ----------------------------------------------------------------------------------------------
# Free runs and the horizon cap


def test_free_run_reproduces_model_integration(l63_truth):
    init = draw_initial_states(l63_truth, 4, seed=1)
    res = run_cycled_da(
        None, l63_truth, None, obs_every=5, n_burn_in=3, n_cycles=20, initial_state=init
    )
    np.testing.assert_array_equal(res.final_state, integrate(init, 5 * 23))
    # per-lead MSE of the ensemble mean, brute force from a stored trajectory
    traj = [init]
    for _ in range(5 * 23):
        traj.append(rk4_step(traj[-1]))
    mean = np.stack(traj, axis=1).mean(axis=2)  # (B, 116, 3)
    err2 = (mean - l63_truth[:, : 5 * 23 + 1]) ** 2
    ref = np.stack([err2[:, 5 * k : 5 * k + 6] for k in range(3, 23)]).mean(axis=0)
    np.testing.assert_allclose(res.mse_lead, ref, rtol=1e-12)
    var = np.stack(traj, axis=1).var(axis=2, ddof=1)
    ref_var = np.stack([var[:, 5 * k : 5 * k + 6] for k in range(3, 23)]).mean(axis=0)
    np.testing.assert_allclose(res.var_lead, ref_var, rtol=1e-12)
    assert np.all(np.isnan(res.ana_rmse)) and res.n_cycles == 20 and not res.capped


def test_enoi_with_infinite_obs_error_is_the_free_run(l63_truth):
    init = draw_initial_states(l63_truth, 1, seed=2)
    obs = make_observations(l63_truth, 2.0, seed=3)
    method = EnOI(GaussianCovarianceSource(C_FULL, 20, 2.0, seed=1), obs_std=np.inf)
    res = run_cycled_da(method, l63_truth, obs, 10, 2, 30, init)
    np.testing.assert_array_equal(res.final_state, integrate(init, 10 * 32))
    np.testing.assert_allclose(res.ana_mse, res.bg_mse, rtol=1e-12)


def test_scored_cycles_are_capped_to_the_truth(l63_truth):
    init = draw_initial_states(l63_truth, 1, seed=0)
    obs = make_observations(l63_truth, 2.0, seed=0)
    method = EnOI(SigmaPointSource(C_FULL, 1.7), 2.0)
    res = run_cycled_da(method, l63_truth[:, :101], obs[:, :101], 10, 3, 50, init)
    assert res.n_cycles == 7 and res.capped and res.n_cycles_requested == 50
    assert res.rank_hist.sum(axis=-1).tolist() == [[7, 7, 7]] * 3
    res = run_cycled_da(method, l63_truth[:, :101], obs[:, :101], 10, 3, 7, init)
    assert res.n_cycles == 7 and not res.capped
    with pytest.raises(ValueError):
        run_cycled_da(method, l63_truth[:, :101], obs[:, :101], 10, 11, 1, init)


# ----------------------------------------------------------------------------------------------
# Linear-Gaussian: one ETKF cycle with a linear model is the Kalman filter


def _linear_setup(n_members, exact, seed=0):
    rng = np.random.default_rng(seed)
    A = np.array([[-0.3, 2.0, 0.0], [-2.0, -0.3, 0.5], [0.0, -0.5, -0.1]])
    M = expm(0.05 * A)  # one linear model step
    m0 = np.array([1.0, -1.0, 2.0])
    P0 = 2.0 * C_FULL + 0.5 * np.eye(3)
    z = rng.standard_normal((n_members, 3))
    if exact:  # exact prior moments: centred, whitened
        z -= z.mean(axis=0)
        z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / (n_members - 1))).T
    ens0 = m0 + z @ np.linalg.cholesky(P0).T
    L = 3
    truth = np.empty((1, 2 * L + 1, 3))
    truth[0, 0] = m0 + np.array([0.7, -0.4, 0.3])
    for t in range(2 * L):
        truth[0, t + 1] = truth[0, t] @ M.T
    obs = truth + np.array([1.1, -0.8, 0.6])  # a fixed observation error
    ML = np.linalg.matrix_power(M, L)
    m_f, P_f = ML @ m0, ML @ P0 @ ML.T
    R = 4.0 * np.eye(3)
    K = P_f @ np.linalg.inv(P_f + R)
    m_a, P_a = m_f + K @ (obs[0, L] - m_f), (np.eye(3) - K) @ P_f
    run = run_cycled_da(
        ETKF(n_members, 1.0, 2.0),
        truth,
        obs,
        obs_every=L,
        n_burn_in=0,
        n_cycles=1,
        initial_state=ens0[None],
        model_step=lambda x: x @ M.T,
    )
    return run, truth, m_f, P_f, m_a, P_a


def test_linear_gaussian_exact_moments_one_cycle_is_kalman_filter():
    res, truth, m_f, P_f, m_a, P_a = _linear_setup(8, exact=True)
    assert res.n_cycles == 1  # the truth holds two windows: only one is requested
    ens = res.final_state[0]
    np.testing.assert_allclose(ens.mean(axis=0), m_a, atol=1e-10)
    np.testing.assert_allclose(_sample_cov(ens), P_a, atol=1e-10)
    np.testing.assert_allclose(res.cov_bg[0], P_f, atol=1e-10)
    np.testing.assert_allclose(res.cov_ana[0], P_a, atol=1e-10)
    np.testing.assert_allclose(res.bg_mse[0], (m_f - truth[0, 3]) ** 2, atol=1e-10)
    np.testing.assert_allclose(res.ana_mse[0], (m_a - truth[0, 3]) ** 2, atol=1e-10)
    np.testing.assert_allclose(res.ana_spread[0], np.sqrt(np.mean(np.diag(P_a) / NORM_SCALE**2)))


def test_linear_gaussian_large_ensemble_one_cycle_matches_kalman_filter():
    n = 2000
    res, _, m_f, P_f, m_a, P_a = _linear_setup(n, exact=False, seed=3)
    ens = res.final_state[0]
    # mean error ~ (I - K)(sample mean error) + (gain error)(y - m_f), with standard errors
    # sqrt(P_f,ii / N) and sqrt(2 / N) |K (y - m_f)| = sqrt(2 / N) |m_a - m_f|: allow 5 of each
    tol_mean = 5 * np.sqrt(np.diag(P_f) / n) + 5 * np.sqrt(2 / n) * np.abs(m_a - m_f)
    assert np.all(np.abs(ens.mean(axis=0) - m_a) < tol_mean)
    tol_cov = 5 * np.sqrt(2 / n) * np.sqrt(np.outer(np.diag(P_a), np.diag(P_a)))
    assert np.all(np.abs(_sample_cov(ens) - P_a) < tol_cov)


# ----------------------------------------------------------------------------------------------
# Lorenz 63 skill (literature: ETKF, N ~ 10-20, dt_obs 0.1, sigma_o 2 -> analysis RMSE ~ 0.5-0.7)


def test_etkf12_on_lorenz63_is_skilful(l63_truth):
    truth = l63_truth[:2]
    obs = make_observations(truth, 2.0, seed=42)
    init = draw_initial_states(truth, 12, seed=42)
    res = run_cycled_da(ETKF(12, 1.07, 2.0), truth, obs, 10, 50, 300, init)
    obs_nrmse = np.sqrt(np.mean(4.0 / NORM_SCALE**2))  # ~ 0.235
    assert res.n_cycles == 300
    assert np.all(res.ana_rmse < 0.12) and np.all(res.ana_rmse < 0.5 * obs_nrmse)
    assert np.all(np.sqrt(res.ana_mse.mean(axis=1)) < 1.0)  # physical analysis RMSE
    assert np.all(res.ana_rmse < res.bg_rmse) and np.all(res.bg_rmse < obs_nrmse)
    assert np.all(res.ana_spread / res.ana_rmse > 0.6) and np.all(
        res.ana_spread / res.ana_rmse < 1.6
    )
    # lead 0 is the previous analysis: same analyses as ana_rmse, shifted by one cycle (299 of
    # the 300 squared errors are shared; one large error in the swapped cycle moves it by a few %)
    np.testing.assert_allclose(res.rmse_lead[:, 0], res.ana_rmse, rtol=0.05)
    np.testing.assert_allclose(res.rmse_lead[:, -1], res.bg_rmse, rtol=1e-12)  # last = background
    assert res.rank_hist.shape == (2, 3, 13) and np.all(res.rank_hist.sum(axis=-1) == 300)
    free = run_cycled_da(None, truth, None, 10, 50, 300, init)
    assert np.all(free.rmse_lead.mean(axis=1) > 0.8)  # climatological error level ~ sqrt(2)


# ----------------------------------------------------------------------------------------------
# Batching: B truths at once equal B separate runs


@pytest.mark.parametrize("kind", ["enoi", "etkf"])
def test_batched_run_equals_separate_runs(l63_truth, kind):
    obs = make_observations(l63_truth, 2.0, seed=5)
    if kind == "enoi":
        method, n_state = EnOI(GaussianCovarianceSource(C_FULL, 15, 1.8, seed=9), 2.0), 1
    else:
        method, n_state = ETKF(3, 1.34, 2.0), 3
    init = draw_initial_states(l63_truth, n_state, seed=5)
    full = run_cycled_da(method, l63_truth, obs, 10, 10, 60, init).to_dict()
    for b in range(3):
        one = run_cycled_da(
            method,
            l63_truth[b : b + 1],
            obs[b : b + 1],
            10,
            10,
            60,
            init[b : b + 1],
            truth_index=np.array([b]),
        ).to_dict()
        for key, value in one.items():
            if isinstance(value, np.ndarray) and value.ndim and key != "scale":
                np.testing.assert_allclose(
                    value[0], full[key][b], rtol=1e-10, atol=1e-12, err_msg=key
                )


# ----------------------------------------------------------------------------------------------
# Inputs shared by all methods, and the ensemble scores


def test_initial_states_and_observations_are_seeded_and_shared(l63_truth):
    a = draw_initial_states(l63_truth, 12, seed=3)
    np.testing.assert_array_equal(a, draw_initial_states(l63_truth, 12, seed=3))
    np.testing.assert_array_equal(draw_initial_states(l63_truth, 1, seed=3)[:, 0], a[:, 0])
    pooled = {tuple(x) for x in l63_truth.reshape(-1, 3)}
    flat = a.reshape(-1, 3)
    assert all(tuple(x) in pooled for x in flat) and len({tuple(x) for x in flat}) == 36
    obs = make_observations(l63_truth, 2.0, seed=1)
    noise = obs - l63_truth
    assert abs(noise.std() - 2.0) < 0.05 and abs(noise.mean()) < 0.05
    np.testing.assert_array_equal(
        make_observations(l63_truth[2:], 2.0, seed=1, truth_index=np.array([2])), obs[2:]
    )


def _first_words(seq: np.random.SeedSequence) -> tuple[int, ...]:
    return tuple(seq.generate_state(4, dtype=np.uint64).tolist())


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
def test_no_two_uses_of_one_seed_share_a_stream(seed):
    """Observation noise of every truth, the initial-state draw and the static ensemble of every
    cycle each get their own stream (SeedSequence(s) equals SeedSequence([s, 0]), the old clash)."""
    assert _first_words(np.random.SeedSequence(seed)) == _first_words(
        np.random.SeedSequence([seed, 0])
    )  # the numpy behaviour that made the old keys collide
    keys = [(OBSERVATION_NOISE, j) for j in range(64)] + [(INITIAL_STATES, 0)]
    keys += [(STATIC_ENSEMBLE, c) for c in range(64)]
    words = {_first_words(stream_seed(seed, use, key)) for use, key in keys}
    assert len(words) == len(keys)
    with pytest.raises(ValueError, match="seed"):
        stream_seed(2**32, OBSERVATION_NOISE, 0)


def test_draws_use_their_own_streams(l63_truth):
    """The numbers actually drawn come from the documented keys, and no two uses coincide."""
    seed = 7
    noise = (make_observations(l63_truth, 1.0, seed=seed) - l63_truth)[0, :4].ravel()
    own = np.random.default_rng(stream_seed(seed, OBSERVATION_NOISE, 0)).standard_normal(12)
    np.testing.assert_allclose(noise, own, atol=1e-12)
    init_normals = np.random.default_rng(stream_seed(seed, INITIAL_STATES, 0)).standard_normal(12)
    static = cycle_normals(seed, 0, np.array([0]), (4, 3)).ravel()
    for a, b in [(noise, init_normals), (noise, static), (init_normals, static)]:
        assert not np.allclose(a, b)
    # the initial-state indices do not come from truth 0's observation-noise stream
    B, T = l63_truth.shape[:2]
    first = np.random.default_rng(stream_seed(seed, INITIAL_STATES, 0)).integers(0, B * T, 1)
    b, t = divmod(int(first[0]), T)
    np.testing.assert_array_equal(
        draw_initial_states(l63_truth, 1, seed)[b % B, 0], l63_truth[b, t]
    )


def test_observations_as_callable_equal_the_array(l63_truth):
    obs = make_observations(l63_truth, 2.0, seed=8)
    init = draw_initial_states(l63_truth, 1, seed=8)
    method = EnOI(SigmaPointSource(C_FULL, 1.72), 2.0)
    a = run_cycled_da(method, l63_truth, obs, 10, 5, 20, init)
    b = run_cycled_da(method, l63_truth, lambda t: obs[:, t], 10, 5, 20, init)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(a.ana_mse, b.ana_mse)
    assert a.rank_hist.shape == (3, 3, 7) and np.all(np.isfinite(a.crps_bg))
