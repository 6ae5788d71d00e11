"""Rules train_surrogate / fit_surrogate: one surrogate (study, point, configuration, seed)."""

from ddmdyn.checkpointing import claim_checkpoint, release_checkpoint
from ddmdyn.data import load_states
from ddmdyn.diffusion.checkpoint import load_diffusion_model
from ddmdyn.io import params_hash, provenance_attrs
from ddmdyn.logs import setup_logging
from ddmdyn.runtime import job_device
from ddmdyn.surrogate.runner import TrainingSettings, make_spec, save_surrogate, train_or_fit

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
surrogate = dict(smk.params.surrogate)
device = job_device(
    smk.threads, smk.config["device"], gpu_requested=smk.resources.get("gpu", 0) > 0, rule=smk.rule
)

expect = smk.params.data
train = load_states(smk.input.train, expected_params=expect["train"])
val = load_states(smk.input.validation, expected_params=expect["validation"])
network = None
if "diffusion_model" in smk.input.keys():
    network = load_diffusion_model(smk.input.diffusion_model, surrogate["weights"], device).network
spec = make_spec(
    surrogate["configuration"],
    surrogate["seed"],
    surrogate["mlp_hidden"],
    network_hparams=None if network is None else dict(network.hparams),
)
settings = TrainingSettings(
    **surrogate["training"]
)  # network or ridge keys, the others default None
log.info("surrogate %s: %s", smk.wildcards, surrogate)
claim_checkpoint(
    smk.params.checkpoint, params_hash({"surrogate": surrogate, "data": expect}), log.info
)
model, history = train_or_fit(
    spec,
    train,
    val,
    dt=surrogate["surrogate_dt"],
    seed=surrogate["seed"],
    settings=settings,
    device=device,
    n_train_samples=surrogate["n_train_samples"],
    corruption=surrogate["corruption_level"],
    network=network,
    log=log.info,
    checkpoint_path=smk.params.checkpoint,
)
prov = provenance_attrs(surrogate, inputs=list(smk.input), seeds=surrogate["seed"], step=smk.rule)
save_surrogate(
    smk.output.model,
    model,
    spec,
    extra={"params_json": prov["provenance_params"], "history": history},
)
log.info("wrote %s (%d trainable parameters)", smk.output.model, model.n_trainable())
release_checkpoint(smk.params.checkpoint)
