"""Rule evaluate_surrogate: autoregressive roll-outs from the test starts and their scores."""

from ddmdyn.data import load_states
from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device
from ddmdyn.surrogate.runner import evaluate_rollouts, load_surrogate

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
surrogate = dict(smk.params.surrogate)
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)

model, spec = load_surrogate(smk.input.model, device)
test = load_states(smk.input.test, expected_params=smk.params.data["test"])
ds = evaluate_rollouts(
    model,
    test,
    dt=surrogate["surrogate_dt"],
    n_leads=surrogate["n_leads"],
    max_starts=smk.params.evaluation,
    batch_size=smk.config["surrogate"]["evaluation"]["batch_size"],
    device=device,
)
ds.attrs.update(
    study=smk.wildcards.study,
    point=smk.wildcards.point,
    configuration=spec.configuration,
    seed=surrogate["seed"],
)
log.info(
    "%s seed %d: one-step RMSE %.4g, Hellinger %.4g over %d starts",
    spec.configuration,
    surrogate["seed"],
    float(ds["mse"][1]) ** 0.5,
    float(ds["hellinger"]),
    ds.attrs["n_starts"],
)
write_netcdf(
    ds,
    smk.output[0],
    provenance_attrs(
        {**surrogate, "max_starts": smk.params.evaluation},
        inputs=list(smk.input),
        seeds=surrogate["seed"],
        step=smk.rule,
    ),
)
