"""The tiny DAG through a real SLURM 22.05 scheduler, as a user runs it: `python -m ddmdyn.cluster
init`, then `snakemake --profile slurm` from the repository root.

The test starts a single-node cluster itself (tests/scheduler/start_slurm.sh) and skips, with the
reason, only where that is impossible (not root, SLURM not installed: start_slurm.sh exits 2).
A cluster that fails to start fails the tests, and in CI any skip fails (tests/conftest.py).
Every Snakemake call runs under a timeout so a misbehaving scheduler fails the test instead of
hanging it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.smk import ROOT, TINY, snakemake
from tests.workflow.test_submissions import localrules

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

START = Path(__file__).with_name("start_slurm.sh")
ARRAY_RULE = "simulate_trajectories"


#: start_slurm.sh's status for "cannot run here" (not installed, not root); anything else but 0
#: (3: a daemon failed or the cluster never became idle) is a failure of the test.
CANNOT_RUN_HERE = 2


@pytest.fixture(scope="module")
def slurm_cluster() -> None:
    proc = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=180)
    if proc.returncode == CANNOT_RUN_HERE:
        pytest.skip(f"cannot start a SLURM cluster here: {proc.stderr.strip()}")
    if proc.returncode != 0:
        pytest.fail(
            f"start_slurm.sh failed to start the SLURM cluster (exit {proc.returncode}):\n"
            f"{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )


#: Settings of the single-node test cluster and of a quick test, on top of a site profile: two
#: cores per bundle, fast status polling, no retries, the data rule as one job array.
TEST_CLUSTER = [
    "--cores", "2",
    "--slurm-init-seconds-before-status-checks", "1",
    "--seconds-between-status-checks", "2",
    "--retries", "0",
    "--latency-wait", "10",
    "--slurm-array-jobs", ARRAY_RULE,
]  # fmt: skip


#: `python -m ddmdyn.cluster init` arguments for the test cluster (one partition, no accounts)
INIT_LOCAL_CLUSTER = ["--cpu-partition", "debug", "--gpu-partition", "debug"]


def derived_profile(folder: Path) -> Path:
    """profiles/slurm with the placeholders filled for the local test cluster, fast polling."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    default = profile["default-resources"]
    default["slurm_partition"] = "debug"
    default.pop("slurm_account")  # no accounting database on the test cluster
    for resources in profile["set-resources"].values():
        resources.update(slurm_partition="debug")
    profile.update(
        {
            "slurm-init-seconds-before-status-checks": 1,
            "seconds-between-status-checks": 2,
            "retries": 0,
            "latency-wait": 10,
            "keep-going": False,
            "slurm-array-jobs": ARRAY_RULE,
            "cores": 2,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> Path:
    """The tiny DAG run as a user does: `python -m ddmdyn.cluster init ...`, then `snakemake
    --profile slurm` from the repository root (the profile found by name in the user's Snakemake
    folder, here a private XDG_CONFIG_HOME)."""
    base = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "XDG_CONFIG_HOME": str(base / "xdg")}
    init = subprocess.run(
        [sys.executable, "-m", "ddmdyn.cluster", "init", *INIT_LOCAL_CLUSTER],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "snakemake --profile slurm" in init.stdout
    assert (base / "xdg" / "snakemake" / "slurm" / "config.yaml").exists()
    workdir = base / "work"
    snakemake(
        "--profile", "slurm", "--configfile", str(TINY), *TEST_CLUSTER,
        workdir=workdir, env=env, timeout=1500,
    )  # fmt: skip
    return workdir


def _netcdf_outputs(workdir: Path) -> list[Path]:
    return sorted((workdir / "results").rglob("*.nc"))


def test_every_job_ran_as_a_slurm_job_but_local_rules(slurm_run):
    """Jobs of cluster rules ran as SLURM jobs; the local rules' (tables, figures, collections)
    ran in the controller, outside any job."""
    local = localrules()
    files = _netcdf_outputs(slurm_run)
    steps = set()
    for path in files:
        with xr.open_dataset(path) as ds:
            job = ds.attrs["provenance_slurm_job_id"]
            step = ds.attrs["provenance_step"]
        steps.add(step)
        if step in local:
            assert job == "none", f"{path} of local rule {step} ran as SLURM job {job}"
        else:
            assert job.isdigit(), f"{path} ({step}) was not written inside a SLURM job"
    assert steps - local and steps & local, steps


def test_sweep_rule_ran_as_one_job_array(slurm_run):
    arrays = set()
    for split in ("train", "validation", "test"):
        with xr.open_dataset(slurm_run / "results" / "data" / f"{split}.nc") as ds:
            arrays.add(ds.attrs["provenance_slurm_array_job_id"])
    assert len(arrays) == 1 and "none" not in arrays, arrays
    logs = list((slurm_run / ".snakemake" / "slurm_logs" / f"rule_{ARRAY_RULE}").glob("*_*.log"))
    assert len(logs) == 3, logs


def test_results_equal_a_local_run_bitwise(slurm_run, tiny_run):
    for local in _netcdf_outputs(tiny_run):
        remote = slurm_run / local.relative_to(tiny_run)
        with xr.open_dataset(local) as a, xr.open_dataset(remote) as b:
            assert json.loads(a.attrs["provenance_params"]) == json.loads(
                b.attrs["provenance_params"]
            )
            for name in a.data_vars:
                if a[name].attrs.get("timing") == "true":  # wall-clock times differ, by nature
                    continue
                np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(local))


def test_rerun_through_slurm_has_nothing_to_do(slurm_run):
    proc = snakemake("-n", "--configfile", str(TINY), workdir=slurm_run, timeout=120)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_small_jobs_travelled_in_bundles(slurm_run):
    """Surrogate trainings and roll-outs share SLURM jobs (group jobs), yet each wrote its own
    files: fewer submissions, the same files and rerun granularity."""
    rollouts = sorted((slurm_run / "results" / "surrogate").rglob("rollout.nc"))
    jobs = set()
    for path in rollouts:
        with xr.open_dataset(path) as ds:
            jobs.add(ds.attrs["provenance_slurm_job_id"])
    assert len(rollouts) >= 4 and len(jobs) < len(rollouts), (len(jobs), len(rollouts))
