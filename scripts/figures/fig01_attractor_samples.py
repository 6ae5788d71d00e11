"""Rule fig01_attractor_samples.

Generated vs test states of the main diffusion model (three projections).
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig01_attractor_samples
from ddmdyn.plotting.output import save_figure, test_states

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
samples = read_dataset(smk.input.samples, variables={"state": ("sample", "variable")}).load()
fig = fig01_attractor_samples(samples, test_states(smk.input.test))
save_figure(fig, smk.output)
