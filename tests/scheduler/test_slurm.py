"""The tiny DAG through a real SLURM 22.05 scheduler, via a profile derived from profiles/slurm.

The test starts a single-node cluster itself (tests/scheduler/start_slurm.sh) and skips, with the
reason, only where that is impossible (not root, SLURM not installed: start_slurm.sh exits 2).
A cluster that fails to start fails the tests, and in CI any skip fails (tests/conftest.py).
Every Snakemake call runs under a timeout so a misbehaving scheduler fails the test instead of
hanging it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.smk import ROOT, TINY, snakemake

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


def derived_profile(folder: Path) -> Path:
    """profiles/slurm with the placeholders filled for the local test cluster, fast polling."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    default = profile["default-resources"]
    default["slurm_partition"] = "debug"
    default.pop("slurm_account")  # no accounting database on the test cluster
    default.update(mem_mb=1000, cpus_per_task=1)
    for resources in profile["set-resources"].values():
        resources.update(slurm_partition="debug", mem_mb=2000, cpus_per_task=1)
    profile.update(
        {
            "slurm-init-seconds-before-status-checks": 1,
            "seconds-between-status-checks": 2,
            "retries": 0,
            "latency-wait": 10,
            "keep-going": False,
            "slurm-array-jobs": ARRAY_RULE,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("slurm")
    profile = derived_profile(base / "profile")
    workdir = base / "work"
    snakemake("--profile", str(profile), "--configfile", str(TINY), workdir=workdir, timeout=1500)
    return workdir


def _netcdf_outputs(workdir: Path) -> list[Path]:
    return sorted((workdir / "results").rglob("*.nc"))


def test_every_job_ran_as_a_slurm_job(slurm_run):
    files = _netcdf_outputs(slurm_run)
    assert files
    for path in files:
        with xr.open_dataset(path) as ds:
            job = ds.attrs["provenance_slurm_job_id"]
        assert job != "none" and job.isdigit(), f"{path} was not written inside a SLURM job"


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
