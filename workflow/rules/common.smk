# Helpers shared by all stages (paths, parameter bundles, target lists).
# Rules stay declarative; every value a job depends on reaches it through `params:`.
import os
from pathlib import Path
from types import SimpleNamespace

import yaml

from ddmdyn.experiments import DA_METHODS, DIFFUSION_VARIANTS, SURROGATE_CONFIGURATIONS

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


def data_expectation(*splits):
    """{split: params} a stage checks its data files against (a file from another config fails)."""
    return {split: data_params(split) for split in splits}


def check_config():
    """Cross-key checks the schema cannot express; each error names the key."""
    d = config["diffusion"]
    if d["main_variant"] not in d["variants"]:
        raise WorkflowError(
            f"diffusion.main_variant={d['main_variant']!r} is not in diffusion.variants"
        )
    if d["main_seed"] not in d["seeds"]:
        raise WorkflowError(
            f"diffusion.main_seed={d['main_seed']} is not in diffusion.seeds"
        )
    g = config["generation"]
    if d["timesteps"] % g["n_coarse_steps"]:
        raise WorkflowError(
            f"generation.n_coarse_steps={g['n_coarse_steps']} must divide "
            f"diffusion.timesteps={d['timesteps']}"
        )

    e = config["ensembles"]
    if d["timesteps"] % e["n_coarse_steps"]:
        raise WorkflowError(
            f"ensembles.n_coarse_steps={e['n_coarse_steps']} must divide "
            f"diffusion.timesteps={d['timesteps']}"
        )
    a = config["assimilation"]
    for key, steps in [
        ("ensembles.diffusion_steps", e["diffusion_steps"]),
        (
            "assimilation.spread_sweep.diffusion_steps",
            a["spread_sweep"]["diffusion_steps"],
        ),
        (
            "assimilation.tuning.grids.diffusion_step",
            a["tuning"]["grids"]["diffusion_step"],
        ),
    ]:
        bad = [s for s in steps if s > e["n_coarse_steps"]]
        if bad:
            raise WorkflowError(
                f"{key} has steps {bad} beyond ensembles.n_coarse_steps={e['n_coarse_steps']}"
            )
    # the authors' static constants away from obs_every 10 were tuned for another covariance
    if a["tuned"] == "fixed":
        static = [m for m, s in DA_METHODS.items() if s.kind in STATIC_COVARIANCE_KINDS]
        sweep = a["obs_interval_sweep"]
        runs = [("assimilation.obs_every", a["obs_every"], a["methods"])] + [
            ("assimilation.obs_interval_sweep.obs_every", o, sweep["methods"])
            for o in sweep["obs_every"]
        ]
        for key, obs_every, methods in runs:
            bad = [m for m in methods if m in static]
            if obs_every != 10 and bad:
                raise WorkflowError(
                    f"assimilation.tuned=fixed with static-covariance methods {bad} at {key}="
                    f"{obs_every}: the authors' constants there were tuned for another covariance "
                    "(spec 10.2.3); use assimilation.tuned=grid or observation interval 10"
                )
    s = config["surrogate"]
    steps_mtu = [dt * config["data"]["dt"] for dt in s["scaling"]["surrogate_dt"]]
    # every roll-out covers n_leads main surrogate steps, whatever its own step
    horizon = s["n_leads"] * s["dt"] * config["data"]["dt"]
    bad = [
        t
        for t in s["scaling"]["lead_times"]
        if t < min(steps_mtu) - 1e-9 or t > horizon + 1e-9
    ]
    if bad:
        raise WorkflowError(
            f"surrogate.scaling.lead_times {bad} (MTU) are reached by no roll-out: the shortest "
            f"surrogate step is {min(steps_mtu):g} MTU, the roll-outs end at {horizon:g} MTU "
            "(surrogate.n_leads x surrogate.dt x data.dt)"
        )
    n_train = config["data"]["splits"]["train"]["n_trajectories"]
    if a["tuning"]["n_truths"] > n_train:
        raise WorkflowError(
            f"assimilation.tuning.n_truths={a['tuning']['n_truths']} exceeds the "
            f"{n_train} training trajectories (data.splits.train.n_trajectories)"
        )


