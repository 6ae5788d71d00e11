"""Session fixtures shared by the workflow and scheduler tests, and the rules on skips.

- `tiny_run`: the whole tiny DAG, run once per session.
- In CI (environment CI=true) on a machine that can run SLURM (root, slurmctld / slurmd / munged /
  sinfo installed), a skipped scheduler test (marker `slurm`) is reported as a FAILURE: there the
  only reason to skip would be a cluster that failed to start, which is a real failure.
- Tests marked `gpu` are skipped, with the reason, where CUDA is unavailable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.smk import TINY, snakemake

SLURM_TOOLS = ("slurmctld", "slurmd", "munged", "sinfo")


def in_ci() -> bool:
    """True under a CI runner (CI=true or CI=1, as GitHub Actions, GitLab CI and .ci set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def slurm_can_run_here() -> bool:
    """Root and every SLURM / munge daemon installed: start_slurm.sh has no reason to refuse."""
    installed = all(shutil.which(t) or Path("/usr/sbin", t).exists() for t in SLURM_TOOLS)
    return os.geteuid() == 0 and installed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("slurm") and in_ci() and slurm_can_run_here():
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            "scheduler test skipped in CI on a machine that can run SLURM (root, packages "
            f"installed): a skip here hides a failure. Skip reason: {reason}"
        )


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The whole DAG run end to end with the tiny config; returns the working directory.

    DDMDYN_TINY_RUN=<dir> reuses (and first completes) a tiny run in <dir>, for developing tests.
    """
    reuse = os.environ.get("DDMDYN_TINY_RUN")
    workdir = Path(reuse) if reuse else tmp_path_factory.mktemp("tiny")
    snakemake("--configfile", str(TINY), "--cores", "2", workdir=workdir)
    return workdir
