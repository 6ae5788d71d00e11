"""Helpers for workflow and scheduler tests: run Snakemake as a user would, parse dry runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
TINY = ROOT / "tests" / "config" / "tiny.yaml"


def figure_catalogue() -> dict[str, dict]:
    """The workflow's figure catalogue (workflow/figures.yaml): {figure name: entry}, in order."""
    return yaml.safe_load((ROOT / "workflow" / "figures.yaml").read_text())


def snakemake(
    *args: str,
    workdir: Path | None = None,
    check: bool = True,
    timeout: int = 1800,
    env: dict[str, str] | None = None,
):
    """Run `snakemake ARGS` from the repository root (so profiles/default applies).

    `env`: the environment (default: this process's), e.g. with XDG_CONFIG_HOME pointing at the
    folder where `python -m ddmdyn.cluster init` wrote the profile `slurm`.
    """
    cmd = [sys.executable, "-m", "snakemake", *args]
    if workdir is not None:
        cmd += ["--directory", str(workdir)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    return proc


def planned_jobs(output: str) -> dict[str, int]:
    """Parse the 'Job stats' table of a dry run into {rule: count} (empty if nothing to do)."""
    jobs: dict[str, int] = {}
    in_table = False
    for line in output.splitlines():
        if line.startswith("Job stats:"):
            in_table = True
            continue
        if in_table:
            m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
            if m and m.group(1) != "total":
                jobs[m.group(1)] = int(m.group(2))
            elif line.strip().startswith("total"):
                break
    return jobs


def planned_outputs(output: str) -> set[str]:
    """Output paths of the jobs a dry run would execute."""
    outs: set[str] = set()
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("output:"):
            outs.update(p.strip() for p in line[len("output:") :].split(","))
    return outs
