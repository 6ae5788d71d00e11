"""Inputs the tests share with the workflow, read from the repository's resources/ folder."""

from __future__ import annotations

import numpy as np
import yaml

from tests.smk import ROOT

#: Static background covariance C of the EnOI / 3D-Var baselines, (3, 3) physical units, read as
#: scripts/run_assimilation.py reads it.
C_FULL = np.asarray(
    yaml.safe_load((ROOT / "resources" / "static_covariance.yaml").read_text())["full"],
    dtype=np.float64,
)
