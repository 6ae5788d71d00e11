"""Progress lines a person can read in a batch log: done/total, rate, ETA and current scores.

Long jobs (training, sampling, data assimilation) call `ProgressLog.update` after each unit of work;
a line is written only when the work has advanced by `every_fraction` of the total or `every_s`
seconds have passed since the last line (and never more often than `min_interval_s`), plus one
line at the end. No carriage returns: under SLURM the log is a file, not a terminal. An
interactive tqdm bar is added only when stderr is a terminal.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

__all__ = ["ProgressLog", "format_duration"]


def format_duration(seconds: float) -> str:
    """'42 s', '7.5 min' or '3.2 h' (rounded for reading, not for computing)."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLog:
    """Rate-limited progress lines for a loop of `total` units.

    Args:
        total: units of work of the whole job (steps, cycles, batches).
        log: receives each line (e.g. a `logging.Logger.info`).
        unit: name of one unit in the lines ("step", "cycle").
        start: units already done before this process started (a resumed job); the rate and ETA
            count only the units done here.
        every_fraction: write a line each time this fraction of `total` has been done.
        every_s: write a line at least this often (seconds) while work advances.
        min_interval_s: never write two lines closer than this (seconds), except the last one.
        bar: show a tqdm bar on stderr; None = only when stderr is a terminal.
        clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        total: int,
        log: Callable[[str], None],
        *,
        unit: str = "step",
        start: int = 0,
        every_fraction: float = 0.01,
        every_s: float = 60.0,
        min_interval_s: float = 5.0,
        bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total < 0 or start < 0:
            raise ValueError(f"total ({total}) and start ({start}) must be >= 0")
        self.total, self.unit, self._log, self._clock = int(total), unit, log, clock
        self.start = self._last_done = int(start)
        self.every_units = max(1, math.ceil(every_fraction * max(self.total, 1)))
        self.every_s, self.min_interval_s = float(every_s), float(min_interval_s)
        self._t0 = self._last_t = clock()
        self._finished = False
        self._bar = None
        if bar or (bar is None and sys.stderr.isatty()):
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.start, file=sys.stderr, desc=unit)

    def rate(self, done: int) -> float:
        """Units per second done by this process so far."""
        dt = self._clock() - self._t0
        return (done - self.start) / dt if dt > 0 else math.nan

    def line(self, done: int, **scores: float) -> str:
        """The progress line for `done` units with `scores` (name -> value) appended."""
        rate = self.rate(done)
        eta = (self.total - done) / rate if rate > 0 else math.nan
        pct = 100.0 * done / self.total if self.total else 100.0
        parts = [
            f"{self.unit} {done}/{self.total} ({pct:.1f} %)",
            f"{rate:.3g} {self.unit}/s",
            f"elapsed {format_duration(self._clock() - self._t0)}",
            f"ETA {format_duration(eta) if done < self.total else '0 s'}",
        ]
        parts += [f"{name} {value:.5g}" for name, value in scores.items()]
        return ", ".join(parts)

    def move_bar(self, done: int) -> None:
        """Move the interactive bar (if any) to `done` units, writing no line."""
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def due(self, done: int) -> bool:
        """Whether `update(done)` would write a line (lets callers compute scores only then)."""
        if done >= self.total:
            return not self._finished
        now = self._clock()
        advanced = done - self._last_done
        due = advanced >= self.every_units or (advanced > 0 and now - self._last_t >= self.every_s)
        return due and now - self._last_t >= self.min_interval_s

    def update(self, done: int, **scores: float) -> bool:
        """Record that `done` units are finished; write a line if one is due. True if written."""
        self.move_bar(done)
        if not self.due(done):
            return False
        now = self._clock()
        if done >= self.total:
            self._finished = True
            self.close()
        self._log(self.line(done, **scores))
        self._last_done, self._last_t = done, now
        return True

    def __enter__(self) -> ProgressLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the interactive bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
