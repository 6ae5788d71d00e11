"""Logging set-up shared by the workflow's entry scripts: one log file per job plus stderr."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(path: str | os.PathLike[str] | None, name: str = "ddmdyn") -> logging.Logger:
    """Send INFO-level records of the `ddmdyn` loggers to `path` and to stderr.

    The log file is appended to, not truncated: when a job is retried (after a time limit, a
    preemption or a failure), the earlier attempt's lines and traceback stay above the new ones,
    separated by a "job started" line. Returns the logger called `name`. Also records the host and
    the SLURM job id when the job runs under SLURM, so the log shows where a result was computed.
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
        handlers.append(logging.FileHandler(path, mode="a"))
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.propagate = False
    logger = logging.getLogger(name)

    def log_uncaught(exc_type, exc, tb) -> None:  # the traceback belongs in the job's log too
        logger.error("job failed", exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught
    job = os.environ.get("SLURM_JOB_ID")
    logger.info(
        "==== job started: host %s, SLURM job %s", os.uname().nodename, job or "none (local)"
    )
    return logger
