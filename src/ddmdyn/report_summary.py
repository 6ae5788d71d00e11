"""The first page of the report: preset, commit, date, where each step ran and what was skipped.

Everything here reads files (netCDF provenance attributes, the preset and paper config
mappings, Snakemake's own log files) and writes one HTML page; nothing knows about Snakemake's
API.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netCDF4

from .io import PROVENANCE_PREFIX
from .report_tables import html_page

NO_JOB = "none"


@dataclass(frozen=True)
class Provenance:
    """Provenance attributes of one result file (see :func:`ddmdyn.io.provenance_attrs`)."""

    path: str
    step: str
    git_commit: str
    git_dirty: str
    created: str
    slurm_job_id: str

    @property
    def ran_on_slurm(self) -> bool:
        return self.slurm_job_id not in ("", NO_JOB)


def read_provenance(path: str | os.PathLike[str]) -> Provenance:
    """The provenance attributes of a netCDF file, read without loading any variable.

    Missing attributes read as "unknown" (a file not written by :func:`ddmdyn.io.write_netcdf`).
    """
    with netCDF4.Dataset(path) as ds:
        attrs = {k: str(ds.getncattr(k)) for k in ds.ncattrs() if k.startswith(PROVENANCE_PREFIX)}

    def get(key: str) -> str:
        return attrs.get(PROVENANCE_PREFIX + key, "unknown")

    return Provenance(
        path=str(path),
        step=get("step"),
        git_commit=get("git_commit"),
        git_dirty=get("git_dirty"),
        created=get("created"),
        slurm_job_id=attrs.get(PROVENANCE_PREFIX + "slurm_job_id", NO_JOB),
    )


@dataclass
class StepRuns:
    """Where the files of one workflow step were made."""

    step: str
    n_files: int = 0
    n_local: int = 0
    slurm_job_ids: list[str] = field(default_factory=list)
    first_created: str = ""
    last_created: str = ""

    @property
    def where(self) -> str:
        if not self.slurm_job_ids:
            return "local"
        ids = sorted(set(self.slurm_job_ids), key=lambda s: (len(s), s))
        shown = ", ".join(ids[:8]) + (f", … ({len(ids)} jobs)" if len(ids) > 8 else "")
        prefix = f"{self.n_local} local, " if self.n_local else ""
        return f"{prefix}SLURM job {shown}" if len(ids) == 1 else f"{prefix}SLURM jobs {shown}"


def runs_by_step(records: Iterable[Provenance]) -> list[StepRuns]:
    """Files grouped by the step that made them: count, local vs SLURM job ids, time span."""
    steps: dict[str, StepRuns] = {}
    for rec in records:
        s = steps.setdefault(rec.step, StepRuns(rec.step))
        s.n_files += 1
        if rec.ran_on_slurm:
            s.slurm_job_ids.append(rec.slurm_job_id)
        else:
            s.n_local += 1
        if rec.created != "unknown":
            s.first_created = min(s.first_created or rec.created, rec.created)
            s.last_created = max(s.last_created, rec.created)
    return list(steps.values())


def git_describe(repo: str | os.PathLike[str]) -> str:
    """`git describe --always --dirty --tags` of a checkout; "unknown" outside git."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------------------------
# What this preset leaves out of the paper
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConfigDifference:
    """One config key whose value in the preset differs from the paper preset."""

    key: str
    paper: Any
    preset: Any
    missing: tuple = ()

    @property
    def description(self) -> str:
        if self.missing:
            items = ", ".join(str(m) for m in self.missing)
            return f"not run: {items}"
        return f"{self.preset!r} instead of {self.paper!r}"


def _leaves(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_leaves(value, name + "."))
        else:
            out[name] = value
    return out


def config_differences(
    preset: Mapping[str, Any],
    paper: Mapping[str, Any],
    ignore: Sequence[str] = ("preset", "results", "device"),
) -> list[ConfigDifference]:
    """Every key where `preset` differs from the paper's config, in the paper's key order.

    For list values the paper's items absent from the preset are listed (variants, seeds,
    methods, sweep points the preset does not run); other values are shown side by side.
    Keys under any `threads` are ignored (they change where work runs, not what is computed).
    """
    mine, theirs = _leaves(preset), _leaves(paper)
    diffs = []
    for key, paper_value in theirs.items():
        if key in ignore or key.split(".")[-1] == "threads":
            continue
        value = mine.get(key, paper_value)
        if value == paper_value:
            continue
        missing: tuple = ()
        if isinstance(paper_value, list) and isinstance(value, list):
            missing = tuple(v for v in paper_value if v not in value)
        diffs.append(ConfigDifference(key, paper_value, value, missing))
    return diffs


# --------------------------------------------------------------------------------------------
# Jobs that failed
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FailedJob:
    """A job Snakemake reported as failed in one of its log files."""

    rule: str
    details: dict[str, str]
    snakemake_log: str

    @property
    def outputs(self) -> list[str]:
        return [o.strip() for o in self.details.get("output", "").split(",") if o.strip()]


_ERROR = re.compile(r"^Error in rule (\S+?):\s*$")
_DETAIL = re.compile(r"^ {4}(\w[\w-]*): (.*)$")


def failed_jobs(log_files: Iterable[str | os.PathLike[str]]) -> list[FailedJob]:
    """Jobs reported as "Error in rule ..." in Snakemake's log files, with their details
    (jobid, output, log, external job id, ...), in the order of the logs."""
    jobs = []
    for path in log_files:
        lines = Path(path).read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            m = _ERROR.match(line)
            if not m:
                continue
            details: dict[str, str] = {}
            for follow in lines[i + 1 :]:
                d = _DETAIL.match(follow)
                if not d:
                    break
                details[d.group(1)] = d.group(2).replace(
                    " (check log file(s) for error details)", ""
                )
            jobs.append(FailedJob(m.group(1), details, str(path)))
    return jobs


