"""Project metadata a user checks: no dead dependencies, licence and citation files that agree.

Decisions:
- A runtime dependency must be imported by the library, a rule script or the workflow; netCDF4 is
  used through xarray's `engine="netcdf4"` and counts when that engine is named.
- `snakemake --report` needs pygments, which Snakemake declares only in its `reports` extra.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
IMPORT_NAMES = {"pyyaml": "yaml", "netcdf4": "netCDF4"}
USE_PATTERNS = {"netcdf4": r"engine=\"netcdf4\""}


def _sources() -> str:
    files = [*(ROOT / "src").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]
    files += [*(ROOT / "workflow").rglob("*.smk"), ROOT / "workflow" / "Snakefile"]
    return "\n".join(f.read_text() for f in files)


def _requirements(group: str | None = None) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("req", _requirements(), ids=str)
def test_every_runtime_dependency_is_used(req):
    name = canonicalize_name(req.name)
    module = IMPORT_NAMES.get(name, name.replace("-", "_"))
    pattern = rf"^\s*(import|from) {re.escape(module)}\b"
    if name in USE_PATTERNS:
        pattern += "|" + USE_PATTERNS[name]
    assert re.search(pattern, _sources(), flags=re.M), (
        f"{req} is a dependency in pyproject.toml, but nothing in src/, scripts/ or workflow/ "
        f"imports {module}"
    )


def test_snakemake_brings_report_support():
    (snakemake,) = [r for r in _requirements() if canonicalize_name(r.name) == "snakemake"]
    assert "reports" in snakemake.extras, "snakemake --report needs the `reports` extra (pygments)"


def test_cluster_packages_are_an_extra_the_tests_install():
    cluster = {canonicalize_name(r.name) for r in _requirements("cluster")}
    assert cluster == {"submitit", "snakemake-executor-plugin-slurm"}
    test = _requirements("test")
    assert any(canonicalize_name(r.name) == "ddmdyn" and "cluster" in r.extras for r in test)


def test_license_file_matches_pyproject():
    declared = PYPROJECT["project"]["license"]
    declared = declared["text"] if isinstance(declared, dict) else declared
    text = (ROOT / "LICENSE").read_text()
    assert declared == "MIT" and text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) \d{4} \S", text)


def test_citation_cites_the_paper_and_this_software():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert str(cff["version"]) == PYPROJECT["project"]["version"]
    assert cff["license"] == "MIT" and cff["authors"]
    paper = cff["preferred-citation"]
    assert paper["doi"] == "10.5194/npg-31-409-2024"
    assert (paper["journal"], paper["volume"], paper["start"], paper["end"], paper["year"]) == (
        "Nonlinear Processes in Geophysics",
        31,
        409,
        431,
        2024,
    )
    assert [a["family-names"] for a in paper["authors"]] == [
        "Finn",
        "Disson",
        "Farchi",
        "Bocquet",
        "Durand",
    ]
