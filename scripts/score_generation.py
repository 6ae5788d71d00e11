"""Rule score_generation: scores of generated states vs the test set (docs/decisions.md, E11)."""

import numpy as np

from ddmdyn import dynamics
from ddmdyn.data import load_states
from ddmdyn.generation import score_generated
from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device
from ddmdyn.surrogate.runner import feature_function

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)

with read_dataset(smk.input.samples, variables={"state": ("sample", "variable")}) as ds:
    generated = dynamics.normalise(np.asarray(ds["state"].values, dtype=np.float64))
reference = load_states(smk.input.test, expected_params=smk.params.data["test"])
reference = reference.reshape(-1, 3).astype(np.float64)
features = feature_function(smk.input.feature_model, device=device)
log.info("scoring %d generated against %d test states", len(generated), len(reference))
scores = score_generated(generated, reference, features, seed=smk.params.seed)
for name, value in scores.data_vars.items():
    log.info("%s = %.5g", name, float(value))
scores.attrs.update(variant=smk.wildcards.variant, seed=int(smk.wildcards.seed))
write_netcdf(
    scores,
    smk.output[0],
    provenance_attrs(
        {"seed": smk.params.seed, **smk.params.data},
        inputs=[smk.input.samples, smk.input.test, smk.input.feature_model],
        seeds=smk.params.seed,
        step=smk.rule,
    ),
)
