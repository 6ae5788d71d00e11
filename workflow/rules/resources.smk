# Job requests from the preset in use: config `resources:` keyed by rule name (paper numbers from
# the measured plan docs/resources.json with its margin; quick and tiny override them small).
# Every rule calls `job_resources("<rule>")`; a rule without an entry gets `resources.default`,
# so a new rule is never unbounded. `cluster_limits` refuses a preset whose requests exceed a
# node before any job starts. Threads stay the stage keys (diffusion.threads, ...).

import math

# Request of rules the config does not list (small and short).
FALLBACK_REQUEST = {"mem_mb": 2000, "runtime": 30, "gpu": 0}


def rule_request(rule):
    """{mem_mb, runtime (minutes, first attempt), gpu} of `rule` in the preset in use."""
    res = config.get("resources") or {}
    return {**FALLBACK_REQUEST, **(res.get("default") or {}), **(res.get(rule) or {})}


def job_resources(rule):
    """Snakemake resources of `rule`: memory, runtime scaled by the attempt, GPUs (0 or more).

    runtime is in minutes (see `first_attempt_runtime`); attempt n (a retry after a time limit,
    profiles/slurm `retries`)
    gets n times the first attempt's runtime, at most `cluster_limits.runtime` (the jobs that
    can run that long checkpoint and resume on the retry).
    """
    req = rule_request(rule)
    cap = (config.get("cluster_limits") or {}).get("runtime")
    first = first_attempt_runtime(req)

    def runtime(wildcards, attempt):
        minutes = first * attempt
        return minutes if cap is None else min(minutes, int(cap))

    return {
        "mem_mb": int(req["mem_mb"]),
        "runtime": runtime,
        # explicit 0: a `use rule ... with` child never inherits its parent's GPU
        "gpu": int(req["gpu"]),
        # SIGTERM 5 min before the time limit: trainings and DA runs checkpoint and exit, and the
        # retry resumes (ddmdyn.checkpointing); other jobs end 5 min early, as they would at the
        # limit. The same value for every rule, as the jobs of a bundle (group) must share it.
        "slurm_extra": SLURM_SIGNAL,
    }


SLURM_SIGNAL = "'--signal=TERM@300'"


def first_attempt_runtime(req):
    """Minutes of the first attempt: the configured runtime, divided by `gpu_speedup_assumed`
    for GPU rules (the plan's runtimes are CPU measurements), at least FALLBACK's 30 minutes.
    """
    minutes = int(req["runtime"])
    if int(req["gpu"]) > 0:
        speedup = float(config.get("gpu_speedup_assumed") or 1)
        minutes = max(FALLBACK_REQUEST["runtime"], math.ceil(minutes / speedup))
    return minutes


def _rule_threads(rule):
    """The rule's `threads:` when it is a number (None when computed per job)."""
    cores = rule.resources["_cores"] if "_cores" in rule.resources else 1
    value = getattr(cores, "value", cores)
    return value if isinstance(value, int) else None


def check_cluster_limits():
    """Stop before any job when a rule's request exceeds `cluster_limits` (null = unchecked).

    Compared: mem_mb, runtime (first attempt, minutes), threads against cpus, gpu against gpus.
    """
    limits = config.get("cluster_limits") or {}
    problems = []
    for entry in workflow.rules:
        req = rule_request(entry.name)
        asked = {
            "mem_mb": ("mem_mb", req["mem_mb"]),
            "runtime": ("runtime", first_attempt_runtime(req)),
            "cpus": ("threads", _rule_threads(entry)),
            "gpus": ("gpu", req["gpu"]),
        }
        for key, (what, value) in asked.items():
            limit = limits.get(key)
            if limit is not None and value is not None and value > limit:
                problems.append(
                    f"{entry.name} (rule) asks {what}={value}, over "
                    f"cluster_limits.{key}={limit}"
                )
    if problems:
        raise WorkflowError(
            "The preset asks for more than a node offers (config `resources:` / stage "
            "`threads` vs `cluster_limits`); lower the sizes or raise the limits:\n  "
            + "\n  ".join(problems)
        )
