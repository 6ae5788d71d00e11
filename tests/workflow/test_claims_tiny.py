"""Reproduction verdict and DA divergence bookkeeping on the tiny run (machinery only)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from ddmdyn.claims import HOLDS, INCONCLUSIVE, NOT_HOLDS
from tests.smk import ROOT

CLAIMS = [
    "generation_hellinger",
    "generation_nearest_neighbour",
    "transfer_vs_deep",
    "untrained_features",
    "spread_grows",
    "partial_on_attractor",
    "ddm_beats_static",
]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_every_claim_is_evaluated_with_a_consistent_verdict(tiny_run):
    tables = tiny_run / "results" / "tables"
    assert (tables / "claims.csv").stat().st_size > 0
    md = (tables / "claims.md").read_text()
    with xr.open_dataset(tables / "claims.nc") as ds:
        ds = ds.load()
    assert list(ds["claim"].values) == CLAIMS
    z = float(ds.attrs["z"])
    assert z == CONFIG["claims"]["z"]
    for claim in CLAIMS:
        c = ds.sel(claim=claim)
        est, spread, n = float(c["estimate"]), float(c["spread"]), int(c["n"])
        thr, direction, v = float(c["threshold"]), c["direction"].item(), c["verdict"].item()
        assert v in (HOLDS, NOT_HOLDS, INCONCLUSIVE) and f"`{claim}`" in md
        if n == 0 or not np.isfinite(est):
            assert v == INCONCLUSIVE, claim
            continue
        se = spread / np.sqrt(n) if n > 1 else 0.0
        lo, hi = est - z * se, est + z * se
        assert np.isclose(float(c["ci_low"]), lo) and np.isclose(float(c["ci_high"]), hi)
        claimed_side = hi < thr if direction == "below" else lo > thr
        other_side = lo > thr if direction == "below" else hi < thr
        expected = HOLDS if claimed_side else NOT_HOLDS if other_side else INCONCLUSIVE
        assert v == expected, (claim, est, lo, hi, thr, direction, v)
    csv = pd.read_csv(tables / "claims.csv", index_col="claim")
    assert list(csv.index) == CLAIMS and (csv["verdict"] == ds["verdict"].values).all()


def test_claim_numbers_are_the_tables_numbers(tiny_run):
    """The DA claim recomputed from the DA table; the untrained-feature claim from the roll-outs."""
    tables = tiny_run / "results" / "tables"
    with (
        xr.open_dataset(tables / "claims.nc") as ds,
        xr.open_dataset(tables / "assimilation_scores.nc") as da,
        xr.open_dataset(tables / "surrogate_scores.nc") as sur,
    ):
        quantity = ds["quantity"].sel(claim="ddm_beats_static").item()
        ddm, static = quantity.split(", ")[1].split(" / ")  # "analysis nRMSE, A / B, per ..."
        static = static.split(",")[0]
        ratio = (
            da["ana_rmse"].sel({"method": ddm}).values
            / da["ana_rmse"].sel({"method": static}).values
        )
        assert np.isclose(float(ds["estimate"].sel(claim="ddm_beats_static")), ratio.mean())
        assert int(ds["n"].sel(claim="ddm_beats_static")) == da.sizes["truth"]
        lead = int(np.argmin(np.abs(sur["lead_time"].values - 1.0)))
        rmse = np.sqrt(sur["mse"].isel(lead_time=lead))
        want = (
            rmse.sel(configuration="transfer_untrained_linear")
            / rmse.sel(configuration="transfer_linear")
        ).values.mean()
        assert np.isclose(float(ds["estimate"].sel(claim="untrained_features")), want)
        assert (
            float(ds["threshold"].sel(claim="untrained_features"))
            == 1 + (CONFIG["claims"]["surrogate"]["clearly_worse_margin"])
        )


def test_da_table_counts_diverged_truths_and_tuned_files_record_the_edge(tiny_run):
    res = tiny_run / "results"
    threshold = CONFIG["assimilation"]["divergence_nrmse"]
    with xr.open_dataset(res / "tables" / "assimilation_scores.nc") as ds:
        ana = ds["ana_rmse"].transpose("method", "truth").values
        assert (ds["n_diverged"].values == (~(ana <= threshold)).sum(axis=1)).all()
        pooled = np.sqrt(np.mean(ana**2, axis=1))
        np.testing.assert_allclose(ds["ana_rmse_pooled"].values, pooled)
    csv = pd.read_csv(res / "tables" / "assimilation_scores.csv", index_col="method")
    assert {"n_diverged", "ana_rmse_pooled", "ana_rmse_mean", "ana_rmse_std"} <= set(csv.columns)
    assert "diverged" in (res / "tables" / "assimilation_scores.md").read_text()
    tuned = sorted((res / "assimilation" / "tuned").rglob("*.json"))
    assert tuned
    for path in tuned:
        choice = json.loads(path.read_text())
        values = [g["value"] for g in choice["grid"]]
        assert choice["at_grid_edge"] == (choice["value"] in (min(values), max(values)))
        for key in ("n_diverged", "n_truths", "edge_side", "edge_is_hard_bound", "edge_error"):
            assert key in choice, (path, key)
        assert all("n_diverged" in g for g in choice["grid"])
