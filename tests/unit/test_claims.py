"""Reproduction verdict: the verdict rule at its margins and each claim on synthetic results."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from ddmdyn.claims import (
    HOLDS,
    INCONCLUSIVE,
    NOT_HOLDS,
    assimilation_claims,
    claims_dataset,
    claims_markdown,
    ensemble_claims,
    generation_claims,
    surrogate_claims,
    verdict,
)
from ddmdyn.dynamics import NORM_SCALE

EPS = 1e-9


@pytest.mark.parametrize(
    ("estimate", "expected"),
    [
        (1.0 - 2 * 0.05 - EPS, HOLDS),  # upper end of the interval just below the threshold
        (1.0 - 2 * 0.05 + EPS, INCONCLUSIVE),  # ... just above it
        (1.0, INCONCLUSIVE),
        (1.0 + 2 * 0.05 - EPS, INCONCLUSIVE),
        (1.0 + 2 * 0.05 + EPS, NOT_HOLDS),  # lower end just above the threshold
    ],
)
def test_verdict_below_at_the_margins(estimate, expected):
    assert verdict(estimate, 0.05, 1.0, "below", z=2.0) == expected


@pytest.mark.parametrize(
    ("estimate", "expected"),
    [
        (1.2 + 3 * 0.1 + EPS, HOLDS),
        (1.2 + 3 * 0.1 - EPS, INCONCLUSIVE),
        (1.2 - 3 * 0.1 + EPS, INCONCLUSIVE),
        (1.2 - 3 * 0.1 - EPS, NOT_HOLDS),
    ],
)
def test_verdict_above_at_the_margins(estimate, expected):
    assert verdict(estimate, 0.1, 1.2, "above", z=3.0) == expected


def test_verdict_without_spread_and_without_a_number():
    assert verdict(0.99, 0.0, 1.0, "below", 2.0) == HOLDS
    assert verdict(1.0, 0.0, 1.0, "below", 2.0) == INCONCLUSIVE  # exactly at the criterion
    assert verdict(math.nan, 0.0, 1.0, "below", 2.0) == INCONCLUSIVE
    with pytest.raises(ValueError, match="direction"):
        verdict(1.0, 0.0, 1.0, "under", 2.0)


def _generation(ratio_h, ratio_nn):
    seeds = np.arange(len(ratio_h))
    floor = np.full(len(seeds), 0.02)
    data = {
        "hellinger_floor": floor,
        "hellinger_matched": floor * np.asarray(ratio_h),
        "dist_gen_floor": floor,
        "dist_gen_matched": floor * np.asarray(ratio_nn),
        "dist_test_floor": floor,
        "dist_test_matched": floor,
    }
    return xr.Dataset(
        {k: (("variant", "seed"), v[None, :]) for k, v in data.items()},
        coords={"variant": ["velocity_cos"], "seed": seeds},
    )


def test_generation_claims_use_ratios_to_the_noise_floor():
    h, nn = generation_claims(
        _generation([1.1, 1.2, 1.15], [3.0, 3.2, 2.9]), "velocity_cos", 1.5, 2.0
    )
    assert h.estimate == pytest.approx(1.15) and h.n == 3 and h.verdict == HOLDS
    assert h.spread == pytest.approx(np.std([1.1, 1.2, 1.15], ddof=1))
    assert nn.estimate == pytest.approx(np.mean([3.0, 3.2, 2.9])) and nn.verdict == NOT_HOLDS
    one = generation_claims(_generation([1.4], [1.0]), "velocity_cos", 1.5, 2.0)[0]
    assert one.verdict == HOLDS and "spread unknown" in one.note and one.n == 1


def _surrogate(rmse_by_config, lead_time=(0.0, 0.5, 1.0)):
    configs = list(rmse_by_config)
    n_seeds = len(next(iter(rmse_by_config.values())))
    mse = np.zeros((len(configs), n_seeds, len(lead_time)))
    for i, c in enumerate(configs):
        mse[i, :, -1] = np.asarray(rmse_by_config[c]) ** 2
        mse[i, :, 1] = 99.0  # another lead must not be used
    return xr.Dataset(
        {"mse": (("configuration", "seed", "lead_time"), mse)},
        coords={"configuration": configs, "seed": np.arange(n_seeds), "lead_time": list(lead_time)},
    )


def test_surrogate_claims_compare_best_head_with_best_deep_network_at_the_lead():
    table = _surrogate(
        {
            "transfer_linear": [0.50, 0.52],
            "transfer_mlp": [0.40, 0.42],  # best head
            "dense_three": [0.45, 0.44],
            "dense_residual_three": [0.40, 0.40],  # best deep network
            "transfer_untrained_linear": [0.90, 0.94],
        }
    )
    heads, untrained = surrogate_claims(table, 1.0, 0.1, 0.2, 2.0)
    assert heads.estimate == pytest.approx(np.mean([0.40 / 0.40, 0.42 / 0.40]))
    assert "transfer_mlp / dense_residual_three" in heads.quantity
    assert heads.verdict == HOLDS  # 1.025 ± 2 * 0.025 / sqrt 2 < 1.1
    assert untrained.estimate == pytest.approx(np.mean([0.90 / 0.50, 0.94 / 0.52]))
    assert untrained.verdict == HOLDS and untrained.direction == "above"
    with pytest.raises(ValueError, match="lead_time_mtu"):
        surrogate_claims(table, 0.7, 0.1, 0.2, 2.0)
    partial = surrogate_claims(_surrogate({"dense_two": [0.4]}), 1.0, 0.1, 0.2, 2.0)
    assert all(c.verdict == INCONCLUSIVE and c.n == 0 for c in partial)


def _sweep(steps, spreads, distances, n_states=4, n_members=400, seed=0):
    """Isotropic Gaussian ensembles of normalised std `spreads[j]` per step."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((len(steps), n_states, n_members, 3))
    ens = z * np.asarray(spreads)[:, None, None, None] * np.asarray(NORM_SCALE)
    return xr.Dataset(
        {
            "ensemble": (("diffusion_step", "state", "member", "variable"), ens),
            "attractor_distance": ("diffusion_step", np.asarray(distances, dtype=float)),
        },
        coords={"diffusion_step": list(steps)},
    )


