"""Rule fig12_training_curves: Training and validation loss of the diffusion models."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig12_training_curves
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
logs = {}
for path in smk.input.logs:
    ds = read_dataset(path).load()
    logs[f"{ds.attrs['variant']} (seed {ds.attrs['seed']})"] = ds
fig = fig12_training_curves(logs)
save_figure(fig, smk.output)
