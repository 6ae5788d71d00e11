"""Job logs: a retried job's log keeps the failed attempts above its own lines."""

from __future__ import annotations

import logging
import sys

from ddmdyn.logs import earlier_attempts_file, setup_logging


def _fail(exc: BaseException) -> None:
    """What Python does with an uncaught exception: call sys.excepthook."""
    sys.excepthook(type(exc), exc, exc.__traceback__)


def test_retry_log_starts_with_the_failed_attempts(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "job.log"
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setenv("SLURM_JOB_ID", "101")
    setup_logging(path).info("attempt 1 at cycle 500")
    _fail(RuntimeError("assimilation interrupted by signal 15 after cycle 512"))
    path.unlink()  # Snakemake removes a job's log before the retry
    monkeypatch.setenv("SLURM_JOB_ID", "102")
    setup_logging(path).info("attempt 2 resumed")
    logging.getLogger("ddmdyn").handlers.clear()
    text = path.read_text()
    assert text.count("==== job started") == 2
    order = [
        "SLURM job 101",
        "attempt 1 at cycle 500",
        "job failed",
        "interrupted by signal 15 after cycle 512",
        "SLURM job 102",
        "attempt 2 resumed",
    ]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions), text
    assert not earlier_attempts_file(path).exists()  # consumed by the retry


def test_successful_job_leaves_no_history_behind(tmp_path):
    path = tmp_path / "job.log"
    setup_logging(path).info("done")
    logging.getLogger("ddmdyn").handlers.clear()
    assert not earlier_attempts_file(path).exists()
    setup_logging(path).info("again")  # an existing log is appended to, never truncated
    logging.getLogger("ddmdyn").handlers.clear()
    assert path.read_text().count("==== job started") == 2