# ---------------------------------------------------------------------------------------------
# diffusion
def diffusion_model(variant, seed):
    return result("diffusion", str(variant), str(seed), "model.pt")


def diffusion_train_params(variant, seed):
    """Hyper-parameters of one training job: the variant's head/schedule/loss and the config."""
    d = config["diffusion"]
    v = DIFFUSION_VARIANTS[variant]
    return {
        "variant": variant,
        "seed": int(seed),
        "head": v.head,
        "schedule": v.schedule,
        "loss": v.loss,
        "timesteps": d["timesteps"],
        **d["network"],
        **d["training"],
    }


def diffusion_targets():
    d = config["diffusion"]
    return expand(
        result("diffusion", "{variant}", "{seed}", "training_log.nc"),
        variant=d["variants"],
        seed=d["seeds"],
    )


# ---------------------------------------------------------------------------------------------
# generation
def generation_params(seed):
    """Sampler settings of one generation job; its seed combines the base and the model seed."""
    g = config["generation"]
    return {
        "n_samples": g["n_samples"],
        "sampler": g["sampler"],
        "n_coarse_steps": g["n_coarse_steps"],
        "eta": g["eta"],
        "seed": g["seed"] * 1000 + int(seed),
    }


def fsd_feature_model():
    """The trained dense_two surrogate whose features define the Frechet surrogate distance."""
    return surrogate_model(
        "main", "default", "dense_two", config["diffusion"]["main_seed"]
    )


def generation_score_files():
    d = config["diffusion"]
    return expand(
        result("generation", "{variant}", "{seed}", "scores.nc"),
        variant=d["variants"],
        seed=d["seeds"],
    )


# ---------------------------------------------------------------------------------------------
# surrogate
NETWORK_SURROGATES = [
    c for c, s in SURROGATE_CONFIGURATIONS.items() if s.trains_network
]
RIDGE_SURROGATES = [
    c for c, s in SURROGATE_CONFIGURATIONS.items() if not s.trains_network
]
STUDY_DIMS = {
    "samples": "n_train_samples",
    "corruption": "corruption_level",
    "timestep": "surrogate_dt",
    "representation": "diffusion_variant",
}


def surrogate_model(study, point, configuration, seed):
    return result("surrogate", study, str(point), configuration, str(seed), "model.pt")


def surrogate_rollout(study, point, configuration, seed):
    return result(
        "surrogate", study, str(point), configuration, str(seed), "rollout.nc"
    )


def surrogate_study_points(study):
    """Path components of a study's sweep points, in sweep order."""
    sc = config["surrogate"]["scaling"]
    if study == "main":
        return ["default"]
    if study == "samples":
        return [f"n{n}" for n in sc["n_train_samples"]]
    if study == "corruption":
        return [f"c{fmt_value(c)}" for c in sc["corruption_levels"]]
    if study == "timestep":
        return [f"dt{d}" for d in sc["surrogate_dt"]]
    if study == "representation":
        return list(sc["representation_variants"])
    raise WorkflowError(f"unknown surrogate study {study!r}")


def surrogate_study_configurations(study):
    sc = config["surrogate"]["scaling"]
    if study == "main":
        return config["surrogate"]["configurations"]
    if study == "representation":
        return [sc["representation_configuration"]]
    return sc["configurations"]


def surrogate_study_seeds(study):
    if study == "main":
        return config["surrogate"]["seeds"]
    if study == "representation":
        return config["diffusion"]["seeds"]
    return config["surrogate"]["scaling"]["seeds"]


