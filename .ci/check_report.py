"""Check that a Snakemake report embeds every figure and every table the workflow makes.

The expected files come from the workflow itself: a forced dry run (`snakemake -n --forceall`)
in the run's working directory lists every planned output; those under `{results}/figures/` with
a `.png` suffix are the figures, those under `{results}/tables/` the tables (grouped by name: a
table counts as embedded when one of its files, e.g. the CSV, is). A file is embedded when its
bytes, base64-encoded as in the report's data URIs, occur in the HTML, so a stale or empty entry
does not count.

Usage: python .ci/check_report.py --workdir RUN_DIR --configfile PRESET RUN_DIR/results/report.html
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def planned_outputs(dry_run_stdout: str) -> set[str]:
    """Output paths of the `output:` lines of a dry run."""
    outs: set[str] = set()
    for line in dry_run_stdout.splitlines():
        line = line.strip()
        if line.startswith("output:"):
            outs.update(p.strip() for p in line[len("output:") :].split(",") if p.strip())
    return outs


def workflow_outputs(workdir: Path, configfiles: list[str], repo: Path) -> set[str]:
    """Every output a forced dry run of the default target plans, relative to `workdir`."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile", *configfiles]
    cmd += ["--directory", str(workdir)]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"dry run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    outs = planned_outputs(proc.stdout)
    if not outs:
        raise SystemExit(f"the dry run planned no outputs:\n{proc.stdout[-3000:]}")
    return outs


def expected_figures_and_tables(
    outputs: set[str], results: str = "results"
) -> tuple[list[str], dict[str, list[str]]]:
    """(figure PNG paths, {table name: its files}) among planned outputs."""
    figures = sorted(
        p for p in outputs if p.startswith(f"{results}/figures/") and p.endswith(".png")
    )
    tables: dict[str, list[str]] = defaultdict(list)
    for p in sorted(outputs):
        if p.startswith(f"{results}/tables/"):
            tables[Path(p).stem].append(p)
    return figures, dict(tables)


def embedded(html: str, path: Path) -> bool:
    """Whether the file's bytes appear base64-encoded (a data URI payload) in the report."""
    payload = base64.b64encode(path.read_bytes()).decode()
    return bool(payload) and payload in html


def check(report: Path, workdir: Path, configfiles: list[str], repo: Path) -> list[str]:
    """Problems found (empty = the report embeds every figure and table)."""
    if not report.is_file() or report.stat().st_size == 0:
        return [f"{report}: no report"]
    html = report.read_text(errors="replace")
    figures, tables = expected_figures_and_tables(workflow_outputs(workdir, configfiles, repo))
    problems = []
    if not figures:
        problems.append("the workflow plans no figures (results/figures/*.png)")
    if not tables:
        problems.append("the workflow plans no tables (results/tables/*)")
    for fig in figures:
        if not (workdir / fig).is_file():
            problems.append(f"figure {fig} was not made")
        elif not embedded(html, workdir / fig):
            problems.append(f"figure {fig} is not embedded in the report")
    for name, files in tables.items():
        made = [f for f in files if (workdir / f).is_file()]
        if not made:
            problems.append(f"table {name} was not made ({files})")
        elif not any(embedded(html, workdir / f) for f in made):
            problems.append(f"table {name} is not embedded in the report (none of {made})")
    print(f"{report}: checked {len(figures)} figures and {len(tables)} tables")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--workdir", type=Path, required=True, help="the run's working directory")
    parser.add_argument("--configfile", nargs="+", required=True, help="the run's presets")
    parser.add_argument(
        "--repo", type=Path, default=None, help="workflow checkout (default: the workdir)"
    )
    args = parser.parse_args(argv)
    repo = (args.repo or args.workdir).resolve()
    problems = check(args.report.resolve(), args.workdir.resolve(), args.configfile, repo)
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
