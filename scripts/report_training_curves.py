"""Rules report_training_diffusion / report_training_surrogate: losses of every trained model."""

from collections import defaultdict

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting.output import save_figure
from ddmdyn.plotting.report_figures import (
    curve_from_history,
    curve_from_log,
    training_curves_figure,
)

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
panels = defaultdict(dict)
if "logs" in smk.input.keys():  # diffusion models: one panel per variant, one line per seed
    for path in smk.input.logs:
        ds = read_dataset(path, variables={"loss": ("step",), "val_loss": ("step",)}).load()
        panels[ds.attrs["variant"]][f"seed {ds.attrs['seed']}"] = curve_from_log(ds)
    fig = training_curves_figure(
        panels,
        title=f"Training of every diffusion model ({smk.config['preset']} preset)",
        ylabel="loss (normalised units)",
        line_title="seed",
    )
else:  # surrogates of one study: one panel per configuration, one line per point and seed
    import torch

    study = smk.wildcards.study
    for (configuration, point, seed), path in zip(smk.params.runs, smk.input.models, strict=True):
        payload = torch.load(path, map_location="cpu", weights_only=True)
        curve = curve_from_history(payload.get("extra", {}).get("history", {}))
        if curve is None:
            log.warning("%s has no training history", path)
            continue
        label = f"seed {seed}" if study == "main" else f"{point}, seed {seed}"
        panels[configuration][label] = curve
    fig = training_curves_figure(
        panels,
        title=f"Training of the surrogates, study '{study}' ({smk.config['preset']} preset)",
        ylabel="loss (normalised MSE)",
        line_title="sweep point and seed" if study != "main" else "seed",
    )
save_figure(fig, smk.output)
log.info("wrote %s", smk.output[0])
