"""Rule report_tuning_curves: tuning score against each grid value, per DA method."""

import json
from collections import defaultdict
from pathlib import Path

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting.output import save_figure
from ddmdyn.plotting.report_figures import tuning_curve, tuning_curves_figure

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = defaultdict(list)
for path in smk.input.runs:
    ds = read_dataset(path).load()
    runs[ds.attrs["method"]].append(ds)
curves = []
for path in smk.input.tuned:
    choice = json.loads(Path(path).read_text())
    curve = tuning_curve(choice, runs[choice["method"]])
    log.info("%s: chosen %s, at grid edge: %s", curve.method, curve.chosen, curve.at_edge)
    curves.append(curve)
fig = tuning_curves_figure(curves, obs_every=smk.params.obs_every)
save_figure(fig, smk.output)
