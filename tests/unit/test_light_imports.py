"""Jobs that need no network import no torch: every job pays its imports (torch ~1.5 s)."""

from __future__ import annotations

import subprocess
import sys

import pytest

TORCH_FREE = [
    "ddmdyn.assimilation.runner",  # static DA methods (EnOI, 3D-Var, ETKF)
    "ddmdyn.assimilation.tuning",
    "ddmdyn.assimilation.collect",
    "ddmdyn.surrogate.collect",
    "ddmdyn.data",
    "ddmdyn.io",
    "ddmdyn.tables",
]


def _assert_imports_without(modules: str, heavy: set[str]) -> None:
    """Import `modules` (comma-separated) in a fresh interpreter; none of `heavy` may load."""
    code = (
        f"import sys, {modules}\n"
        f"heavy = sorted(set({sorted(heavy)!r}) & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_imports_without_torch_numba_or_scipy(module):
    _assert_imports_without(module, {"torch", "numba", "scipy"})


TABLE_JOBS = {  # what the table scripts import: tables never need matplotlib
    "generation_table": "ddmdyn.io, ddmdyn.logs, ddmdyn.tables",
    "surrogate_table": "ddmdyn.io, ddmdyn.logs, ddmdyn.surrogate.collect, ddmdyn.tables",
    "da_table": (
        "ddmdyn.assimilation.collect, ddmdyn.dynamics, ddmdyn.io, ddmdyn.logs, ddmdyn.tables"
    ),
}


@pytest.mark.parametrize("script", sorted(TABLE_JOBS))
def test_table_jobs_import_no_matplotlib(script):
    _assert_imports_without(TABLE_JOBS[script], {"matplotlib", "torch", "scipy"})
