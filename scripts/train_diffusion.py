"""Rule train_diffusion: one diffusion model (variant, seed), resumable (docs/decisions.md, E8)."""

import numpy as np
import xarray as xr

from ddmdyn.checkpointing import claim_checkpoint, release_checkpoint
from ddmdyn.data import load_states
from ddmdyn.diffusion.checkpoint import save_model
from ddmdyn.diffusion.training import (
    DiffusionTrainConfig,
    build_model,
    train_diffusion,
)
from ddmdyn.io import params_hash, provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
params = dict(smk.params.train)
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)

expect = smk.params.data
train = load_states(smk.input.train, expected_params=expect["train"]).reshape(-1, 3)
val = load_states(smk.input.validation, expected_params=expect["validation"]).reshape(-1, 3)
cfg = DiffusionTrainConfig.from_dict(params)
log.info(
    "training %s seed %d on %d states (%s): %s",
    params["variant"],
    cfg.seed,
    len(train),
    device,
    cfg,
)

claim_checkpoint(smk.params.checkpoint, params_hash({"train": params, "data": expect}), log.info)
result = train_diffusion(cfg, train, val, smk.params.checkpoint, device=device, log=log.info)

prov = provenance_attrs(
    params, inputs=[smk.input.train, smk.input.validation], seeds=cfg.seed, step=smk.rule
)
save_model(
    smk.output.model,
    build_model(cfg),
    cfg,
    result.raw_state,
    result.ema_state,
    extra={"variant": params["variant"], "provenance": prov},
)
history = result.history
ds = xr.Dataset(
    {
        "loss": (
            "step",
            np.asarray(history["train_loss"]),
            {"long_name": f"training loss ({cfg.loss}, raw weights)", "units": "1"},
        ),
        "val_loss": (
            "step",
            np.asarray(history["val_loss"]),
            {"long_name": "validation loss (EMA weights)", "units": "1"},
        ),
        "wall_time": (
            "step",
            np.asarray(history["wall_time"]),
            {"long_name": "wall time since the start of training", "units": "s", "timing": "true"},
        ),
    },
    coords={
        "step": ("step", np.asarray(history["step"]), {"long_name": "optimiser step", "units": "1"})
    },
    attrs={"variant": params["variant"], "seed": cfg.seed, "device": str(device)},
)
write_netcdf(ds, smk.output.training_log, prov)
log.info("final loss %.4g, wrote %s", history["train_loss"][-1], smk.output.model)
release_checkpoint(smk.params.checkpoint)
