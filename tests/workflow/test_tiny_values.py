"""Values of the tiny end-to-end run, beyond the existence of its files.

At tiny scale the scores mean little, but unit slips do not hide in them: a generated set left
in normalised units has a std ~8x too small and z shifted by 23.5, a DA method that does not
use its observations is no better than a free run, a surrogate that has lost its state errs by
more than two climatological draws. Provenance must be true: every recorded input checksum is
the SHA-256 of that input as it is now, and every `params_hash` the hash of the stored params.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from ddmdyn.dynamics import NORM_SCALE, integrate, normalise
from ddmdyn.metrics.generation import HIST_HI
from tests.smk import ROOT, TINY, snakemake

pytestmark = pytest.mark.slow

CONFIG = yaml.safe_load(TINY.read_text())
#: diffusion weights of the tiny run (tiny.yaml overrides config/config.yaml key by key)
DEFAULTS = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
WEIGHTS = CONFIG["diffusion"].get("weights", DEFAULTS["diffusion"]["weights"])
MAIN_VARIANT = CONFIG["diffusion"].get("main_variant", DEFAULTS["diffusion"]["main_variant"])
SCORE_RANGES = {  # possible range of each generation score
    "hellinger": (0.0, 1.0),
    "frechet": (0.0, np.inf),
    "dist_gen": (0.0, np.inf),
    "dist_test": (0.0, np.inf),
    "extreme": (0.0, 1.0),
}


def _test_states(workdir: Path) -> np.ndarray:
    with xr.open_dataset(workdir / "results" / "data" / "test.nc") as ds:
        return np.asarray(ds["state"].values, dtype=np.float64)  # (traj, time, 3) physical


def _generation_runs(workdir: Path) -> list[Path]:
    runs = sorted((workdir / "results" / "generation").glob("*/*/"))
    variants, seeds = CONFIG["diffusion"]["variants"], CONFIG["diffusion"]["seeds"]
    assert len(runs) == len(variants) * len(seeds), runs
    return runs


def _samples(run: Path) -> np.ndarray:
    with xr.open_dataset(run / "samples.nc") as ds:
        return np.asarray(ds["state"].values, dtype=np.float64)


def test_generation_scores_lie_in_their_range(tiny_run):
    """Every score within its range; the Hellinger distance is NaN exactly when no generated
    state falls in its histogram box (a 60-step noise-head model can throw every state out)."""
    for run in _generation_runs(tiny_run):
        inside = np.all(np.abs(normalise(_samples(run))) < HIST_HI, axis=1).any()
        with xr.open_dataset(run / "scores.nc") as ds:
            for score, (lo, hi) in SCORE_RANGES.items():
                for name in (score, f"{score}_floor", f"{score}_matched"):
                    value = float(ds[name])
                    if score == "hellinger" and name != "hellinger_floor" and not inside:
                        assert np.isnan(value), (run, name, value)
                        continue
                    assert lo <= value <= hi, (run, name, value)


def test_generated_states_are_in_physical_units_near_the_data(tiny_run):
    """The main model's states (the one every later stage uses): mean within 0.5 climatological
    std and std within a factor 2 of the test data's, per variable. A model trained 60 steps is
    crude, but a dropped denormalise (std / 8, z - 23.5) or a double one (std x 8) is far out."""
    test = _test_states(tiny_run).reshape(-1, 3)
    mean, std = test.mean(0), test.std(0)
    seed = CONFIG["diffusion"]["seeds"][0]
    run = tiny_run / "results" / "generation" / MAIN_VARIANT / str(seed)
    gen = _samples(run)
    assert gen.shape == (CONFIG["generation"]["n_samples"], 3)
    np.testing.assert_array_less(np.abs(gen.mean(0) - mean), 0.5 * NORM_SCALE, err_msg=str(run))
    ratio = gen.std(0) / std
    assert np.all((ratio > 0.5) & (ratio < 2.0)), (run, ratio)
    for other in _generation_runs(tiny_run):  # every variant: finite physical states
        assert np.isfinite(_samples(other)).all(), other


def _free_run_nrmse(truth: np.ndarray, obs_std: float, obs_every: int, n_burn_in: int,
                    n_cycles: int, seed: int = 0) -> np.ndarray:  # fmt: skip
    """Time-mean nRMSE per truth of a model run from a perturbed start without observations,
    at the analysis times of the scored cycles (independent of the DA code)."""
    rng = np.random.default_rng(seed)
    x = truth[:, 0] + obs_std * rng.standard_normal(truth[:, 0].shape)
    errors = []
    for cycle in range(1, n_burn_in + n_cycles + 1):
        x = integrate(x, obs_every)
        if cycle > n_burn_in:
            err = (x - truth[:, cycle * obs_every]) / NORM_SCALE
            errors.append(np.sqrt(np.mean(err**2, axis=-1)))
    return np.mean(errors, axis=0)


def test_etkf_beats_the_observations_and_a_free_run(tiny_run):
    obs_every = CONFIG.get("assimilation", {}).get("obs_every", 10)
    path = tiny_run / "results" / "assimilation" / "runs" / f"obs{obs_every}" / "etkf_12.nc"
    with xr.open_dataset(path) as ds:
        ana = np.asarray(ds["ana_rmse"].values)
        params = json.loads(ds.attrs["provenance_params"])
        n_burn_in, n_cycles = int(ds.attrs["n_burn_in"]), int(ds.attrs["n_cycles_used"])
    obs_std = float(_find(params, "obs_std"))
    obs_nrmse = np.sqrt(np.mean((obs_std / NORM_SCALE) ** 2))
    assert np.all(np.isfinite(ana))
    assert np.all(ana < obs_nrmse), (ana, obs_nrmse)
    truth = _test_states(tiny_run)[: len(ana)]
    free = _free_run_nrmse(truth, obs_std, obs_every, n_burn_in, n_cycles)
    assert np.all(free > 0.5), free  # the free run has lost the truth (chaos)
    assert np.all(ana < 0.5 * free), (ana, free)


def _find(tree, key):
    """The value of `key` anywhere in a nested dict (params are grouped by stage)."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def test_surrogate_errors_are_bounded_by_climatology(tiny_run):
    """Roll-out MSE (normalised, mean over variables) against the climatological value 2 (two
    independent draws of unit variance): at the first lead every surrogate is far below it, and
    the best configuration stays below 1.5 x 2 at every lead. (Tiny surrogates trained 40 steps
    may diverge later in the roll-out: dense_residual_three, poly_linear and rff_linear_256 do;
    an evaluation in physical units would multiply every error by ~75.)"""
    rollouts = sorted((tiny_run / "results" / "surrogate" / "main").rglob("rollout.nc"))
    n_expected = len(CONFIG["surrogate"]["configurations"]) * len(CONFIG["surrogate"]["seeds"])
    assert len(rollouts) == n_expected
    worst_lead = {}
    for path in rollouts:
        with xr.open_dataset(path) as ds:
            mse = np.asarray(ds["mse"].values)
        assert mse[0] == 0.0, path  # lead 0 is the start itself
        assert 0.0 < mse[1] < 0.5 * 2.0, (path, mse[1])
        worst_lead[path] = np.nanmax(mse)
    best = min(worst_lead, key=worst_lead.get)
    assert worst_lead[best] < 1.5 * 2.0, (best, worst_lead[best])


