"""Rule ensemble_sweep: diffusion-time ensembles around seeded test states and their statistics."""

from ddmdyn import dynamics
from ddmdyn.data import load_states
from ddmdyn.diffusion.checkpoint import load_diffusion_model
from ddmdyn.ensemble_sweep import generate_sweep, pick_states, sweep_statistics
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import resolve_device, set_threads

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
e = dict(smk.params.ensembles)
set_threads(smk.threads)
device = resolve_device(
    smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)
model = load_diffusion_model(smk.input.model, weights=smk.params.weights, device=device)
test_phys = load_states(smk.input.test, normalised=False, expected_params=smk.params.data["test"])
centres = pick_states(test_phys, e["n_states"], e["seed"]).astype("float64")
log.info(
    "ensembles of %d members around %d states at S=%s",
    e["n_members"],
    len(centres),
    e["diffusion_steps"],
)
ens = generate_sweep(
    model,
    centres,
    e["diffusion_steps"],
    e["n_members"],
    e["n_coarse_steps"],
    e["sampler"],
    e["eta"],
    e["seed"],
    device,
)
ds = sweep_statistics(
    ens,
    centres,
    e["diffusion_steps"],
    dynamics.normalise(test_phys.reshape(-1, 3)).astype("float64"),
)
ds.attrs["n_coarse_steps"] = e["n_coarse_steps"]
for s, sp in zip(e["diffusion_steps"], ds["spread"].values, strict=True):
    log.info("S=%3d spread %s", s, sp.round(3))
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(
        {**e, "weights": smk.params.weights}, inputs=list(smk.input), seeds=e["seed"], step=smk.rule
    ),
)