def test_ensemble_claims_spread_growth_and_distance_ratio():
    steps = [5, 10, 20, 60]
    spreads = [0.05, 0.1, 0.2, 0.8]
    # distance / 3 sigma^2: 0.02 at S <= 50 except the worst (S = 20: 0.05); S = 60 ignored
    dist = [0.02 * 3 * 0.05**2, 0.02 * 3 * 0.1**2, 0.05 * 3 * 0.2**2, 10.0]
    grows, near = ensemble_claims(_sweep(steps, spreads, dist), 100, 0.8, 0.5, 0.1, 2.0)
    assert grows.estimate == pytest.approx(1.0) and grows.verdict == HOLDS and grows.n == 4
    assert near.estimate == pytest.approx(0.05, rel=0.05) and near.verdict == HOLDS
    assert "S=20" in near.note
    shrinking = ensemble_claims(_sweep(steps, spreads[::-1], dist), 100, 0.8, 0.5, 0.1, 2.0)[0]
    assert shrinking.estimate == pytest.approx(-1.0) and shrinking.verdict == NOT_HOLDS
    blob = [3 * s**2 / 3 for s in spreads]  # a Gaussian blob's distance: ratio 1/3
    assert ensemble_claims(_sweep(steps, spreads, blob), 100, 0.8, 0.5, 0.1, 2.0)[1].verdict == (
        NOT_HOLDS
    )


def _da_table(per_method):
    methods = list(per_method)
    ana = np.array([per_method[m] for m in methods], dtype=float)
    return xr.Dataset(
        {"ana_rmse": (("method", "truth"), ana)},
        coords={"method": methods, "truth": np.arange(ana.shape[1])},
    )


def test_assimilation_claim_is_a_matched_per_truth_ratio_of_the_best_methods():
    table = _da_table(
        {
            "ddm_enoi_50": [0.09, 0.10, 0.11, 0.10],
            "ddm_enoi_10": [0.12, 0.12, 0.12, 0.12],
            "enoi_diag": [0.16, 0.16, 0.16, 0.16],
            "enoi_full": [0.14, 0.15, 0.15, 0.14],
            "etkf_12": [0.05, 0.05, 0.05, 0.05],  # not a static EnOI: ignored
        }
    )
    (claim,) = assimilation_claims(table, 1.0, 2.0)
    ratio = np.array([0.09 / 0.14, 0.10 / 0.15, 0.11 / 0.15, 0.10 / 0.14])
    assert claim.estimate == pytest.approx(ratio.mean()) and claim.n == 4
    assert "ddm_enoi_50 / enoi_full" in claim.quantity and claim.verdict == HOLDS
    close = _da_table({"ddm_enoi_50": [0.10, 0.14, 0.12, 0.16], "enoi_full": [0.12] * 4})
    assert assimilation_claims(close, 1.0, 2.0)[0].verdict == INCONCLUSIVE


def test_outputs_carry_every_claim_and_its_verdict():
    claims = generation_claims(_generation([1.1, 1.2], [3.0, 3.1]), "velocity_cos", 1.5, 2.0)
    ds = claims_dataset(claims, 2.0)
    assert list(ds["claim"].values) == ["generation_hellinger", "generation_nearest_neighbour"]
    assert list(ds["verdict"].values) == [HOLDS, NOT_HOLDS]
    text = claims_markdown(claims, "Reproduction verdict", 2.0)
    assert text.count("**holds**") == 1 and text.count("**does not hold**") == 1
