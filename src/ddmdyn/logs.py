"""Logging set-up shared by the workflow's entry scripts: one log file per job plus stderr."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path


def earlier_attempts_file(path: str | os.PathLike[str]) -> Path:
    """Where a failed attempt's log waits for the retry: ``LOG.earlier-attempts``."""
    return Path(f"{path}.earlier-attempts")


def setup_logging(path: str | os.PathLike[str] | None, name: str = "ddmdyn") -> logging.Logger:
    """Send INFO-level records of the `ddmdyn` loggers to `path` and to stderr.

    A retried job keeps the failed attempt's log: Snakemake deletes a job's log file before each
    attempt, so a failing attempt (an uncaught exception, including the checkpoint-and-exit on
    SLURM's SIGTERM before a time limit) copies its whole log to `earlier_attempts_file(path)`,
    and the next attempt writes that history at the top of its log, each attempt opening with a
    "==== job started" line. Returns the logger called `name`. Also records the host and the SLURM
    job id when the job runs under SLURM, so the log shows where a result was computed.
    """
    root = logging.getLogger("ddmdyn")
    root.setLevel(logging.INFO)
    for old in root.handlers:
        old.close()
    root.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        earlier = earlier_attempts_file(path)
        if earlier.exists():  # the history of failed attempts first
            with open(path, "a") as log_file, open(earlier) as history:
                shutil.copyfileobj(history, log_file)
            earlier.unlink()
        handlers.append(logging.FileHandler(path, mode="a"))
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.propagate = False
    logger = logging.getLogger(name)

    def log_uncaught(exc_type, exc, tb) -> None:  # the traceback belongs in the job's log too
        logger.error("job failed", exc_info=(exc_type, exc, tb))
        if path is not None:
            for handler in root.handlers:
                handler.flush()
            shutil.copyfile(path, earlier_attempts_file(path))  # kept for the retry's log

    sys.excepthook = log_uncaught
    job = os.environ.get("SLURM_JOB_ID")
    logger.info(
        "==== job started: host %s, SLURM job %s", os.uname().nodename, job or "none (local)"
    )
    return logger
