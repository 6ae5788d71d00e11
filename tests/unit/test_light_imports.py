"""Jobs that need no network import no torch: every job pays its imports (torch ~1.5 s)."""

from __future__ import annotations

import subprocess
import sys

import pytest

TORCH_FREE = [
    "ddmdyn.assimilation.experiment",  # static DA methods (EnOI, 3D-Var, ETKF)
    "ddmdyn.assimilation.tuning",
    "ddmdyn.assimilation.collect",
    "ddmdyn.surrogate.collect",
    "ddmdyn.data",
    "ddmdyn.io",
    "ddmdyn.tables",
]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_imports_without_torch_numba_or_scipy(module):
    code = (
        f"import sys, {module}\n"
        "heavy = sorted({'torch', 'numba', 'scipy'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


TABLE_JOBS = {  # what the table scripts import: tables never need matplotlib
    "generation_table": "ddmdyn.io, ddmdyn.logs, ddmdyn.tables",
    "collect_surrogate": "ddmdyn.io, ddmdyn.logs, ddmdyn.surrogate.collect, ddmdyn.tables",
    "collect_assimilation": (
        "ddmdyn.assimilation.collect, ddmdyn.dynamics, ddmdyn.io, ddmdyn.logs, ddmdyn.tables"
    ),
}


@pytest.mark.parametrize("script", sorted(TABLE_JOBS))
def test_table_jobs_import_no_matplotlib(script):
    code = (
        f"import sys, {TABLE_JOBS[script]}\n"
        "heavy = sorted({'matplotlib', 'torch', 'scipy'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
