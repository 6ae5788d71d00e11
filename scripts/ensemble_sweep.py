"""Rule ensemble_sweep: diffusion-time ensembles around seeded test states and their statistics."""

from ddmdyn.data import load_states
from ddmdyn.diffusion.checkpoint import load_diffusion_model
from ddmdyn.ensemble_sweep import run_sweep
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
ensembles = dict(smk.params.ensembles)
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)
model = load_diffusion_model(smk.input.model, weights=smk.params.weights, device=device)
test_phys = load_states(smk.input.test, normalised=False, expected_params=smk.params.data["test"])
log.info(
    "ensembles of %d members around %d states at S=%s",
    ensembles["n_members"],
    ensembles["n_states"],
    ensembles["diffusion_steps"],
)
ds = run_sweep(model, test_phys, ensembles, device)
for s, sp in zip(ensembles["diffusion_steps"], ds["spread"].values, strict=True):
    log.info("S=%3d spread %s", s, sp.round(3))
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(
        {**ensembles, "weights": smk.params.weights},
        inputs=list(smk.input),
        seeds=ensembles["seed"],
        step=smk.rule,
    ),
)
