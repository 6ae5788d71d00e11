"""Job logs: a retried job appends to the failed attempt's log instead of erasing it."""

from __future__ import annotations

import logging

from ddmdyn.logs import setup_logging


def test_second_attempt_appends_to_the_first_attempts_log(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "job.log"
    monkeypatch.setenv("SLURM_JOB_ID", "101")
    setup_logging(path).error("attempt 1 hit its time limit")
    monkeypatch.setenv("SLURM_JOB_ID", "102")
    setup_logging(path).info("attempt 2 resumed")
    logging.getLogger("ddmdyn").handlers.clear()
    text = path.read_text()
    assert text.count("==== job started") == 2
    first, second = text.index("SLURM job 101"), text.index("SLURM job 102")
    assert first < text.index("attempt 1 hit its time limit") < second
    assert second < text.index("attempt 2 resumed")
