"""Rule simulate_trajectories: one Lorenz 63 split -> netCDF (docs/decisions.md, E1)."""

import json

import numpy as np

from ddmdyn import dynamics
from ddmdyn.data import simulate_from_settings
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
settings = dict(smk.params.data)

constants = json.loads(open(smk.input.normalisation).read())
if not (
    np.allclose(constants["shift"], dynamics.NORM_SHIFT)
    and np.allclose(constants["scale"], dynamics.NORM_SCALE)
):
    raise ValueError(
        f"{smk.input.normalisation}: normalisation constants differ from ddmdyn.dynamics "
        "(docs/decisions.md, E2); the models would be trained in another space"
    )

log.info("simulating split %s: %s", settings["split"], settings)
ds = simulate_from_settings(settings)
ds.attrs["split"] = settings["split"]
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(
        settings,
        inputs=[smk.input.normalisation],
        seeds=settings["seed"],
        step=smk.rule,
    ),
)
log.info("wrote %s", smk.output[0])
