"""A complete SLURM profile named ``slurm`` where Snakemake finds it: ``snakemake --profile slurm``.

`snakemake --profile NAME` looks for the folder NAME in the working directory, then in the user's
and the site's Snakemake config folders (``~/.config/snakemake`` and ``/etc/xdg/snakemake`` on
Linux). `write_profile` renders the repository's template ``profiles/slurm/config.yaml`` with the
site's partitions (and account) in place of its ``CHANGE_ME`` placeholders and writes it to the
user's folder, after checking each partition and the account with the scheduler itself
(``scontrol show partition``, ``sacctmgr``), so a typo is reported with the scheduler's own message
before any job is queued.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from .io import atomic_write_text

__all__ = [
    "ProfileError",
    "SiteFacts",
    "check_account",
    "check_partition",
    "render_profile",
    "user_profile_dir",
    "write_profile",
]

TEMPLATE = Path("profiles", "slurm", "config.yaml")
PLACEHOLDERS = {
    "cpu_partition": "CHANGE_ME_cpu_partition",
    "gpu_partition": "CHANGE_ME_gpu_partition",
    "account": "CHANGE_ME_account",
}


class ProfileError(RuntimeError):
    """The profile cannot be written as asked; the message says why and what to do."""


@dataclass(frozen=True)
class SiteFacts:
    """What differs between clusters: where CPU and GPU jobs go and which account pays."""

    cpu_partition: str
    gpu_partition: str
    account: str | None = None


def user_profile_dir(name: str = "slurm") -> Path:
    """The folder `snakemake --profile NAME` finds in the user's Snakemake config folder."""
    from snakemake.common import get_appdirs  # Snakemake's own search path, whatever the OS

    return Path(get_appdirs().user_config_dir) / name


def render_profile(template: str, site: SiteFacts) -> str:
    """The template's text with every placeholder replaced; comments are kept.

    Without an account, lines that set ``slurm_account`` are dropped (the SLURM plugin then
    submits without ``-A``, which is what a site without accounts needs).
    """
    text = template
    if site.account is None:
        text = "\n".join(
            line
            for line in text.splitlines()
            if not re.match(r"\s*slurm_account\s*:", line) or PLACEHOLDERS["account"] not in line
        )
        text += "\n" if template.endswith("\n") else ""
    for key, placeholder in PLACEHOLDERS.items():
        value = getattr(site, key)
        if value is not None:
            text = text.replace(placeholder, value)
    left = sorted(_placeholder_values(yaml.safe_load(text)))
    if left:
        raise ProfileError(f"the template still holds placeholders after rendering: {left}")
    header = (
        "# Written by `python -m ddmdyn.cluster init` from the repository's profiles/slurm "
        f"(CPU partition {site.cpu_partition}, GPU partition {site.gpu_partition}, "
        f"account {site.account or 'none'}).\n"
    )
    return header + text


def _placeholder_values(node: object) -> set[str]:
    """Values (not comments) of a parsed profile that still hold CHANGE_ME."""
    if isinstance(node, dict):
        return set().union(*(_placeholder_values(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_placeholder_values(v) for v in node))
    return {str(node)} if "CHANGE_ME" in str(node) else set()


def _scheduler(cmd: list[str]) -> subprocess.CompletedProcess[str] | None:
    """Run a SLURM client command; None when the command is not installed here."""
    if shutil.which(cmd[0]) is None:
        return None
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def check_partition(partition: str) -> str | None:
    """Raise `ProfileError` with the scheduler's message if `partition` does not exist.

    Returns a note when it could not be checked (no SLURM client on this machine), else None.
    """
    proc = _scheduler(["scontrol", "show", "partition", partition])
    if proc is None:
        return f"partition {partition!r} not checked: scontrol is not installed here"
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip()
        raise ProfileError(f"partition {partition!r} rejected by SLURM: {message}")
    return None


def check_account(account: str, user: str | None = None) -> str | None:
    """Raise `ProfileError` with the scheduler's message if `account` is not usable by `user`.

    The SLURM plugin validates ``slurm_account`` with sacctmgr too, so an account that sacctmgr
    cannot confirm (no accounting database) would be refused at the first submission.
    """
    user = user or getpass.getuser()
    cmd = ["sacctmgr", "-n", "-P", "show", "assoc", f"user={user}", f"account={account}"]
    cmd.append("format=account")
    proc = _scheduler(cmd)
    if proc is None:
        return f"account {account!r} not checked: sacctmgr is not installed here"
    message = (proc.stderr or proc.stdout).strip()
    if proc.returncode != 0:
        raise ProfileError(
            f"account {account!r} cannot be checked by sacctmgr: {message}\n"
            "The SLURM plugin checks slurm_account the same way and would refuse it; on a "
            "cluster without an accounting database leave --account out."
        )
    if account not in proc.stdout.split():
        raise ProfileError(
            f"account {account!r} rejected: sacctmgr lists no association of user {user!r} "
            f"with it ({message or 'empty answer'})"
        )
    return None


def write_profile(
    site: SiteFacts,
    template_path: str | os.PathLike[str] = TEMPLATE,
    dest: str | os.PathLike[str] | None = None,
    force: bool = False,
    check: bool = True,
) -> tuple[Path, list[str]]:
    """Check the site facts with SLURM, render the template and write ``DEST/config.yaml``.

    Args:
        site: partitions and account.
        template_path: the repository's profile with placeholders.
        dest: profile folder (default: `user_profile_dir()`).
        force: overwrite an existing profile that differs from the new one.
        check: ask SLURM about the partitions and the account first.
    Returns:
        the written config file and notes (checks that could not be made here).
    Raises:
        ProfileError: a check failed, the template is missing, or a different profile exists and
            `force` is False.
    """
    template_path = Path(template_path)
    if not template_path.is_file():
        raise ProfileError(
            f"profile template {template_path} not found; run this from the repository root"
        )
    notes: list[str] = []
    if check:
        for partition in dict.fromkeys((site.cpu_partition, site.gpu_partition)):
            note = check_partition(partition)
            notes += [note] if note else []
        if site.account is not None:
            note = check_account(site.account)
            notes += [note] if note else []
    text = render_profile(template_path.read_text(), site)
    folder = Path(dest) if dest is not None else user_profile_dir()
    target = folder / "config.yaml"
    others = [folder / "profile.yaml"] if (folder / "profile.yaml").exists() else []
    if others and not force:
        raise ProfileError(
            f"{others[0]} exists and Snakemake would read it instead of config.yaml; "
            "remove it or pass --force"
        )
    if target.exists() and target.read_text() != text and not force:
        raise ProfileError(
            f"a different profile already exists at {target}; pass --force to replace it, or "
            "--dest to write this one elsewhere"
        )
    for other in others:
        other.unlink()
    atomic_write_text(target, text)
    return target, notes
