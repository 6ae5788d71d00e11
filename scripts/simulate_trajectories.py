"""Rule simulate_trajectories: one Lorenz 63 split -> netCDF (docs/decisions.md, E1)."""

import json

import numpy as np

from ddmdyn import dynamics
from ddmdyn.data import simulate_split
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
split_settings = dict(smk.params.data)

constants = json.loads(open(smk.input.normalisation).read())
if not (
    np.allclose(constants["shift"], dynamics.NORM_SHIFT)
    and np.allclose(constants["scale"], dynamics.NORM_SCALE)
):
    raise ValueError(
        f"{smk.input.normalisation}: normalisation constants differ from ddmdyn.dynamics "
        "(docs/decisions.md, E2); the models would be trained in another space"
    )

log.info("simulating split %s: %s", split_settings["split"], split_settings)
ds = simulate_split(
    n_trajectories=split_settings["n_trajectories"],
    n_steps=split_settings["n_steps"],
    n_burn_in=split_settings["n_burn_in"],
    seed=split_settings["seed"],
    dt=split_settings["dt"],
    initial_std=split_settings["initial_std"],
    sigma=split_settings["sigma"],
    rho=split_settings["rho"],
    beta=split_settings["beta"],
    time_chunk=split_settings["time_chunk"],
)
ds.attrs["split"] = split_settings["split"]
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(
        split_settings,
        inputs=[smk.input.normalisation],
        seeds=split_settings["seed"],
        step=smk.rule,
    ),
)
log.info("wrote %s", smk.output[0])
