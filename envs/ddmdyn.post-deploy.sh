#!/usr/bin/env bash
# Run by Snakemake after it creates the conda environment of envs/ddmdyn.yaml
# (--sw-deployment-method conda): install this project into it, without touching the
# dependencies conda resolved. Snakemake runs from the repository root.
set -euo pipefail
python -m pip install --no-deps -e .
