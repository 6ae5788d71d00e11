"""The workflow as a user runs it: paper dry run, tiny end-to-end run, rerun semantics."""

from __future__ import annotations

import json

import xarray as xr

from tests.smk import ROOT, TINY, planned_jobs, planned_outputs, snakemake


def test_paper_dag_dry_runs(tmp_path):
    proc = snakemake("-n", "--configfile", str(ROOT / "config" / "config.yaml"), workdir=tmp_path)
    jobs = planned_jobs(proc.stdout)
    assert jobs["simulate_trajectories"] == 3
    assert jobs["all"] == 1


def test_bad_config_fails_before_any_job_naming_the_key(tmp_path):
    proc = snakemake(
        "-n", "--configfile", str(TINY), "--config", "device=tpu", workdir=tmp_path, check=False
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "['device']" in out and "tpu" in out
    assert "Job stats" not in out


def test_tiny_run_writes_data_with_provenance(tiny_run):
    for split, n_traj in [("train", 4), ("validation", 1), ("test", 4)]:
        with xr.open_dataset(tiny_run / "results" / "data" / f"{split}.nc") as ds:
            assert ds["state"].dims == ("trajectory", "time", "variable")
            assert ds.sizes["trajectory"] == n_traj
            params = json.loads(ds.attrs["provenance_params"])
            assert params["split"] == split
            assert ds.attrs["provenance_git_commit"]
            assert json.loads(ds.attrs["provenance_input_checksums"])


def test_complete_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", "--configfile", str(TINY), workdir=tiny_run)
    assert planned_jobs(proc.stdout) == {}, proc.stdout


def test_changing_one_split_seed_reruns_only_that_split(tiny_run, tmp_path):
    edit = tmp_path / "edit.yaml"
    edit.write_text("data:\n  splits:\n    validation: {n_trajectories: 1, seed: 77}\n")
    proc = snakemake("-n", "--configfile", str(TINY), str(edit), workdir=tiny_run)
    jobs = planned_jobs(proc.stdout)
    assert jobs.get("simulate_trajectories") == 1, proc.stdout
    assert planned_outputs(proc.stdout) == {"results/data/validation.nc"}, proc.stdout