# --------------------------------------------------------------------------------------------
# provenance


def _netcdf_outputs(workdir: Path) -> list[Path]:
    return sorted(p for p in (workdir / "results").rglob("*.nc") if "checkpoints" not in p.parts)


def test_recorded_input_checksums_are_the_inputs_sha256(tiny_run):
    checked = 0
    for path in _netcdf_outputs(tiny_run):
        with xr.open_dataset(path) as ds:
            recorded = json.loads(ds.attrs.get("provenance_input_checksums", "{}"))
        for rel, digest in recorded.items():
            data = (tiny_run / rel).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, (path, rel)
            checked += 1
    assert checked > 50, checked  # every stage records its inputs


def test_params_hash_is_the_hash_of_the_stored_params(tiny_run):
    outputs = _netcdf_outputs(tiny_run)
    assert len(outputs) > 50
    for path in outputs:
        with xr.open_dataset(path) as ds:
            stored, digest = ds.attrs["provenance_params"], ds.attrs["provenance_params_hash"]
        canonical = json.dumps(json.loads(stored), sort_keys=True, separators=(",", ":"))
        assert stored == canonical, path
        assert hashlib.sha256(canonical.encode()).hexdigest()[:16] == digest, path


# --------------------------------------------------------------------------------------------
# report captions


def test_report_captions_name_preset_seeds_and_weights(tiny_run):
    path = tiny_run / "results" / "report_values.html"
    snakemake("--configfile", str(TINY), "--report", str(path), workdir=tiny_run)
    html = path.read_text()
    match = re.search(r"var results = (\{.*?\});\n", html, re.S)
    assert match, "no results in the report"
    results = json.loads(match.group(1))
    figures = {Path(k).name: v for k, v in results.items() if re.match(r"fig\d\d_", Path(k).name)}
    assert len(figures) >= 13, sorted(figures)
    seeds = str(CONFIG["diffusion"]["seeds"])
    for name, entry in figures.items():
        caption = entry["caption"]
        assert "tiny" in caption, (name, caption)
        assert seeds in caption or f"seed {seeds}" in caption, (name, caption)
        assert "weights" in caption and WEIGHTS in caption, (name, caption)
