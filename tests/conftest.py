"""Session fixtures shared by the workflow and scheduler tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smk import TINY, snakemake


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The whole DAG run end to end with the tiny config; returns the working directory."""
    workdir = tmp_path_factory.mktemp("tiny")
    snakemake("--configfile", str(TINY), "--cores", "2", workdir=workdir)
    return workdir
