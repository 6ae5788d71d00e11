"""Rule generate_samples: unconditional DDPM/DDIM samples of one diffusion model.

Samplers as in docs/decisions.md, E10.
"""

from ddmdyn.diffusion.checkpoint import load_diffusion_model
from ddmdyn.generation import generate_states, samples_dataset
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
generation = dict(smk.params.generation)
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)
model = load_diffusion_model(smk.input.model, weights=smk.params.weights, device=device)
log.info(
    "sampling %d states with %s, K=%d (%s weights)",
    generation["n_samples"],
    generation["sampler"],
    generation["n_coarse_steps"],
    smk.params.weights,
)
states = generate_states(
    model,
    generation["n_samples"],
    generation["n_coarse_steps"],
    generation["sampler"],
    generation["eta"],
    generation["seed"],
    smk.config["generation"]["batch_size"],
    device,
)
params = {
    **generation,
    "weights": smk.params.weights,
    "variant": smk.wildcards.variant,
    "diffusion_seed": int(smk.wildcards.seed),
}
ds = samples_dataset(states, {"variant": smk.wildcards.variant, "weights": smk.params.weights})
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(params, inputs=[smk.input.model], seeds=generation["seed"], step=smk.rule),
)
log.info("wrote %s", smk.output[0])
