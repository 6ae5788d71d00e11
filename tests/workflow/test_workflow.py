"""The workflow as a user runs it: paper dry run, tiny end-to-end run, report, rerun semantics."""

from __future__ import annotations

import json
import re

import numpy as np
import xarray as xr
import yaml

from tests.smk import ROOT, TINY, figure_catalogue, planned_jobs, planned_outputs, snakemake

PAPER = ROOT / "config" / "config.yaml"
FIGURES = list(figure_catalogue())
TABLES = ["generation_scores", "surrogate_scores", "assimilation_scores"]


def _jobs_with_resources(output: str, rule: str) -> list[str]:
    """The 'resources:' lines of every planned job of `rule` in a dry run (the jobs of a group
    are printed indented under its "Group job" line)."""
    blocks = re.split(r"\n(?=\s*\[.*\]\n\s*(?:local)?rule )", output)
    lines = []
    for block in blocks:
        if re.search(rf"^\s*(local)?rule {rule}:", block, re.M):
            lines += [
                ln.strip() for ln in block.splitlines() if ln.strip().startswith("resources:")
            ]
    return lines


def test_paper_dag_dry_runs_with_every_job(tmp_path):
    proc = snakemake("-n", "--configfile", str(PAPER), workdir=tmp_path)
    jobs = planned_jobs(proc.stdout)
    cfg = yaml.safe_load(PAPER.read_text())
    d, s, a = cfg["diffusion"], cfg["surrogate"], cfg["assimilation"]
    assert jobs["simulate_trajectories"] == 3
    assert jobs["train_diffusion"] == len(d["variants"]) * len(d["seeds"]) == 70
    assert jobs["generate_samples"] == jobs["score_generation"] == 70
    # every training job requests a GPU
    resources = _jobs_with_resources(proc.stdout, "train_diffusion")
    assert len(resources) == 70 and all("gpu=1" in r for r in resources)
    # surrogates: table (14 x 10) + three sweeps (4 configurations x points x 10 seeds) + repr.
    sc = s["scaling"]
    n_points = len(sc["n_train_samples"]) + len(sc["corruption_levels"]) + len(sc["surrogate_dt"])
    expected = (
        len(s["configurations"]) * len(s["seeds"])
        + len(sc["configurations"]) * n_points * len(sc["seeds"])
        + len(sc["representation_variants"]) * len(d["seeds"])
    )
    # sweep points identical to the main experiment reuse its runs: dt = the main dt, and the
    # representation study's main diffusion variant
    shared_seeds = set(sc["seeds"]) & set(s["seeds"])
    if s["dt"] in sc["surrogate_dt"]:
        expected -= len(set(sc["configurations"]) & set(s["configurations"])) * len(shared_seeds)
    if d["main_variant"] in sc["representation_variants"]:
        assert sc["representation_configuration"] in s["configurations"]
        expected -= len(set(d["seeds"]) & set(s["seeds"]))
    assert jobs["train_surrogate"] + jobs["fit_surrogate"] == expected
    assert jobs["evaluate_surrogate"] == expected
    # assimilation: every method tuned at the main interval, the sweep methods at the others
    grids = a["tuning"]["grids"]
    n_grid = {"ddm": len(grids["diffusion_step"]), "etkf": len(grids["etkf_inflation"])}

    def grid(m):
        return (
            n_grid["ddm"]
            if m.startswith("ddm")
            else n_grid["etkf"]
            if m.startswith("etkf")
            else len(grids["static_inflation"])
        )

    pairs = {(m, a["obs_every"]) for m in a["methods"]} | {
        (m, o)
        for m in a["obs_interval_sweep"]["methods"]
        for o in a["obs_interval_sweep"]["obs_every"]
    }
    assert jobs["da_tune"] + jobs["da_tune_diffusion"] == sum(grid(m) for m, _ in pairs)
    assert jobs["da_select"] == jobs["da_run"] + jobs["da_run_diffusion"] == len(pairs)
    assert jobs["da_spread_run"] == len(a["spread_sweep"]["diffusion_steps"]) == 20
    for name in FIGURES:
        assert jobs[name] == 1


