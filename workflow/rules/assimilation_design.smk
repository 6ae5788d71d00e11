# DA experiment design: the observation intervals (the main one and the sweep's), each method's
# tuning grid, the spread sweep over the diffusion step S. Path labels (obs10, 1.07, S5) are
# made from the config's values and looked up, never parsed back: jobs get the values as
# numbers in `params`.
import yaml

from ddmdyn.catalogue import AUTHORS_OBS_EVERY, DA_METHODS, SPREAD_SWEEP_METHOD

DIFFUSION_DA_METHODS = [m for m, method in DA_METHODS.items() if method.uses_diffusion]
STATIC_DA_METHODS = [m for m, method in DA_METHODS.items() if not method.uses_diffusion]
AUTHORS_TUNED = yaml.safe_load((RESOURCES / "authors_tuned.yaml").read_text())
AUTHORS_MAIN_CONSTANTS = AUTHORS_TUNED[f"obs_every_{AUTHORS_OBS_EVERY}"]


def obs_label(obs_every):
    """Path component of an observation interval: 10 -> 'obs10'."""
    return f"obs{obs_every}"


def grid_label(value):
    """Path component of a tuning-grid value: 1.0 -> '1', 1.07 -> '1.07', 13 -> '13'."""
    return f"{float(value):g}"


def spread_label(step):
    """Path component of a spread-sweep point: 5 -> 'S5'."""
    return f"S{step}"


def da_obs_intervals():
    """{path label: observation interval} of every interval the config runs DA at."""
    assimilation = config["assimilation"]
    intervals = [
        int(obs_every)
        for obs_every in dict.fromkeys(
            [
                assimilation["obs_every"],
                *assimilation["obs_interval_sweep"]["obs_every"],
            ]
        )
    ]
    return labelled(
        obs_label, intervals, "assimilation.obs_every and obs_interval_sweep.obs_every"
    )


def da_methods_by_interval():
    """{path label of an observation interval: the DA methods run at it}, each once: the
    main methods at assimilation.obs_every, the sweep's at its intervals."""
    assimilation = config["assimilation"]
    sweep = assimilation["obs_interval_sweep"]
    runs = [(assimilation["obs_every"], m) for m in assimilation["methods"]] + [
        (obs_every, m) for obs_every in sweep["obs_every"] for m in sweep["methods"]
    ]
    methods = {label: [] for label in da_obs_intervals()}
    for obs_every, method in runs:
        at_interval = methods[obs_label(int(obs_every))]
        if method not in at_interval:
            at_interval.append(method)
    return methods


def da_grid(method):
    """Candidate values of a method's tuned parameter (config assimilation.tuning.grids)."""
    method_spec = DA_METHODS[method]
    grids = config["assimilation"]["tuning"]["grids"]
    if method_spec.parameter == "diffusion_step":
        return [int(v) for v in grids["diffusion_step"]]
    if method_spec.kind == "etkf":
        return [float(v) for v in grids["etkf_inflation"]]
    return [float(v) for v in grids["static_inflation"]]


def da_grid_points(method):
    """{path label: value} of a method's tuning grid."""
    return labelled(grid_label, da_grid(method), "assimilation.tuning.grids")


def da_spread_points():
    """{path label: diffusion step S} of the spread sweep."""
    steps = [int(s) for s in config["assimilation"]["spread_sweep"]["diffusion_steps"]]
    return labelled(spread_label, steps, "assimilation.spread_sweep.diffusion_steps")


# Paths from labels (the rules' wildcards) and from values (input lists).
def da_tuning_path(obs, method, value):
    return result("assimilation", "tuning", obs, method, f"{value}.nc")


def da_tuned_path(obs, method):
    return result("assimilation", "tuned", obs, f"{method}.json")


def da_run_path(obs, method):
    return result("assimilation", "runs", obs, f"{method}.nc")


def da_spread_path(point):
    return result("assimilation", "spread", f"{point}.nc")


def da_tuning_file(obs_every, method, value):
    return da_tuning_path(obs_label(obs_every), method, grid_label(value))


def da_tuned_file(obs_every, method):
    return da_tuned_path(obs_label(obs_every), method)


def da_run_file(obs_every, method):
    return da_run_path(obs_label(obs_every), method)


