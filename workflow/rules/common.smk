# Helpers shared by all stages (paths, parameter bundles, target lists).
# Rules stay declarative; every value a job depends on reaches it through `params:`.
from pathlib import Path

REPO = Path(workflow.basedir).parent
RESOURCES = REPO / "resources"
RESULTS = config["results"]
CONDA_ENV = "../../envs/ddmdyn.yaml"
SPLITS = ["train", "validation", "test"]


PLACEHOLDER = "CHANGE_ME"


def unresolved_site_placeholders():
    """Resource values from a profile that still hold the CHANGE_ME placeholder."""
    settings = workflow.resource_settings
    scopes = {"default-resources": settings.default_resources or {}}
    scopes.update(
        {f"set-resources {rule}": res for rule, res in settings.overwrite_resources.items()}
    )
    found = []
    for scope, resources in scopes.items():
        for name, res in resources.items():
            raw = getattr(res, "raw", res)
            if PLACEHOLDER in str(raw):
                found.append(f"{scope}: {name}={raw}")
    return found


def check_site_placeholders():
    """Stop before any job is submitted while the cluster profile still has placeholders."""
    found = unresolved_site_placeholders()
    if found:
        raise WorkflowError(
            "The cluster profile still holds placeholders; edit profiles/slurm/config.yaml "
            "(your partitions and account) before submitting:\n  " + "\n  ".join(found)
        )


def result(*parts):
    """A path under the results folder."""
    return str(Path(RESULTS, *parts))


def logfile(*parts):
    return result("logs", *parts)


def benchfile(*parts):
    return result("benchmarks", *parts)


def data_file(split):
    return result("data", f"{split}.nc")


def data_params(split):
    """Everything a split's trajectories depend on (stored as provenance)."""
    d = config["data"]
    s = d["splits"][split]
    return {
        "split": split,
        "n_trajectories": s["n_trajectories"],
        "seed": s["seed"],
        "n_steps": d["n_steps"],
        "n_burn_in": d["n_burn_in"],
        "dt": d["dt"],
        "initial_std": d["initial_std"],
        "sigma": d["sigma"],
        "rho": d["rho"],
        "beta": d["beta"],
        "time_chunk": d["time_chunk"],
    }


def all_targets():
    return [data_file(split) for split in SPLITS]
