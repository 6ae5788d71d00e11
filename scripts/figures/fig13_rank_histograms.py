"""Rule fig13_rank_histograms: Rank histograms of the background ensembles by method."""

from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig13_rank_histograms
from ddmdyn.plotting.output import load_runs, save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig13_rank_histograms(load_runs(smk.input.runs))
save_figure(fig, smk.output)
