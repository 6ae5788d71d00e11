# Helpers shared by all stages (paths, parameter bundles, target lists).
# Rules stay declarative; every value a job depends on reaches it through `params:`.
from pathlib import Path

REPO = Path(workflow.basedir).parent
RESOURCES = REPO / "resources"
RESULTS = config["results"]
CONDA_ENV = "../../envs/ddmdyn.yaml"
SPLITS = ["train", "validation", "test"]


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
