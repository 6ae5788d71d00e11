"""`python -m ddmdyn.cluster init`: a complete `slurm` profile where Snakemake looks for it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from ddmdyn.slurm_profile import (
    ProfileError,
    SiteFacts,
    render_profile,
    user_profile_dir,
    write_profile,
)
from tests.smk import ROOT

TEMPLATE = ROOT / "profiles" / "slurm" / "config.yaml"


def _values(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v)
    else:
        yield str(node)


def test_rendered_repository_template_has_the_site_facts_and_no_placeholder():
    text = render_profile(TEMPLATE.read_text(), SiteFacts("cpuq", "gpuq", "proj42"))
    profile = yaml.safe_load(text)
    values = list(_values(profile))
    assert not [v for v in values if "CHANGE_ME" in v]
    assert "cpuq" in values and "gpuq" in values and "proj42" in values
    assert profile["executor"] == "slurm"
    assert text.startswith("# Written by `python -m ddmdyn.cluster init`")


def test_without_an_account_no_slurm_account_is_set():
    template = (
        "executor: slurm\n"
        "default-resources:\n"
        '  slurm_partition: "CHANGE_ME_cpu_partition"\n'
        '  slurm_account: "CHANGE_ME_account"\n'
        "set-resources:\n"
        "  train:\n"
        '    slurm_partition: "CHANGE_ME_gpu_partition"\n'
    )
    profile = yaml.safe_load(render_profile(template, SiteFacts("c", "g")))
    assert profile["default-resources"] == {"slurm_partition": "c"}
    assert profile["set-resources"]["train"] == {"slurm_partition": "g"}


def test_unknown_placeholder_is_an_error():
    with pytest.raises(ProfileError, match="CHANGE_ME_qos"):
        render_profile('slurm_qos: "CHANGE_ME_qos"\n', SiteFacts("c", "g"))


def test_write_refuses_to_replace_a_different_profile_without_force(tmp_path):
    dest = tmp_path / "slurm"
    site = SiteFacts("cpuq", "gpuq")
    target, _ = write_profile(site, TEMPLATE, dest, check=False)
    first = target.read_text()
    write_profile(site, TEMPLATE, dest, check=False)  # same content: fine, idempotent
    with pytest.raises(ProfileError, match="--force"):
        write_profile(SiteFacts("other", "gpuq"), TEMPLATE, dest, check=False)
    assert target.read_text() == first
    write_profile(SiteFacts("other", "gpuq"), TEMPLATE, dest, check=False, force=True)
    assert "other" in target.read_text()


def test_profile_is_written_where_snakemake_finds_the_name_slurm(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    import snakemake.common

    monkeypatch.setattr(snakemake.common, "APPDIRS", None)  # re-read XDG_CONFIG_HOME
    from snakemake.cli import get_profile_dir

    target, _ = write_profile(SiteFacts("cpuq", "gpuq"), TEMPLATE, check=False)
    assert target == user_profile_dir() / "config.yaml"
    monkeypatch.chdir(tmp_path)  # not the repository root: found by name all the same
    _, found_file = get_profile_dir("slurm")
    assert found_file == target


INIT = [sys.executable, "-m", "ddmdyn.cluster", "init", "--cpu-partition", "c"]


def test_cli_prints_the_next_command_and_rejects_a_missing_template(tmp_path):
    proc = subprocess.run(
        [*INIT, "--gpu-partition", "g", "--no-check", "--dest", str(tmp_path / "p")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"snakemake --profile {tmp_path / 'p'}" in proc.stdout
    proc = subprocess.run(
        [*INIT, "--gpu-partition", "g", "--no-check", "--dest", str(tmp_path / "q")],
        cwd=tmp_path,  # not the repository root
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "run this from the repository root" in proc.stderr


@pytest.mark.skipif(shutil.which("scontrol") is None, reason="no SLURM client here")
def test_unknown_partition_is_rejected_with_the_schedulers_message(tmp_path):
    with pytest.raises(ProfileError, match="'no_such_partition_x' rejected by SLURM: "):
        write_profile(SiteFacts("no_such_partition_x", "g"), TEMPLATE, tmp_path / "p")
    assert not (tmp_path / "p").exists()


# -- a stale lock left by a killed controller is named with the command that removes it --------


def _locked(workdir):
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/data/train.nc\n")


def test_stale_lock_is_named_with_the_unlock_command(tmp_path, monkeypatch):
    from ddmdyn import cluster

    args = ["--configfile", "config/config.yaml", "--directory", "work"]
    assert cluster.stale_lock_problem("slurm", args, cwd=str(tmp_path)) is None
    _locked(tmp_path / "work")
    monkeypatch.setattr(cluster, "_running_controllers", lambda: [])
    problem = cluster.stale_lock_problem("slurm", args, cwd=str(tmp_path))
    assert "stale Snakemake lock" in problem
    assert (
        "snakemake --profile slurm --configfile config/config.yaml --directory work --unlock"
        in (problem)
    )
    monkeypatch.setattr(cluster, "_running_controllers", lambda: ["4242"])
    problem = cluster.stale_lock_problem("slurm", args, cwd=str(tmp_path))
    assert "4242" in problem and "--unlock" not in problem


def test_controller_is_not_submitted_over_a_stale_lock(tmp_path, monkeypatch, capsys):
    from ddmdyn import cluster

    profile = tmp_path / "p"
    profile.mkdir()
    (profile / "config.yaml").write_text("executor: slurm\n")
    _locked(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster, "_running_controllers", lambda: [])

    def no_submission(*args, **kwargs):
        raise AssertionError("submitted over a stale lock")

    monkeypatch.setattr(cluster, "submit_controller", no_submission)
    assert cluster.main(["controller", "--profile", str(profile), "--", "-n"]) == 1
    assert f"snakemake --profile {profile} -n --unlock" in capsys.readouterr().err
