"""A data-assimilation run interrupted on the real scheduler resumes on the retry, bit for bit.

One DA test run (rule da_run_diffusion, EnOI with 50 diffusion members at the authors' S, made
long enough to interrupt by a config edit) goes through the SLURM executor (``retries: 1``). Once
its job log shows a progress line, the job's steps receive SIGTERM (``scancel --signal=TERM``, what
``--signal=TERM@300`` does five minutes before a time limit). The run checkpoints its cycling state
after the current cycle and fails; the retry must resume at that cycle, log its progress, and end
with scores equal to an uninterrupted local run of the same config, bit for bit.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.scheduler.test_slurm import slurm_cluster  # noqa: F401
from tests.scheduler.test_slurm_resume import _slurm_jobs_of, _stop, start_with_one_retry
from tests.smk import TINY, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.usefixtures("slurm_cluster")]

METHOD, OBS_EVERY = "ddm_enoi_50", 10
TARGET = f"results/assimilation/runs/obs{OBS_EVERY}/{METHOD}.nc"
JOB_LOG = f"results/logs/assimilation/runs/obs{OBS_EVERY}/{METHOD}.log"
# the authors' S = 13 of 100 coarse steps (tiny trains 100 diffusion steps, samples 10 coarse ones)
EDIT = {
    "ensembles": {"n_coarse_steps": 100},
    "assimilation": {"tuned": "fixed", "n_burn_in": 20, "n_cycles": 5000},
}
RUN_TIMEOUT_S = 900


def _edit(folder: Path) -> Path:
    path = folder / "long_da.yaml"
    path.write_text(yaml.safe_dump(EDIT))
    return path


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("da_resume_local")
    work = base / "work"
    snakemake(
        "--configfile", str(TINY), str(_edit(base)), "--cores", "1", TARGET,
        workdir=work, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    return work


def _wait_for_progress(log: Path, proc: subprocess.Popen, timeout_s: float) -> str:
    """The SLURM job id of the attempt whose log shows its first cycling progress line."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and re.search(r"cycle \d+/\d+", log.read_text()):
            return _slurm_jobs_of(log)[-1]
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(
                f"snakemake ended before the DA run progressed:\n{out[-3000:]}\n{err[-6000:]}"
            )
        time.sleep(0.2)
    pytest.fail(f"no progress line in {log} within {timeout_s} s")


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("da_resume_slurm")
    proc, work = start_with_one_retry(base, _edit(base), TARGET)
    try:
        job = _wait_for_progress(work / JOB_LOG, proc, RUN_TIMEOUT_S)
        subprocess.run(["scancel", "--signal=TERM", job], check=True, timeout=60)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        _stop(proc)
    assert proc.returncode == 0, f"snakemake failed:\n{out[-3000:]}\n{err[-8000:]}"
    return work, job


def test_retry_resumed_at_the_checkpointed_cycle(interrupted_run) -> None:
    work, job = interrupted_run
    text = (work / JOB_LOG).read_text()  # both attempts: the log is appended to
    attempts = _slurm_jobs_of(work / JOB_LOG)
    assert attempts[0] == job and attempts[-1] != job, attempts
    stopped = re.search(r"assimilation interrupted by signal (\d+) after cycle (\d+)", text)
    assert stopped, f"the interrupted job did not checkpoint on SIGTERM:\n{text[-4000:]}"
    assert int(stopped.group(1)) == signal.SIGTERM
    resumed = re.search(r"resumed from \S+ at cycle (\d+)", text)
    assert resumed, f"the retry started over instead of resuming:\n{text[-4000:]}"
    assert resumed.group(1) == stopped.group(2), "the retry lost cycles"
    total = re.findall(r"cycle (\d+)/(\d+) \(100\.0 %\)", text)
    assert total and total[-1][0] == total[-1][1], "the retry did not log its last cycle"
    assert not any((work / "results" / "checkpoints").rglob("*.checkpoint")), "stale checkpoint"


def test_resumed_scores_equal_an_uninterrupted_local_run(interrupted_run, local_reference):
    work, _ = interrupted_run
    assert "resumed from" not in (local_reference / JOB_LOG).read_text()
    with xr.open_dataset(work / TARGET) as a, xr.open_dataset(local_reference / TARGET) as b:
        assert a.attrs["provenance_params_hash"] == b.attrs["provenance_params_hash"]
        assert set(a.data_vars) == set(b.data_vars)
        for name in b.data_vars:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