def authors_value(method, obs_every):
    """The authors' tuned constant for (method, obs interval), or None where they had none."""
    if obs_every == AUTHORS_OBS_EVERY and method in AUTHORS_MAIN_CONSTANTS:
        return AUTHORS_MAIN_CONSTANTS[method]
    return AUTHORS_TUNED["obs_interval"].get(method, {}).get(obs_every)


def authors_values_at(obs_every):
    return {m: authors_value(m, obs_every) for m in config["assimilation"]["methods"]}


def da_common_params(method, obs_every):
    assimilation = config["assimilation"]
    ensembles = config["ensembles"]
    method_spec = DA_METHODS[method]
    params = {
        "method": method,
        "obs_std": assimilation["obs_std"],
        "obs_every": obs_every,
        "parameter_name": method_spec.parameter,
    }
    if method_spec.uses_diffusion:
        params.update(
            weights=config["diffusion"]["weights"],
            n_coarse_steps=ensembles["n_coarse_steps"],
            sampler=ensembles["sampler"],
            eta=ensembles["eta"],
        )
    return params


def da_obs_every(wildcards):
    """The observation interval of a job's `{obs}` path label."""
    return labelled_value(da_obs_intervals(), wildcards.obs, "observation interval")


def da_tuning_params(wildcards):
    tuning = config["assimilation"]["tuning"]
    grid_points = da_grid_points(wildcards.method)
    value = labelled_value(
        grid_points, wildcards.value, f"{wildcards.method} grid value"
    )
    return {
        **da_common_params(wildcards.method, da_obs_every(wildcards)),
        "purpose": "tuning",
        "value": float(value),
        "n_truths": tuning["n_truths"],
        "n_burn_in": tuning["n_burn_in"],
        "n_cycles": tuning["n_cycles"],
        "seed": tuning["seed"],
    }


def da_tuning_inputs(wildcards):
    return [
        da_tuning_path(wildcards.obs, wildcards.method, label)
        for label in da_grid_points(wildcards.method)
    ]


def da_run_inputs(wildcards):
    inputs = {
        "truth": data_file("test"),
        "static_cov": str(RESOURCES / "static_covariance.yaml"),
    }
    if DA_METHODS[wildcards.method].uses_diffusion:
        inputs["model"] = main_diffusion_model()
    if config["assimilation"]["tuned"] == "grid":
        inputs["tuned"] = da_tuned_path(wildcards.obs, wildcards.method)
    return inputs


def da_test_truth_params():
    """Truths, cycles and seed of the runs on the test truths."""
    assimilation = config["assimilation"]
    return {
        "n_truths": None,
        "n_burn_in": assimilation["n_burn_in"],
        "n_cycles": assimilation["n_cycles"],
        "seed": assimilation["seed"],
    }


def da_run_params(wildcards):
    tuned = config["assimilation"]["tuned"]
    obs_every = da_obs_every(wildcards)
    params = {
        **da_common_params(wildcards.method, obs_every),
        "purpose": "test",
        "tuned": tuned,
        **da_test_truth_params(),
    }
    if tuned == "fixed":
        value = authors_value(wildcards.method, obs_every)
        if value is None:
            raise WorkflowError(
                f"assimilation.tuned=fixed, but the authors published no value for method "
                f"{wildcards.method} at observation interval {obs_every} "
                "(resources/authors_tuned.yaml); use assimilation.tuned=grid"
            )
        params["value"] = value
    return params


def da_spread_params(wildcards):
    step = labelled_value(da_spread_points(), wildcards.point, "spread-sweep point")
    return {
        **da_common_params(
            SPREAD_SWEEP_METHOD, int(config["assimilation"]["obs_every"])
        ),
        "purpose": "spread",
        "value": step,
        **da_test_truth_params(),
    }


def da_spread_files():
    return [da_spread_path(point) for point in da_spread_points()]


def da_obs_interval_files():
    sweep = config["assimilation"]["obs_interval_sweep"]
    return [
        da_run_file(int(obs_every), method)
        for method in sweep["methods"]
        for obs_every in sweep["obs_every"]
    ]


def da_table_files():
    assimilation = config["assimilation"]
    return [
        da_run_file(int(assimilation["obs_every"]), method)
        for method in assimilation["methods"]
    ]


def assimilation_targets():
    return [
        result("ensembles", "diffusion_time_sweep.nc"),
        result("tables", "assimilation_scores.nc"),
        result("assimilation", "spread_sweep.nc"),
        result("assimilation", "obs_interval_sweep.nc"),
    ]
