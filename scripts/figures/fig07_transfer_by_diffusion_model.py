"""Rule fig07_transfer_by_diffusion_model.

Transfer surrogate error by the diffusion model its features come from.
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig07_transfer_by_diffusion_model
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
study = read_dataset(smk.input.study).load()  # one configuration: the transfer surrogate
fig = fig07_transfer_by_diffusion_model(study.squeeze("configuration", drop=True))
save_figure(fig, smk.output)
