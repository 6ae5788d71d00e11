"""Rule fig12_training_curves: Training and validation loss of the diffusion models."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig12_training_curves
from ddmdyn.plotting.figure_data import training_curves, write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
logs, seeds = {}, set()
for path in smk.input.logs:
    ds = read_dataset(path).load()
    logs[ds.attrs["variant"]] = ds
    seeds.add(int(ds.attrs["seed"]))
seed_text = ", ".join(str(s) for s in sorted(seeds))
fig = fig12_training_curves(logs, title=f"Training of the diffusion models (seed {seed_text})")
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(training_curves(logs), smk.output.data, figure=smk.rule, inputs=list(smk.input))
