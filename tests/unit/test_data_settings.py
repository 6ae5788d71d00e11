"""A split's settings from the config: what its trajectories depend on, and the simulation they
drive."""

import numpy as np

from ddmdyn.data import simulate_from_settings, simulate_split, split_settings

DATA = {
    "n_steps": 30,
    "n_burn_in": 20,
    "dt": 0.01,
    "initial_std": 0.001,
    "sigma": 10.0,
    "rho": 28.0,
    "beta": 8.0 / 3.0,
    "time_chunk": 7,
    "splits": {
        "train": {"n_trajectories": 2, "seed": 11},
        "test": {"n_trajectories": 3, "seed": 13},
    },
}


def test_settings_take_the_splits_own_size_and_seed_and_the_shared_integration():
    settings = split_settings(DATA, "test")
    assert settings == {
        "split": "test",
        "n_trajectories": 3,
        "seed": 13,
        **{k: v for k, v in DATA.items() if k != "splits"},
    }


def test_the_settings_drive_the_simulation_with_every_value():
    ours = simulate_from_settings(split_settings(DATA, "train"))
    direct = simulate_split(
        n_trajectories=2, n_steps=30, n_burn_in=20, seed=11, dt=0.01, initial_std=0.001,
        sigma=10.0, rho=28.0, beta=8.0 / 3.0, time_chunk=7,
    )  # fmt: skip
    assert np.array_equal(ours["state"].values, direct["state"].values)
    assert ours["state"].shape == (2, 31, 3)
    other_seed = simulate_from_settings({**split_settings(DATA, "train"), "seed": 12})
    assert not np.array_equal(ours["state"].values, other_seed["state"].values)
