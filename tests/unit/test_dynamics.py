"""Lorenz 63 and RK4 against analytic results and known invariants."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ddmdyn import dynamics


def test_rk4_has_fourth_order_convergence_on_linear_system():
    # x' = A x has the exact solution expm(A t) x0; the global error of RK4 scales as dt^4.
    a = np.array([[-0.3, 1.0, 0.0], [-1.0, -0.3, 0.2], [0.0, -0.2, -0.5]])
    x0 = np.array([1.0, -0.5, 2.0])
    t_end = 2.0
    exact = scipy.linalg.expm(a * t_end) @ x0
    errors = []
    steps = [20, 40, 80, 160]
    for n in steps:
        x = x0.copy()
        for _ in range(n):
            x = dynamics.rk4(lambda u: a @ u, x, t_end / n)
        errors.append(np.linalg.norm(x - exact))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 4.0) < 0.15), orders


def test_tendency_matches_equations_numpy_and_torch():
    x = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 30.0]])
    expected = np.stack(
        [
            10 * (x[:, 1] - x[:, 0]),
            x[:, 0] * (28 - x[:, 2]) - x[:, 1],
            x[:, 0] * x[:, 1] - 8 / 3 * x[:, 2],
        ],
        axis=-1,
    )
    np.testing.assert_allclose(dynamics.lorenz63_tendency(x), expected)
    got_t = dynamics.lorenz63_tendency(torch.as_tensor(x))
    np.testing.assert_allclose(got_t.numpy(), expected)


def test_compiled_trajectories_equal_python_rk4_bitwise():
    x0 = dynamics.initial_states(3, seed=5)
    traj = dynamics.integrate_trajectories(x0, n_steps=50, n_burn_in=20)
    assert traj.shape == (3, 51, 3)
    x = dynamics.integrate(x0, 20)
    np.testing.assert_array_equal(traj[:, 0], x)
    np.testing.assert_array_equal(traj[:, -1], dynamics.integrate(x, 50))


def test_initial_states_are_seeded_and_independent_per_seed():
    a = dynamics.initial_states(4, seed=1)
    np.testing.assert_array_equal(a, dynamics.initial_states(4, seed=1))
    assert not np.allclose(a, dynamics.initial_states(4, seed=2))
    assert np.abs(a).max() < 1e-2


def test_normalise_round_trip_numpy_and_torch():
    x = np.random.default_rng(0).normal(size=(5, 3)) * 10
    np.testing.assert_allclose(dynamics.denormalise(dynamics.normalise(x)), x)
    xt = torch.as_tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(dynamics.normalise(xt).numpy(), dynamics.normalise(x))


def test_long_run_statistics_match_normalisation_constants():
    # 16 trajectories x 10,000 model time units: the climatology of docs/decisions.md E2
    # to within 1 %.
    traj = dynamics.integrate_trajectories(
        dynamics.initial_states(16, seed=11), n_steps=1_000_000, n_burn_in=10_000
    )
    flat = traj.reshape(-1, 3)
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    assert np.all(np.abs(mean - dynamics.NORM_SHIFT) < 0.01 * dynamics.NORM_SCALE), mean
    assert np.all(np.abs(std / dynamics.NORM_SCALE - 1.0) < 0.01), std
    assert abs(mean[2] / dynamics.NORM_SHIFT[2] - 1.0) < 0.01


@pytest.mark.parametrize("start", [(1.0, 1.0, 20.0), (-5.0, 3.0, 25.0)])
def test_leading_lyapunov_exponent_is_0906(start):
    lam = dynamics.leading_lyapunov_exponent(np.array(start), n_steps=300_000)
    assert abs(lam - 0.906) < 0.03, lam


def test_normalisation_resource_matches_library_constants():
    import json
    from pathlib import Path

    res = json.loads((Path(__file__).parents[2] / "resources" / "normalisation.json").read_text())
    np.testing.assert_array_equal(res["shift"], dynamics.NORM_SHIFT)
    np.testing.assert_array_equal(res["scale"], dynamics.NORM_SCALE)
