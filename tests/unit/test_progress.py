"""Progress lines: rate and ETA from a known clock, rate limits, resumed jobs, no bar in files."""

from __future__ import annotations

import pytest

from ddmdyn.progress import ProgressLog, format_duration


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _written(meter, clock, n_done, step_s):
    """Counts 1..n_done, `step_s` clock seconds apart; returns the counts `meter` wrote lines at."""
    written = []
    for done in range(1, n_done + 1):
        clock.t += step_s
        if meter.update(done):
            written.append(done)
    return written


def test_line_reports_rate_eta_and_scores_from_the_clock():
    clock, lines = Clock(), []
    meter = ProgressLog(1000, lines.append, unit="cycle", clock=clock, bar=False)
    clock.t += 50.0  # 250 cycles in 50 s = 5 cycles/s; 750 left = 150 s
    assert meter.update(250, rmse=0.25)
    assert lines == [
        "cycle 250/1000 (25.0 %), 5 cycle/s, elapsed 50 s, ETA 2.5 min, rmse 0.25",
    ]


def test_one_line_per_fraction_or_interval_never_closer_than_min_interval():
    clock, lines = Clock(), []
    meter = ProgressLog(
        10_000,
        lines.append,
        clock=clock,
        every_fraction=0.1,
        every_s=60.0,
        min_interval_s=5.0,
        bar=False,
    )
    # 100 units/s: 10 % = 1000 units = 10 s, so fractions decide
    assert _written(meter, clock, 10_000, 0.01) == list(range(1000, 10_001, 1000))
    # slow work: 1 unit per 20 s, far below 10 % -> a line every 60 s
    clock2 = Clock()
    slow = ProgressLog(10_000, [].append, clock=clock2, every_s=60.0, bar=False)
    assert _written(slow, clock2, 9, 20.0) == [3, 6, 9]
    # fast work: every unit passes 1 % but lines stay >= 5 s apart
    clock3 = Clock()
    fast = ProgressLog(100, [].append, clock=clock3, min_interval_s=5.0, bar=False)
    assert _written(fast, clock3, 50, 1.0) == list(range(5, 51, 5))


def test_final_line_once_and_resume_counts_only_new_work():
    clock, lines = Clock(), []
    meter = ProgressLog(100, lines.append, start=60, clock=clock, min_interval_s=1e9, bar=False)
    clock.t += 8.0
    assert not meter.update(80)  # within the minimum interval
    clock.t += 2.0
    assert meter.update(100)  # the last line is always written
    assert not meter.update(100)
    assert len(lines) == 1
    assert lines[0].startswith("step 100/100 (100.0 %), 4 step/s")  # 40 new steps in 10 s


def test_no_interactive_bar_when_stderr_is_not_a_terminal(capsys):
    lines = []
    with ProgressLog(10, lines.append, every_fraction=0.5, min_interval_s=0.0) as meter:
        for done in range(1, 11):
            meter.update(done)
    err = capsys.readouterr().err
    assert "\r" not in err and err == ""
    assert [line.split(",")[0] for line in lines] == ["step 5/10 (50.0 %)", "step 10/10 (100.0 %)"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(42, "42 s"), (450, "7.5 min"), (3.2 * 3600, "3.2 h"), (float("nan"), "?")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_bad_totals_are_rejected():
    with pytest.raises(ValueError, match="total"):
        ProgressLog(-1, print)
