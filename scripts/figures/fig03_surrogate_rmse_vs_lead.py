"""Rule fig03_surrogate_rmse_vs_lead: Surrogate RMSE vs lead time for every configuration."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig03_surrogate_rmse_vs_lead
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
table = read_dataset(smk.input.table).load()
fig = fig03_surrogate_rmse_vs_lead(table)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(table, smk.output.data, figure=smk.rule, inputs=list(smk.input))