def snakemake_logs(workdir: str | os.PathLike[str]) -> list[Path]:
    """Snakemake's own log files of a working directory, oldest first."""
    folder = Path(workdir, ".snakemake", "log")
    return sorted(folder.glob("*.snakemake.log")) if folder.is_dir() else []


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _commit_text(commit: str, dirty: str) -> str:
    if commit == "unknown":
        return "not recorded (the job found no git checkout)"
    return commit[:12] + (" (uncommitted changes)" if dirty == "true" else "")


def summary_page(
    *,
    preset: str,
    commit: str,
    made_at: _dt.datetime,
    records: Sequence[Provenance],
    differences: Sequence[ConfigDifference],
    failed: Sequence[FailedJob],
    not_made: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """The report's first page as HTML.

    Args:
        preset: the config preset name.
        commit: ``git describe`` of the checkout that made this page.
        made_at: when the page was made (UTC).
        records: provenance of the result files.
        differences: config keys where the preset differs from the paper.
        failed: jobs Snakemake logged as failed in this working directory.
        not_made: parts of the paper this configuration does not make at all (free text).
        notes: further lines shown under "What was skipped".
    """
    body = [f"<h1>Run summary: preset <code>{html.escape(preset)}</code></h1>"]
    body += _facts_section(preset, commit, made_at, records)
    body += _where_section(records)
    body.append("<h2>What was skipped</h2>")
    body += _failed_section(failed)
    body += _not_made_section(not_made, notes)
    body += _preset_section(preset, differences)
    return html_page(f"Run summary ({preset})", "\n".join(body))


def _facts_section(
    preset: str, commit: str, made_at: _dt.datetime, records: Sequence[Provenance]
) -> list[str]:
    """Preset, commits, date and file counts; a warning when the results mix commits."""
    body: list[str] = []
    commits = sorted({(r.git_commit, r.git_dirty) for r in records})
    on_slurm = sum(r.ran_on_slurm for r in records)
    facts = [
        ("Preset", preset),
        ("Commit (this page)", commit),
        ("Page made", made_at.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        (
            "Commits of the result files",
            "; ".join(_commit_text(c, d) for c, d in commits) or "none read",
        ),
        ("Result files read", f"{len(records)} ({on_slurm} made under SLURM)"),
    ]
    body.append(_table(["", ""], facts))
    if len(commits) > 1:
        body.append(
            "<p class='warning'>The results come from more than one commit or from a checkout "
            "with uncommitted changes; see the table below.</p>"
        )
    return body


def _where_section(records: Sequence[Provenance]) -> list[str]:
    """Which step wrote how many files, under which SLURM jobs; the files per commit if several."""
    body = ["<h2>What ran where</h2>"]
    body.append(
        "<p class='muted'>From the provenance attributes of every result file: the step that "
        "wrote it, and the SLURM job id it ran under (local = not under SLURM).</p>"
    )
    steps = runs_by_step(records)
    body.append(
        _table(
            ["step", "files", "where", "first file", "last file"],
            [(s.step, s.n_files, s.where, s.first_created, s.last_created) for s in steps],
        )
    )
    by_commit: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in records:
        by_commit[(r.git_commit, r.git_dirty)].append(r.step)
    if len(by_commit) > 1:
        body.append(
            _table(
                ["commit", "uncommitted changes", "files", "steps"],
                [
                    (c, d, len(s), ", ".join(sorted(set(s))))
                    for (c, d), s in sorted(by_commit.items())
                ],
            )
        )
    return body


def _failed_section(failed: Sequence[FailedJob]) -> list[str]:
    """The jobs Snakemake logged as failed, and whether their outputs exist now."""
    body: list[str] = []
    if failed:
        body.append("<h3 class='warning'>Jobs that failed</h3>")
        body.append(
            _table(
                ["rule", "output", "now present", "job log", "Snakemake log"],
                [
                    (
                        j.rule,
                        ", ".join(j.outputs) or "-",
                        "yes" if j.outputs and all(Path(o).exists() for o in j.outputs) else "no",
                        j.details.get("log", "-"),
                        Path(j.snakemake_log).name,
                    )
                    for j in failed
                ],
            )
        )
        body.append(
            "<p class='muted'>From Snakemake's logs in <code>.snakemake/log</code>: a job "
            "marked 'now present' failed once and was made by a later run.</p>"
        )
    else:
        body.append("<p>No failed jobs in Snakemake's logs of this working directory.</p>")
    return body


def _not_made_section(not_made: Sequence[str], notes: Sequence[str]) -> list[str]:
    """Parts of the paper this configuration does not make, and further notes."""
    body: list[str] = []
    if not_made:
        body.append("<h3>Parts of the paper this configuration does not make</h3>")
        body.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in not_made) + "</ul>")
    for note in notes:
        body.append(f"<p>{html.escape(note)}</p>")
    return body


def _preset_section(preset: str, differences: Sequence[ConfigDifference]) -> list[str]:
    """Config keys where the preset differs from the paper preset."""
    body = [f"<h3>Preset <code>{html.escape(preset)}</code> against the paper preset</h3>"]
    if differences:
        body.append(
            _table(
                ["config key", "paper", "this preset"],
                [(d.key, d.paper, d.description if d.missing else d.preset) for d in differences],
            )
        )
    else:
        body.append("<p>The paper preset: nothing reduced or left out.</p>")
    return body
