"""Rule fig09_spread_vs_diffusion_time.

Ensemble spread and Gaussianity vs diffusion time, with DA RMSE and spread vs diffusion step.
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig09_spread_vs_diffusion_time
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig09_spread_vs_diffusion_time(
    read_dataset(smk.input.sweep).load(), read_dataset(smk.input.da_sweep).load()
)
save_figure(fig, smk.output)
