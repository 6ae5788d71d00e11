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
