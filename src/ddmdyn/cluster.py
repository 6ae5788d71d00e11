"""Cluster helpers: `python -m ddmdyn.cluster init|check|controller`.

- ``init --cpu-partition P --gpu-partition G [--account A] [--dest DIR] [--force]``: writes a
  complete profile named ``slurm`` where Snakemake finds it (the user's Snakemake config folder),
  after checking the partitions and the account with SLURM; then ``snakemake --profile slurm``
  works from the repository root. See `ddmdyn.slurm_profile`.
- ``check --profile profiles/slurm``: the SLURM executor plugin is importable and the profile holds
  no ``CHANGE_ME`` placeholder; prints ``OK`` or exits 1 with the reason.
- ``controller --profile PROFILE [--partition P] [--time MIN] [--account A] [--no-wait] -- ARGS``:
  submits the Snakemake controller itself (``snakemake --profile PROFILE ARGS``) as a cheap 1-CPU
  SLURM job with submitit; the controller then submits the real jobs through the profile. The
  controller is a `submitit.helpers.Checkpointable`: at its time limit (or on preemption) it stops
  Snakemake cleanly (SIGINT: Snakemake cancels the jobs it submitted, which checkpoint, and
  releases its lock) and is requeued; the requeued job simply runs Snakemake again
  (``rerun-incomplete`` and the training checkpoints pick up where it stopped).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from submitit.helpers import Checkpointable, DelayedSubmission

from .slurm_profile import TEMPLATE, ProfileError, SiteFacts, user_profile_dir, write_profile

__all__ = [
    "PLACEHOLDER",
    "PLUGIN_MODULE",
    "SnakemakeController",
    "check_profile",
    "main",
    "profile_placeholders",
    "submit_controller",
]

PLACEHOLDER = "CHANGE_ME"
PLUGIN_MODULE = "snakemake_executor_plugin_slurm"
PLUGIN_HINT = 'pip install -e ".[cluster]"  (or: pip install snakemake-executor-plugin-slurm)'
DEFAULT_LOG_DIR = Path("results", "logs", "controller")
#: Seconds the controller gives Snakemake to cancel its jobs and release its lock when stopped.
STOP_GRACE_S = 60


class ClusterError(RuntimeError):
    """A problem that must stop submission; the message says what to do."""


def _profile_files(profile: Path) -> list[Path]:
    files = [profile / n for n in ("profile.yaml", "config.yaml") if (profile / n).exists()]
    if not files:
        raise ClusterError(f"profile {profile} has no config.yaml (or profile.yaml)")
    return files


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, node


def profile_placeholders(profile: str | os.PathLike[str]) -> list[str]:
    """``key.path = value`` for every profile value (not comment) that still holds CHANGE_ME."""
    found = []
    for file in _profile_files(Path(profile)):
        data = yaml.safe_load(file.read_text()) or {}
        found += [
            f"{file.name}: {key} = {value}"
            for key, value in _walk(data, "")
            if PLACEHOLDER in str(value)
        ]
    return found


def check_profile(profile: str | os.PathLike[str]) -> str:
    """Raise `ClusterError` if the SLURM plugin is missing or the profile has placeholders."""
    try:
        importlib.import_module(PLUGIN_MODULE)
    except ImportError as exc:
        raise ClusterError(
            f"snakemake-executor-plugin-slurm is not importable ({exc}); install it with:\n"
            f"  {PLUGIN_HINT}"
        ) from exc
    profile = Path(profile)
    if not profile.is_dir():
        raise ClusterError(f"profile folder {profile} does not exist")
    found = profile_placeholders(profile)
    if found:
        raise ClusterError(
            f"profile {profile} still holds {PLACEHOLDER} placeholders; set your site's "
            "partitions and account first:\n  " + "\n  ".join(found)
        )
    return f"OK: {profile} is ready for SLURM (plugin {PLUGIN_MODULE} importable, no placeholders)"


def _clean_env() -> dict[str, str]:
    """Environment for Snakemake inside the controller job, without the job's own SLURM settings.

    The controller's allocation (1 CPU, its memory, its time) must not leak into the jobs that
    Snakemake submits with ``sbatch --export=ALL``.
    """
    prefixes = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _reap(pid: int, timeout_s: float) -> int | None:
    """Exit code of child `pid` once it ends (None: still running after `timeout_s`, or reaped
    elsewhere)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _ignore_requeue_signal() -> None:
    """In the Snakemake child: ignore SIGUSR2.

    SLURM sends submitit's requeue signal (``--signal=USR2@delay``) to every process of the job
    step, and SIGUSR2 would kill Snakemake outright (no cancellation of its jobs, lock left
    behind). The controller process handles it and stops Snakemake with SIGINT instead.
    """
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)


