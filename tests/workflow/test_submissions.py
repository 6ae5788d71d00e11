"""How many SLURM submissions the paper DAG makes through the repository's SLURM profile.

Counted from a dry run through `profiles/slurm` (placeholders filled as `python -m ddmdyn.cluster
init` does): every job block and every group-job block of the dry run is one `sbatch`, except jobs
of local rules (the Snakefile's `localrules:`), which run where Snakemake runs. A job array would
count as one submission, but the profile submits none. Run with `-s` to see the table.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from ddmdyn.slurm_profile import SiteFacts, render_profile
from tests.smk import ROOT, TINY, figure_catalogue, planned_jobs, snakemake

PAPER = ROOT / "config" / "config.yaml"
SUBMISSION_LIMIT = 600

#: rules that do real work and are submitted (alone or in a group); everything else is local
CLUSTER_RULES = {
    "simulate_trajectories",
    "train_diffusion",
    "generate_samples",
    "score_generation",
    "train_surrogate",
    "fit_surrogate",
    "evaluate_surrogate",
    "ensemble_sweep",
    "da_tune",
    "da_tune_diffusion",
    "da_run",
    "da_run_diffusion",
    "da_spread_run",
}


def localrules() -> set[str]:
    """Names in the Snakefile's `localrules:` block, and the figure rules (rules/figures.smk
    makes one per catalogue entry, each with `localrule: True`)."""
    text = (ROOT / "workflow" / "Snakefile").read_text()
    block = re.search(r"^localrules:\n((?:    \w+,?\n)+)", text, re.M)
    assert block, "the Snakefile has no localrules: block"
    return set(re.findall(r"\w+", block.group(1))) | set(figure_catalogue())


def dry_run_blocks(output: str) -> Counter:
    """{("group", name) | ("rule", name): count} of the job blocks of a dry run."""
    blocks: Counter = Counter()
    for line in output.splitlines():
        group = re.match(r"^\[.*\] Group job (\S+)", line)
        rule = re.match(r"^(?:local)?rule (\w+):", line)  # top level only, not inside groups
        if group:
            blocks["group", group.group(1)] += 1
        elif rule:
            blocks["rule", rule.group(1)] += 1
    return blocks


@pytest.fixture(scope="module")
def paper_blocks(tmp_path_factory) -> Counter:
    folder = tmp_path_factory.mktemp("submissions")
    profile = folder / "slurm"
    profile.mkdir()
    template = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    (profile / "config.yaml").write_text(render_profile(template, SiteFacts("cpu", "gpu")))
    proc = snakemake(
        "-n", "--profile", str(profile), "--configfile", str(PAPER), workdir=folder / "work"
    )
    return dry_run_blocks(proc.stdout)


def test_every_rule_is_either_local_or_a_cluster_rule(paper_blocks):
    rules = {name for kind, name in paper_blocks if kind == "rule"}
    local = localrules()
    assert not (local & CLUSTER_RULES)
    unassigned = rules - local - CLUSTER_RULES - {"all"}
    assert not unassigned, f"rules neither local nor known cluster rules: {sorted(unassigned)}"


def test_paper_dag_needs_at_most_600_submissions(paper_blocks):
    local = localrules() | {"all"}
    submitted = {k: n for k, n in paper_blocks.items() if not (k[0] == "rule" and k[1] in local)}
    total = sum(submitted.values())
    jobs_total = sum(paper_blocks.values())
    print(f"\npaper DAG through profiles/slurm: {total} submissions")
    for (kind, name), n in sorted(submitted.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:5s} {name:28s} {n:5d}")
    print(f"  local jobs (run by Snakemake itself): {jobs_total - total}")
    assert total <= SUBMISSION_LIMIT
    # the big families really are bundled: no ungrouped surrogate or tuning job is submitted
    for rule in ("train_surrogate", "fit_surrogate", "evaluate_surrogate", "da_tune"):
        assert ("rule", rule) not in submitted, f"{rule} jobs are submitted one by one"


def test_bundles_keep_the_rerun_plan_of_an_edit(tiny_run, tmp_path):
    """Grouping changes how jobs are submitted, never which ones rerun: after an edit (a new
    observation interval), the dry run through the SLURM profile plans exactly the jobs of the
    local dry run."""
    profile = tmp_path / "slurm"
    profile.mkdir()
    template = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    (profile / "config.yaml").write_text(render_profile(template, SiteFacts("cpu", "gpu")))
    sweep = yaml.safe_load(TINY.read_text())["assimilation"]["obs_interval_sweep"]
    edit = tmp_path / "edit.yaml"
    edit.write_text(
        yaml.safe_dump(
            {"assimilation": {"obs_interval_sweep": {"obs_every": [sweep["obs_every"][0], 20]}}}
        )
    )
    configs = ["--configfile", str(TINY), str(edit)]
    local = planned_jobs(snakemake("-n", *configs, workdir=tiny_run).stdout)
    bundled = snakemake("-n", "--profile", str(profile), *configs, workdir=tiny_run).stdout
    assert local and "da_tune" in local
    assert planned_jobs(bundled) == local
    assert any(kind == "group" for kind, _ in dry_run_blocks(bundled))  # really bundled
