"""Rules da_tune*, da_run*, da_spread_run: one cycled DA experiment over all truths at once."""

import json

import numpy as np
import yaml

from ddmdyn.assimilation.runner import (
    DiffusionEnsembleSettings,
    build_method,
    result_dataset,
    run_experiment,
)
from ddmdyn.checkpointing import claim_checkpoint, release_checkpoint
from ddmdyn.data import load_states
from ddmdyn.io import params_hash, provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
p = dict(smk.params.da)
inputs = dict(smk.input.items())

if "tuned" in inputs:  # the value chosen by the grid search on the training truths
    p["value"] = json.loads(open(inputs["tuned"]).read())["value"]
split = "train" if p["purpose"] == "tuning" else "test"
truth = load_states(  # only the truths this run uses are read
    inputs["truth"],
    normalised=False,
    expected_params=smk.params.data[split],
    max_trajectories=p["n_truths"],
).astype(np.float64)
static_cov = np.asarray(yaml.safe_load(open(inputs["static_cov"]))["full"], dtype=np.float64)

model, settings = None, None
if "model" in inputs:  # torch is imported by diffusion-ensemble runs only (start-up time)
    from ddmdyn.diffusion.checkpoint import load_diffusion_model
    from ddmdyn.runtime import resolve_device, set_threads

    set_threads(smk.threads)
    device = resolve_device(
        smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
    )
    model = load_diffusion_model(inputs["model"], weights=p["weights"], device=device)
    settings = DiffusionEnsembleSettings(p["n_coarse_steps"], p["sampler"], p["eta"])
method = build_method(p["method"], p["value"], static_cov, p["obs_std"], p["seed"], model, settings)
log.info(
    "%s %s=%s on %d truths, obs every %d",
    p["method"],
    p["parameter_name"],
    p["value"],
    len(truth),
    p["obs_every"],
)
# resumable: a retry after a time limit (SIGTERM) or a kill continues from the last checkpoint
claim_checkpoint(smk.params.checkpoint, params_hash({"da": p, "data": smk.params.data}), log.info)
res = run_experiment(
    method,
    truth,
    p["obs_std"],
    p["obs_every"],
    p["n_burn_in"],
    p["n_cycles"],
    p["seed"],
    checkpoint_path=smk.params.checkpoint,
    log=log.info,
)
log.info(
    "analysis nRMSE %.4f +- %.4f, spread %.4f, %d scored cycles",
    np.mean(res.ana_rmse),
    np.std(res.ana_rmse),
    np.mean(res.ana_spread),
    res.n_cycles,
)
ds = result_dataset(
    res,
    {
        "method": p["method"],
        "parameter_name": p["parameter_name"],
        "parameter_value": float(p["value"]),
        "purpose": p["purpose"],
    },
)
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(p, inputs=list(inputs.values()), seeds=p["seed"], step=smk.rule),
)
release_checkpoint(smk.params.checkpoint)