class SnakemakeController(Checkpointable):
    """The Snakemake controller as a requeueable submitit job.

    Calling it runs ``python -m snakemake --profile PROFILE ARGS`` in `cwd` and returns its exit
    status (raises on failure). `checkpoint` (called by submitit on timeout / preemption) stops
    Snakemake with SIGINT and asks for the same call to be requeued.
    """

    def __init__(self, profile: str, snakemake_args: Sequence[str], cwd: str | None = None):
        self.profile = str(profile)
        self.snakemake_args = list(snakemake_args)
        self.cwd = str(cwd or os.getcwd())
        self.starts = 0
        self._proc: subprocess.Popen | None = None
        self._stopped = False

    def command(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "snakemake",
            "--profile",
            self.profile,
            *self.snakemake_args,
            *extra,
        ]

    def __call__(self) -> int:
        self.starts += 1
        env = _clean_env()
        if self.starts > 1:  # requeued: a controller stopped the hard way may have left its lock
            subprocess.run(self.command("--unlock"), cwd=self.cwd, env=env, check=False)
        print(f"controller start {self.starts}: {' '.join(self.command())}", flush=True)
        proc = self._proc = subprocess.Popen(
            self.command(), cwd=self.cwd, env=env, preexec_fn=_ignore_requeue_signal
        )
        code = proc.wait()
        self._proc = None
        if self._stopped:
            raise RuntimeError(f"snakemake was stopped for requeue (status {proc.returncode})")
        if code != 0:
            raise RuntimeError(f"snakemake exited with status {code}")
        return code

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Interrupt the running Snakemake (SIGINT, then SIGKILL after `grace_s`); its exit code.

        Called from submitit's signal handler while `__call__` may be inside ``Popen.wait``, which
        holds the Popen's wait lock (``Popen.poll``/``wait`` here would never see the child end):
        the child is therefore reaped with ``os.waitpid`` directly.
        """
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return None if proc is None else proc.returncode
        self._stopped = True
        try:
            os.kill(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            return proc.returncode
        code = _reap(proc.pid, grace_s)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            code = _reap(proc.pid, 30)
        proc.returncode = code
        return code

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Stop Snakemake cleanly and requeue the same controller (submitit calls this)."""
        print("controller stopped for requeue (time limit or preemption)", flush=True)
        self.stop()
        self._proc = None
        return DelayedSubmission(self, *args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_proc"] = None  # a running process is not picklable nor meaningful elsewhere
        state["_stopped"] = False
        return state


def submit_controller(
    profile: str,
    snakemake_args: Sequence[str],
    *,
    log_dir: str | os.PathLike[str] = DEFAULT_LOG_DIR,
    partition: str | None = None,
    time_min: int = 1440,
    account: str | None = None,
    mem_mb: int = 4000,
    signal_delay_s: int = 120,
    max_requeues: int = 20,
    executor: Any = None,
) -> Any:
    """Submit `SnakemakeController` as a 1-CPU job; returns the submitit job.

    `executor` defaults to `submitit.SlurmExecutor(log_dir)`; tests may pass another one.
    """
    import submitit

    if executor is None:
        executor = submitit.SlurmExecutor(folder=str(log_dir), max_num_timeout=max_requeues)
        params: dict[str, Any] = {
            "job_name": "snakemake-controller",
            "time": int(time_min),
            "cpus_per_task": 1,
            "ntasks_per_node": 1,
            "mem": f"{int(mem_mb)}MB",
            "signal_delay_s": int(signal_delay_s),
        }
        if partition:
            params["partition"] = partition
        if account:
            params["account"] = account
        executor.update_parameters(**params)
    return executor.submit(SnakemakeController(profile, snakemake_args))


def _workdir_of(snakemake_args: Sequence[str], cwd: str | os.PathLike[str]) -> Path:
    """The working directory Snakemake will use: ``--directory``/``-d`` if given, else `cwd`."""
    args = list(snakemake_args)
    for i, arg in enumerate(args):
        if arg in ("--directory", "-d") and i + 1 < len(args):
            return Path(cwd, args[i + 1])
        if arg.startswith("--directory="):
            return Path(cwd, arg.split("=", 1)[1])
    return Path(cwd)


def _running_controllers() -> list[str] | None:
    """Job ids of this user's queued or running controller jobs (None: squeue unavailable)."""
    try:
        proc = subprocess.run(
            ["squeue", "-h", "-n", "snakemake-controller", "-o", "%i", "-u", getpass.getuser()],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.split() if proc.returncode == 0 else None


def stale_lock_problem(profile: str, snakemake_args: Sequence[str], cwd: str = ".") -> str | None:
    """Why the controller must not be submitted now because of a Snakemake lock, or None.

    A controller killed without warning (``scancel``, a node failure) leaves Snakemake's lock in
    ``.snakemake/locks``; a new controller would fail at once with "Directory cannot be locked".
    The message names the command that removes the lock (or the controller still running).
    """
    locks = _workdir_of(snakemake_args, cwd) / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return None
    running = _running_controllers()
    if running:
        return (
            f"a Snakemake lock exists in {locks.parent.parent} and controller job(s) "
            f"{', '.join(running)} are still queued or running; wait for them or cancel them "
            "(scancel) first"
        )
    unlock = " ".join(["snakemake", "--profile", profile, *snakemake_args, "--unlock"])
    return (
        f"a stale Snakemake lock was left in {locks.parent.parent} (a controller or snakemake "
        f"process was killed); if no other snakemake runs there, remove it with:\n  {unlock}\n"
        "or pass --unlock to this command"
    )


def _split_dashdash(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, []


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ddmdyn.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="write the profile `slurm` for `snakemake --profile slurm`")
    init.add_argument("--cpu-partition", required=True, help="partition of CPU jobs")
    init.add_argument("--gpu-partition", required=True, help="partition of GPU jobs")
    init.add_argument("--account", help="SLURM account (leave out where the site has none)")
    init.add_argument("--dest", help="profile folder (default: the user's Snakemake folder)")
    init.add_argument("--template", default=str(TEMPLATE), help="profile with placeholders")
    init.add_argument("--force", action="store_true", help="replace a different profile")
    init.add_argument(
        "--no-check", action="store_true", help="do not ask SLURM about partitions and account"
    )
    check = sub.add_parser("check", help="is the SLURM profile ready (plugin, no placeholders)?")
    check.add_argument("--profile", default="profiles/slurm")
    ctl = sub.add_parser(
        "controller",
        help="submit the Snakemake controller as a SLURM job; snakemake arguments follow --",
    )
    ctl.add_argument("--profile", default="profiles/slurm")
    ctl.add_argument("--partition", help="partition of the controller job (default: the site's)")
    ctl.add_argument("--time", type=int, default=1440, help="time limit in minutes (requeued)")
    ctl.add_argument("--account", help="account of the controller job")
    ctl.add_argument("--mem", type=int, default=4000, help="memory of the controller job (MB)")
    ctl.add_argument("--log-dir", default=str(DEFAULT_LOG_DIR), help="submitit logs and pickles")
    ctl.add_argument("--no-wait", action="store_true", help="print the job id and return")
    ctl.add_argument(
        "--unlock", action="store_true", help="remove a stale Snakemake lock before submitting"
    )
    return parser


def _init(args: argparse.Namespace) -> int:
    site = SiteFacts(args.cpu_partition, args.gpu_partition, args.account)
    try:
        target, notes = write_profile(
            site, args.template, args.dest, force=args.force, check=not args.no_check
        )
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    name = target.parent.name
    found_by_name = args.dest is None or target.parent.resolve() == user_profile_dir(name).resolve()
    profile = name if found_by_name else str(target.parent)
    print(f"wrote {target}")
    print(f"next, from the repository root:\n  snakemake --profile {profile}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    ours, snakemake_args = _split_dashdash(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(ours)
    if args.command == "init":
        return _init(args)
    try:
        message = check_profile(args.profile)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "check":
        print(message)
        return 0
    if args.unlock:
        unlock = [sys.executable, "-m", "snakemake", "--profile", args.profile, *snakemake_args]
        subprocess.run([*unlock, "--unlock"], check=False)
    problem = stale_lock_problem(args.profile, snakemake_args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    job = submit_controller(
        args.profile,
        snakemake_args,
        log_dir=args.log_dir,
        partition=args.partition,
        time_min=args.time,
        account=args.account,
        mem_mb=args.mem,
    )
    print(f"controller job {job.job_id}; logs in {args.log_dir}", flush=True)
    if args.no_wait:
        return 0
    try:
        job.result()
    except Exception as exc:  # submitit re-raises the job's failure here
        print(f"error: controller job {job.job_id} failed: {exc}", file=sys.stderr)
        return 1
    print(f"controller job {job.job_id} finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
