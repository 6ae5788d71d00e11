"""Rule fig07_transfer_by_diffusion_model.

Transfer surrogate error by the diffusion model its features come from.
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig07_transfer_by_diffusion_model
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
# one configuration: the transfer surrogate
study = read_dataset(smk.input.study).load().squeeze("configuration", drop=True)
fig = fig07_transfer_by_diffusion_model(study)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(study, smk.output.data, figure=smk.rule, inputs=list(smk.input))