def surrogate_params(wildcards):
    """Everything one surrogate job depends on, from its study, sweep point, configuration, seed."""
    s = config["surrogate"]
    study, point = wildcards.study, wildcards.point
    if point not in surrogate_study_points(study):
        raise WorkflowError(
            f"surrogate study {study!r} has no point {point!r} in the config"
        )
    training = dict(s["training"])
    params = {
        "configuration": wildcards.configuration,
        "seed": int(wildcards.seed),
        "dt": s["dt"],
        "n_leads": s["n_leads"],
        "mlp_hidden": s["mlp_hidden"],
        "n_train_samples": None,
        "corruption": 0.0,
        "diffusion_variant": config["diffusion"]["main_variant"],
        "diffusion_seed": int(wildcards.seed),
        "weights": config["diffusion"]["weights"],
    }
    if study == "samples":
        params["n_train_samples"] = int(point[1:])
        training.update(s["scaling"]["samples_training"])
    elif study == "corruption":
        params["corruption"] = float(point[1:])
    elif study == "timestep":
        dt = int(point[2:])
        params["dt"] = dt
        params["n_leads"] = max(1, s["n_leads"] * s["dt"] // dt)
    elif study == "representation":
        params["diffusion_variant"] = point
    ridge_keys = ("ridge_batch_size", "ridge_l2", "ridge_pairs")
    if SURROGATE_CONFIGURATIONS[wildcards.configuration].trains_network:
        training = {k: v for k, v in training.items() if k not in ridge_keys}
    else:  # a ridge fit depends on its own settings only, not on the optimiser's
        training = {k: (v if k in ridge_keys else None) for k, v in training.items()}
    params["training"] = training
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
        main = surrogate_params(SimpleNamespace(study="main", point="default", **run))
        if own == main:
            return "main", "default"
    return study, point


def surrogate_study_runs(study):
    """(point, configuration, seed) of every run of a study, in the order of its inputs."""
    return [
        (p, c, seed)
        for p in surrogate_study_points(study)
        for c in surrogate_study_configurations(study)
        for seed in surrogate_study_seeds(study)
    ]


def surrogate_study_rollouts(study):
    return [
        surrogate_rollout(*surrogate_run_point(study, p, c, seed), c, seed)
        for p, c, seed in surrogate_study_runs(study)
    ]


def surrogate_main_rollouts():
    return surrogate_study_rollouts("main")


def surrogate_targets():
    return [result("tables", "surrogate_scores.nc")] + [
        result("surrogate", f"scaling_{study}.nc") for study in STUDY_DIMS
    ]


def main_diffusion_model():
    d = config["diffusion"]
    return diffusion_model(d["main_variant"], d["main_seed"])


# ---------------------------------------------------------------------------------------------
# assimilation
DIFFUSION_DA_METHODS = [m for m, spec in DA_METHODS.items() if spec.uses_diffusion]
STATIC_DA_METHODS = [m for m, spec in DA_METHODS.items() if not spec.uses_diffusion]
STATIC_COVARIANCE_KINDS = ("enoi_diag", "enoi_full", "var3d")
AUTHORS_TUNED = yaml.safe_load((RESOURCES / "authors_tuned.yaml").read_text())


def fmt_value(value):
    """Grid values as path components: 1.0 -> '1', 1.07 -> '1.07', 13 -> '13'."""
    return f"{float(value):g}"


def da_tuning_file(obs_every, method, value):
    return result(
        "assimilation", "tuning", f"obs{obs_every}", str(method), f"{value}.nc"
    )


def da_tuned_file(obs_every, method):
    return result("assimilation", "tuned", f"obs{obs_every}", f"{method}.json")


def da_run_file(obs_every, method):
    return result("assimilation", "runs", f"obs{obs_every}", f"{method}.nc")


def da_grid(method):
    """Candidate values of a method's tuned parameter (config assimilation.tuning.grids)."""
    spec = DA_METHODS[method]
    grids = config["assimilation"]["tuning"]["grids"]
    if spec.parameter == "diffusion_step":
        return [int(v) for v in grids["diffusion_step"]]
    if spec.kind == "etkf":
        return [float(v) for v in grids["etkf_inflation"]]
    return [float(v) for v in grids["static_inflation"]]


def authors_value(method, obs_every):
    """The authors' tuned constant for (method, obs interval), or None where they had none."""
    obs_every = int(obs_every)
    if obs_every == 10 and method in AUTHORS_TUNED["obs_every_10"]:
        return AUTHORS_TUNED["obs_every_10"][method]
    return AUTHORS_TUNED["obs_interval"].get(method, {}).get(obs_every)


def authors_values_at(obs_every):
    return {m: authors_value(m, obs_every) for m in config["assimilation"]["methods"]}


def da_common_params(method, obs_every):
    a = config["assimilation"]
    e = config["ensembles"]
    spec = DA_METHODS[method]
    params = {
        "method": method,
        "obs_std": a["obs_std"],
        "obs_every": int(obs_every),
        "parameter_name": spec.parameter,
    }
    if spec.uses_diffusion:
        params.update(
            weights=config["diffusion"]["weights"],
            n_coarse_steps=e["n_coarse_steps"],
            sampler=e["sampler"],
            eta=e["eta"],
        )
    return params


def da_tuning_params(wildcards):
    t = config["assimilation"]["tuning"]
    return {
        **da_common_params(wildcards.method, wildcards.obs_every),
        "purpose": "tuning",
        "value": float(wildcards.value),
        "n_truths": t["n_truths"],
        "n_burn_in": t["n_burn_in"],
        "n_cycles": t["n_cycles"],
        "seed": t["seed"],
    }


def da_tuning_inputs(wildcards):
    return [
        da_tuning_file(wildcards.obs_every, wildcards.method, fmt_value(v))
        for v in da_grid(wildcards.method)
    ]


def da_run_inputs(wildcards):
    inputs = {
        "truth": data_file("test"),
        "static_cov": str(RESOURCES / "static_covariance.yaml"),
    }
    if DA_METHODS[wildcards.method].uses_diffusion:
        inputs["model"] = main_diffusion_model()
    if config["assimilation"]["tuned"] == "grid":
        inputs["tuned"] = da_tuned_file(wildcards.obs_every, wildcards.method)
    return inputs


def da_run_params(wildcards):
    a = config["assimilation"]
    params = {
        **da_common_params(wildcards.method, wildcards.obs_every),
        "purpose": "test",
        "tuned": a["tuned"],
        "n_truths": None,
        "n_burn_in": a["n_burn_in"],
        "n_cycles": a["n_cycles"],
        "seed": a["seed"],
    }
    if a["tuned"] == "fixed":
        value = authors_value(wildcards.method, wildcards.obs_every)
        if value is None:
            raise WorkflowError(
                f"assimilation.tuned=fixed, but the authors published no value for method "
                f"{wildcards.method} at observation interval {wildcards.obs_every} "
                "(resources/authors_tuned.yaml); use assimilation.tuned=grid"
            )
        params["value"] = value
    return params


def da_spread_params(step):
    a = config["assimilation"]
    return {
        **da_common_params("ddm_enoi_50", a["obs_every"]),
        "purpose": "spread",
        "value": int(step),
        "n_truths": None,
        "n_burn_in": a["n_burn_in"],
        "n_cycles": a["n_cycles"],
        "seed": a["seed"],
    }


def da_spread_files():
    steps = config["assimilation"]["spread_sweep"]["diffusion_steps"]
    return [result("assimilation", "spread", f"S{s}.nc") for s in steps]


def da_obs_interval_files():
    sweep = config["assimilation"]["obs_interval_sweep"]
    return [da_run_file(o, m) for m in sweep["methods"] for o in sweep["obs_every"]]


def da_table_files():
    a = config["assimilation"]
    return [da_run_file(a["obs_every"], m) for m in a["methods"]]


def assimilation_targets():
    return [
        result("ensembles", "diffusion_time_sweep.nc"),
        result("tables", "assimilation_scores.nc"),
        result("assimilation", "spread_sweep.nc"),
        result("assimilation", "obs_interval_sweep.nc"),
    ]