def test_bad_config_fails_before_any_job_naming_the_key(tmp_path):
    proc = snakemake(
        "-n", "--configfile", str(TINY), "--config", "device=tpu", workdir=tmp_path, check=False
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "['device']" in out and "tpu" in out
    assert "Job stats" not in out


def test_cross_key_errors_are_named(tmp_path):
    edit = tmp_path / "edit.yaml"
    edit.write_text("diffusion:\n  main_variant: state_linear\n")
    proc = snakemake("-n", "--configfile", str(TINY), str(edit), workdir=tmp_path, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "diffusion.main_variant='state_linear' is not in diffusion.variants" in out


def test_tiny_run_writes_data_with_provenance(tiny_run):
    for split, n_traj in [("train", 4), ("validation", 1), ("test", 4)]:
        with xr.open_dataset(tiny_run / "results" / "data" / f"{split}.nc") as ds:
            assert ds["state"].dims == ("trajectory", "time", "variable")
            assert ds.sizes["trajectory"] == n_traj
            params = json.loads(ds.attrs["provenance_params"])
            assert params["split"] == split
            assert ds.attrs["provenance_git_commit"]
            assert json.loads(ds.attrs["provenance_input_checksums"])


def test_tiny_run_produces_every_table_and_figure(tiny_run):
    res = tiny_run / "results"
    for name in TABLES:
        for ext in ("nc", "csv", "md"):
            assert (res / "tables" / f"{name}.{ext}").stat().st_size > 0
    with xr.open_dataset(res / "tables" / "generation_scores.nc") as ds:
        assert set(ds["variant"].values) == {"velocity_cos", "noise_cos"}
        for score in ("hellinger", "frechet", "dist_gen", "dist_test", "extreme"):
            assert f"{score}_floor" in ds
            assert np.isfinite(ds[f"{score}_floor"].values).all()
    with xr.open_dataset(res / "tables" / "assimilation_scores.nc") as ds:
        assert ds.sizes["method"] == 7
        assert np.isfinite(ds["ana_rmse"].values).all()
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (res / "figures" / f"{name}.{ext}").stat().st_size > 10_000, name


def test_sweep_point_equal_to_the_main_run_reuses_it(tiny_run):
    """The representation study's main diffusion variant is the main transfer_linear run."""
    res = tiny_run / "results" / "surrogate"
    assert not (res / "representation" / "velocity_cos").exists()
    with xr.open_dataset(res / "main" / "default" / "transfer_linear" / "0" / "rollout.nc") as run:
        one_step = float(np.sqrt(run["mse"].values[1]))
        hellinger = float(run["hellinger"])
    with xr.open_dataset(res / "scaling_representation.nc") as ds:
        point = ds.sel(configuration="transfer_linear", diffusion_variant="velocity_cos", seed=0)
        assert float(point["rmse_one_step"]) == one_step
        assert float(point["hellinger"]) == hellinger
        other = ds.sel(configuration="transfer_linear", diffusion_variant="noise_cos", seed=0)
        assert float(other["rmse_one_step"]) != one_step


def test_report_contains_every_figure_and_table(tiny_run):
    report = tiny_run / "results" / "report.html"
    snakemake("--configfile", str(TINY), "--report", str(report), workdir=tiny_run)
    html = report.read_text()
    for name in FIGURES:
        assert f"{name}.png" in html
    for name in TABLES:
        assert f"{name}.md" in html or f"{name}.csv" in html
    assert "Preset" in html and "tiny" in html


def test_complete_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", "--configfile", str(TINY), workdir=tiny_run)
    assert planned_jobs(proc.stdout) == {}, proc.stdout


def test_changing_one_split_seed_reruns_that_split_and_downstream_only(tiny_run, tmp_path):
    edit = tmp_path / "edit.yaml"
    edit.write_text("data:\n  splits:\n    validation: {n_trajectories: 1, seed: 77}\n")
    proc = snakemake("-n", "--configfile", str(TINY), str(edit), workdir=tiny_run)
    jobs = planned_jobs(proc.stdout)
    outputs = planned_outputs(proc.stdout)
    assert jobs.get("simulate_trajectories") == 1, proc.stdout
    assert "results/data/validation.nc" in outputs
    assert not {"results/data/train.nc", "results/data/test.nc"} & outputs
    # the validation split feeds training only: no DA run of the static methods reruns
    assert "da_run" not in jobs and "da_tune" not in jobs
