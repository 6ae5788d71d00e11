"""Job requests live in the rules: the paper preset asks for at least the measured plan x margin,
every rule of the paper DAG is in the plan, requests scale with the attempt, and a preset that
exceeds the node limits is refused before any job."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.smk import ROOT, TINY, planned_jobs, snakemake

PAPER = ROOT / "config" / "config.yaml"
PLAN = ROOT / "docs" / "resources.json"
RESOURCES_SMK = ROOT / "workflow" / "rules" / "resources.smk"


def _requests_by_rule(output: str) -> dict[str, dict[str, int]]:
    """{rule: {resource: value}} of the first planned job of every rule in a dry run."""
    found: dict[str, dict[str, int]] = {}
    # jobs of a group are printed indented under a "Group job" line
    for block in re.split(r"\n(?=\s*\[.*\]\n\s*(?:local)?rule )", output):
        m = re.search(r"^\s*(?:local)?rule (\w+):", block, re.M)
        res = re.search(r"^\s*resources: (.*)$", block, re.M)
        if m and res and m.group(1) not in found:
            pairs = (kv.split("=", 1) for kv in res.group(1).split(", ") if "=" in kv)
            found[m.group(1)] = {k: int(v) for k, v in pairs if v.isdigit()}
    return found


@pytest.fixture(scope="module")
def paper_dry_run(tmp_path_factory) -> str:
    return snakemake("-n", workdir=tmp_path_factory.mktemp("paper_resources")).stdout


def test_every_paper_rule_asks_for_at_least_the_measured_peak_times_the_margin(paper_dry_run):
    plan = json.loads(PLAN.read_text())
    margin = plan["margin"]
    jobs = {r: n for r, n in planned_jobs(paper_dry_run).items() if r != "all"}
    requests = _requests_by_rule(paper_dry_run)
    missing = sorted(set(jobs) - set(plan["rules"]))
    assert not missing, (
        f"rules of the paper DAG missing from {PLAN.name}: {missing}; rerun "
        "`python bench/paper_resources.py --write docs/resources.md`"
    )
    # a job longer than a node's time limit asks for the limit (it checkpoints and resumes); GPU
    # rules divide the CPU-measured time by the stated, unmeasured GPU speed-up
    cfg = yaml.safe_load(PAPER.read_text())
    cap_s = cfg["cluster_limits"]["runtime"] * 60
    speedup = cfg["gpu_speedup_assumed"]
    probed = {rule: r for rule, r in plan["rules"].items() if r["probed"]}
    assert len(probed) >= 13  # every job type that computes something
    for rule, r in probed.items():
        req = requests[rule]
        assert req["mem_mb"] >= r["peak_rss_mb"] * margin, (rule, req, r["peak_rss_mb"])
        need_s = r["extrapolated_wall_s"] * margin / (speedup if req.get("gpu", 0) else 1)
        assert req["runtime"] * 60 >= min(need_s, cap_s), (rule, req)
    for rule in jobs:  # every job, also the unprobed ones, carries a request
        assert requests[rule]["mem_mb"] > 0 and requests[rule]["runtime"] > 0, rule


def test_gpu_rules_ask_for_a_gpu_and_the_others_do_not(paper_dry_run):
    requests = _requests_by_rule(paper_dry_run)
    gpu_rules = {rule for rule, req in requests.items() if req.get("gpu", 0) > 0}
    assert {"train_diffusion", "generate_samples", "train_surrogate", "da_spread_run"} <= gpu_rules
    assert "fit_surrogate" not in gpu_rules  # `use rule` child of train_surrogate
    assert "da_tune" not in gpu_rules and "score_generation" not in gpu_rules


def test_plan_was_measured_at_the_paper_sizes():
    plan = json.loads(PLAN.read_text())
    cfg = yaml.safe_load(PAPER.read_text())
    assert plan["preset"] == "paper"
    probes = {p["probe"]: p for r in plan["rules"].values() for p in r.get("probes", [])}
    n_train = cfg["data"]["splits"]["train"]["n_trajectories"] * (cfg["data"]["n_steps"] + 1)
    assert f"{n_train:,} training states" in probes["train_diffusion"]["what"]
    assert probes["train_diffusion"]["full_iterations"] == cfg["diffusion"]["training"]["n_steps"]
    assert f"{cfg['generation']['n_samples']:,} samples" in probes["generate_samples"]["what"]
    a = cfg["assimilation"]
    assert probes["da_run"]["full_iterations"] == a["n_burn_in"] + a["n_cycles"]
    for p in probes.values():
        assert p["peak_rss_mb"] < 16_000, p  # a job over 16 GB here gets fixed, not documented


def _resources_namespace(config: dict) -> dict:
    """workflow/rules/resources.smk is plain Python (no rules): run it with a given config."""
    namespace = {"config": config, "WorkflowError": RuntimeError}
    exec(compile(RESOURCES_SMK.read_text(), str(RESOURCES_SMK), "exec"), namespace)
    return namespace


def test_runtime_scales_with_the_attempt_and_unlisted_rules_get_the_default():
    ns = _resources_namespace(
        {"resources": {"default": {"mem_mb": 3000}, "train": {"runtime": 90, "gpu": 1}}}
    )
    train = ns["job_resources"]("train")
    assert [train["runtime"](None, attempt) for attempt in (1, 2, 3)] == [90, 180, 270]
    assert train["mem_mb"] == 3000 and train["gpu"] == 1
    capped = _resources_namespace(
        {"resources": {"train": {"runtime": 90}}, "cluster_limits": {"runtime": 200}}
    )["job_resources"]("train")
    assert [capped["runtime"](None, attempt) for attempt in (1, 2, 3)] == [90, 180, 200]
    new_rule = ns["job_resources"]("a_rule_added_later")
    assert new_rule["mem_mb"] == 3000 and new_rule["gpu"] == 0
    assert new_rule["runtime"](None, 1) == ns["FALLBACK_REQUEST"]["runtime"]


def test_preset_over_the_node_limits_is_refused_before_any_job(tmp_path):
    edit = tmp_path / "limits.yaml"
    edit.write_text("cluster_limits: {mem_mb: 1500, runtime: 600, cpus: 1, gpus: 1}\n")
    proc = snakemake("-n", "--configfile", str(TINY), str(edit), workdir=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # tiny asks 2000 MB per rule: every rule is named with both numbers
    assert "train_diffusion (rule) asks mem_mb=2000, over cluster_limits.mem_mb=1500" in out
    assert "Job stats" not in out


def test_threads_over_the_node_cpus_are_refused(tmp_path):
    edit = tmp_path / "limits.yaml"
    edit.write_text("cluster_limits: {cpus: 4}\n")
    proc = snakemake("-n", "--configfile", str(edit), workdir=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "train_diffusion (rule) asks threads=8, over cluster_limits.cpus=4" in out


def test_probe_smoke_mode_runs_every_probe(tmp_path):
    """The probe in its reduced mode (tiny sizes): it cannot rot unnoticed."""
    out = tmp_path / "resources.md"
    proc = subprocess.run(
        [sys.executable, "bench/paper_resources.py", "--smoke", "--write", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    plan = json.loads(Path(out).with_suffix(".json").read_text())
    probed = [r for r in plan["rules"].values() if r["probed"]]
    assert len(probed) >= 13
    for r in probed:
        assert r["peak_rss_mb"] > 50  # a Python process with numpy loaded
        for p in r["probes"]:
            assert p["seconds_per_iteration"] > 0
            assert p["iterations"] <= max(p["full_iterations"], p["iterations"])
            assert p["extrapolated_cpu_s"] >= p["setup_s"]
    text = out.read_text()
    assert "not measured" in text and "| train_diffusion |" in text
