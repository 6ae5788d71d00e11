# Surrogate experiment design: the main experiment (the scores table) and the scaling studies,
# each a sweep of one surrogate parameter over values from the config. A sweep point's path
# label (n64, c0.05, dt5, velocity_cos) is made from its value and looked up, never parsed
# back: jobs get the value as a number in `params`, study datasets as a coordinate.
from collections import namedtuple
from types import SimpleNamespace

from ddmdyn.catalogue import FSD_FEATURE_SURROGATE, SURROGATE_CONFIGURATIONS

NETWORK_SURROGATES = [
    name for name, spec in SURROGATE_CONFIGURATIONS.items() if spec.trains_network
]
RIDGE_SURROGATES = [
    name for name, spec in SURROGATE_CONFIGURATIONS.items() if not spec.trains_network
]

# quantity: the surrogate parameter a study sweeps, its name in `params` and the dimension of
# results/surrogate/scaling_<study>.nc; values_key: its values, config surrogate.scaling.<key>;
# label: the path component of one value (str.format); kind: the type of the values.
SurrogateSweep = namedtuple(
    "SurrogateSweep", ["quantity", "description", "values_key", "label", "kind"]
)
SURROGATE_SWEEPS = {
    "samples": SurrogateSweep(
        "n_train_samples", "training pairs", "n_train_samples", "n{}", int
    ),
    "corruption": SurrogateSweep(
        "corruption_level",
        "std of the noise on training targets",
        "corruption_levels",
        "c{:g}",
        float,
    ),
    "timestep": SurrogateSweep(
        "surrogate_dt",
        "surrogate step (integration steps)",
        "surrogate_dt",
        "dt{}",
        int,
    ),
    "representation": SurrogateSweep(
        "diffusion_variant",
        "diffusion model of the features",
        "representation_variants",
        "{}",
        str,
    ),
}
MAIN_POINT = "default"  # the one point of the main experiment


def surrogate_model(study, point, configuration, seed):
    return result("surrogate", study, str(point), configuration, str(seed), "model.pt")


def surrogate_rollout(study, point, configuration, seed):
    return result(
        "surrogate", study, str(point), configuration, str(seed), "rollout.nc"
    )


def fsd_feature_model():
    """The trained surrogate whose features define the Frechet surrogate distance."""
    return surrogate_model(
        "main", MAIN_POINT, FSD_FEATURE_SURROGATE, config["diffusion"]["main_seed"]
    )


def surrogate_study_points(study):
    """{path label: value} of a study's sweep points, in sweep order."""
    if study == "main":
        return {MAIN_POINT: None}
    if study not in SURROGATE_SWEEPS:
        raise WorkflowError(f"unknown surrogate study {study!r}")
    sweep = SURROGATE_SWEEPS[study]
    values = [
        sweep.kind(value) for value in config["surrogate"]["scaling"][sweep.values_key]
    ]
    return labelled(sweep.label.format, values, f"surrogate.scaling.{sweep.values_key}")


def surrogate_study_configurations(study):
    scaling = config["surrogate"]["scaling"]
    if study == "main":
        return config["surrogate"]["configurations"]
    if study == "representation":
        return [scaling["representation_configuration"]]
    return scaling["configurations"]


def surrogate_study_seeds(study):
    if study == "main":
        return config["surrogate"]["seeds"]
    if study == "representation":
        return config["diffusion"]["seeds"]
    return config["surrogate"]["scaling"]["seeds"]


def surrogate_training_settings(study, configuration):
    """The training keys a job depends on: a network's optimiser or a ridge fit's own."""
    surrogate = config["surrogate"]
    training = dict(surrogate["training"])
    if study == "samples":
        training.update(surrogate["scaling"]["samples_training"])
    ridge_keys = ("ridge_batch_size", "ridge_l2", "ridge_pairs")
    if SURROGATE_CONFIGURATIONS[configuration].trains_network:
        return {k: v for k, v in training.items() if k not in ridge_keys}
    # a ridge fit depends on its own settings only, not on the optimiser's
    return {k: (v if k in ridge_keys else None) for k, v in training.items()}


def surrogate_params(wildcards):
    """Everything one surrogate job depends on, from its study, sweep point, configuration, seed."""
    surrogate = config["surrogate"]
    study, point = wildcards.study, wildcards.point
    points = surrogate_study_points(study)
    value = labelled_value(points, point, f"surrogate study {study!r} point")
    params = {
        "configuration": wildcards.configuration,
        "seed": int(wildcards.seed),
        "surrogate_dt": surrogate["dt"],
        "n_leads": surrogate["n_leads"],
        "mlp_hidden": surrogate["mlp_hidden"],
        "n_train_samples": None,
        "corruption_level": 0.0,
        "diffusion_variant": config["diffusion"]["main_variant"],
        "diffusion_seed": int(wildcards.seed),
        "weights": config["diffusion"]["weights"],
    }
    if study in SURROGATE_SWEEPS:
        params[SURROGATE_SWEEPS[study].quantity] = value
    if study == "timestep":  # the roll-outs cover the main experiment's horizon
        main_horizon = surrogate["n_leads"] * surrogate["dt"]
        params["n_leads"] = max(1, main_horizon // params["surrogate_dt"])
    params["training"] = surrogate_training_settings(study, wildcards.configuration)
    if not SURROGATE_CONFIGURATIONS[wildcards.configuration].needs_diffusion_model:
        for key in ("diffusion_variant", "diffusion_seed", "weights"):
            params.pop(key)
    return params


def surrogate_inputs(wildcards):
    inputs = {"train": data_file("train"), "validation": data_file("validation")}
    params = surrogate_params(wildcards)
    if "diffusion_variant" in params:
        inputs["diffusion_model"] = diffusion_model(
            params["diffusion_variant"], params["diffusion_seed"]
        )
    return inputs


def surrogate_run_point(study, point, configuration, seed):
    """(study, point) whose files hold this run.

    A sweep point whose parameters equal the main experiment's (surrogate time step = the main
    dt, representation = the main diffusion variant, ...) reuses the main run instead of
    training and evaluating a duplicate.
    """
    if study != "main":
        run = dict(configuration=configuration, seed=str(seed))
        own = surrogate_params(SimpleNamespace(study=study, point=point, **run))
        main = surrogate_params(SimpleNamespace(study="main", point=MAIN_POINT, **run))
        if own == main:
            return "main", MAIN_POINT
    return study, point


def surrogate_study_runs(study):
    """(point, configuration, seed) of every run of a study, in the order of its inputs."""
    return [
        (point, configuration, seed)
        for point in surrogate_study_points(study)
        for configuration in surrogate_study_configurations(study)
        for seed in surrogate_study_seeds(study)
    ]


def surrogate_study_rollouts(study):
    return [
        surrogate_rollout(
            *surrogate_run_point(study, point, configuration, seed), configuration, seed
        )
        for point, configuration, seed in surrogate_study_runs(study)
    ]


def surrogate_sweep_params(study):
    """What rule surrogate_study needs to place each run on its study's sweep dimension."""
    sweep = SURROGATE_SWEEPS[study]
    points = surrogate_study_points(study)
    return {
        "quantity": sweep.quantity,
        "description": sweep.description,
        "values": list(points.values()),
        "run_values": [points[point] for point, _, _ in surrogate_study_runs(study)],
    }


def surrogate_targets():
    return [result("tables", "surrogate_scores.nc")] + [
        result("surrogate", f"scaling_{study}.nc") for study in SURROGATE_SWEEPS
    ]
