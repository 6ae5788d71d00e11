# What every stage shares: paths, logs, the data each stage checks its inputs against, the
# config checks. Stage helpers live beside their rules (rules/<stage>.smk) and the experiment
# design in rules/surrogate_design.smk and rules/assimilation_design.smk.
# Rules stay declarative; every value a job depends on reaches it through `params:`.
import os
from pathlib import Path

from ddmdyn.config_checks import cross_key_errors
from ddmdyn.data import split_settings

REPO = Path(workflow.basedir).parent
# relative to the working directory, so a fresh clone at another path does not look like
# changed inputs (Snakemake compares the set of input paths)
RESOURCES = Path(os.path.relpath(REPO / "resources"))
RESULTS = config["results"]
CONDA_ENV = "../../envs/ddmdyn.yaml"
SPLITS = ["train", "validation", "test"]


PLACEHOLDER = "CHANGE_ME"


def unresolved_site_placeholders():
    """Resource values from a profile that still hold the CHANGE_ME placeholder."""
    settings = workflow.resource_settings
    scopes = {"default-resources": settings.default_resources or {}}
    scopes.update(
        {
            f"set-resources {rule}": res
            for rule, res in settings.overwrite_resources.items()
        }
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


def labelled(label, values, key):
    """{label(value): value} of a sweep's values (`key` names them in the config), refusing
    values whose path labels coincide: labels are looked up, never parsed back."""
    points = {label(value): value for value in values}
    if len(points) < len(values):
        raise WorkflowError(
            f"{key}: values {list(values)} share path labels {list(points)}"
        )
    return points


def labelled_value(points, label, what):
    """The value of a path label among a sweep's `points` (from `labelled`), or an error naming
    what the label stands for and the config's labels."""
    if label not in points:
        raise WorkflowError(f"{what} {label!r} is not in the config ({list(points)})")
    return points[label]


def checkpoint_for(output):
    """A resumable job's checkpoint: its output's path mirrored under results/checkpoints/."""
    relative = os.path.relpath(str(output), RESULTS)
    return result("checkpoints", f"{relative}.checkpoint")


def logfile(*parts):
    return result("logs", *parts)


def benchfile(*parts):
    return result("benchmarks", *parts)


def data_file(split):
    return result("data", f"{split}.nc")


def data_params(split):
    """Everything a split's trajectories depend on (stored as provenance)."""
    return split_settings(config["data"], split)


def data_expectation(*splits):
    """{split: params} a stage checks its data files against (a file from another config fails)."""
    return {split: data_params(split) for split in splits}


def check_config():
    """Cross-key checks the schema cannot express (ddmdyn.config_checks); each error names the
    keys."""
    errors = cross_key_errors(config)
    if errors:
        raise WorkflowError("\n".join(errors))
