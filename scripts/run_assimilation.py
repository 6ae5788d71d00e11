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
da = dict(smk.params.da)
inputs = dict(smk.input.items())

if "tuned" in inputs:  # the value chosen by the grid search on the training truths
    da["value"] = json.loads(open(inputs["tuned"]).read())["value"]
split = "train" if da["purpose"] == "tuning" else "test"
truth = load_states(  # only the truths this run uses are read
    inputs["truth"],
    normalised=False,
    expected_params=smk.params.data[split],
    max_trajectories=da["n_truths"],
).astype(np.float64)
static_cov = np.asarray(yaml.safe_load(open(inputs["static_cov"]))["full"], dtype=np.float64)

model, settings = None, None
if "model" in inputs:  # torch is imported by diffusion-ensemble runs only (start-up time)
    from ddmdyn.diffusion.checkpoint import load_diffusion_model
    from ddmdyn.runtime import job_device

    device = job_device(
        smk.threads,
        smk.config["device"],
        gpu_requested=smk.resources.get("gpu", 0) > 0,
        rule=smk.rule,
    )
    model = load_diffusion_model(inputs["model"], weights=da["weights"], device=device)
    settings = DiffusionEnsembleSettings(da["n_coarse_steps"], da["sampler"], da["eta"])
method = build_method(
    da["method"], da["value"], static_cov, da["obs_std"], da["seed"], model, settings
)
log.info(
    "%s %s=%s on %d truths, obs every %d",
    da["method"],
    da["parameter_name"],
    da["value"],
    len(truth),
    da["obs_every"],
)
# resumable: a retry after a time limit (SIGTERM) or a kill continues from the last checkpoint
claim_checkpoint(smk.params.checkpoint, params_hash({"da": da, "data": smk.params.data}), log.info)
res = run_experiment(
    method,
    truth,
    da["obs_std"],
    da["obs_every"],
    da["n_burn_in"],
    da["n_cycles"],
    da["seed"],
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
        "method": da["method"],
        "parameter_name": da["parameter_name"],
        "parameter_value": float(da["value"]),
        "purpose": da["purpose"],
    },
)
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(da, inputs=list(inputs.values()), seeds=da["seed"], step=smk.rule),
)
release_checkpoint(smk.params.checkpoint)
