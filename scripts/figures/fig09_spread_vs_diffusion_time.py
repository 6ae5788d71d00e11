"""Rule fig09_spread_vs_diffusion_time.

Ensemble spread and Gaussianity vs diffusion time, with DA RMSE and spread vs diffusion step.
"""

import xarray as xr

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig09_spread_vs_diffusion_time
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
sweep = read_dataset(smk.input.sweep).load()
da_sweep = read_dataset(smk.input.da_sweep).load()
fig = fig09_spread_vs_diffusion_time(sweep, da_sweep)
shown = sweep[[v for v in ("spread", "skewness", "excess_kurtosis") if v in sweep]]
da_shown = da_sweep.rename({v: f"da_{v}" for v in da_sweep.data_vars})
data = xr.merge([shown, da_shown], join="outer", combine_attrs="drop")
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(data, smk.output.data, figure=smk.rule, inputs=list(smk.input))
