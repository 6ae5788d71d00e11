"""envs/*.yaml (the rules' conda environment) agree with pyproject.toml's dependencies.

Decisions:
- Names are compared after mapping PyPI to conda-forge names (torch -> pytorch, netCDF4 ->
  netcdf4, dask[array] -> dask; extras are dropped) and normalising case and ``-``/``_``.
- Controller-side packages (snakemake, snakemake-executor-plugin-slurm) may be absent from a rule
  environment: with ``--sw-deployment-method conda`` the controller runs Snakemake and the plugin,
  and the generated script preamble puts the controller's Snakemake on ``sys.path``. If an
  environment lists one anyway, its version range must agree.
- Where both files give a version range, the ranges must be equal (as PEP 440 specifier sets).
- The environment's Python range must lie inside ``requires-python``, and ``requires-python`` must
  not admit Pythons that the pinned Snakemake cannot run on.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))
PYPI_TO_CONDA = {"torch": "pytorch", "netcdf4": "netcdf4", "dask": "dask"}
CONTROLLER_SIDE = {"snakemake", "snakemake-executor-plugin-slurm"}
NOT_PACKAGES = {"python", "pip"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def project_requirements() -> dict[str, SpecifierSet]:
    """{conda name: specifier} of pyproject.toml's [project] dependencies."""
    out = {}
    for line in _pyproject()["project"]["dependencies"]:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        out[PYPI_TO_CONDA.get(name, name)] = req.specifier
    return out


def parse_conda_spec(entry: str) -> tuple[str, SpecifierSet]:
    """'numpy >=1.26' / 'pytorch>=2.2,<3' / 'tqdm' -> (name, PEP 440 specifier set)."""
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$", entry)
    assert m, f"cannot parse conda dependency {entry!r}"
    name, spec = canonicalize_name(m.group(1)), m.group(2).replace(" ", "")
    if re.fullmatch(r"\d[\w.]*", spec):  # conda 'pkg 1.2' means ==1.2.*
        spec = f"=={spec}.*"
    elif spec.startswith("=") and not spec.startswith("=="):
        spec = f"={spec}" + ("" if spec.endswith("*") else ".*")
    return name, SpecifierSet(spec)


def env_packages(path: Path) -> tuple[dict[str, SpecifierSet], list[str]]:
    """({conda name: specifier}, pip entries) of one conda environment file."""
    env = yaml.safe_load(path.read_text())
    packages: dict[str, SpecifierSet] = {}
    pip: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
            continue
        name, spec = parse_conda_spec(dep)
        assert name not in packages, f"{path.name} lists {name} twice"
        packages[name] = spec
    return packages, pip


def test_there_are_environment_files() -> None:
    assert ENV_FILES, "envs/*.yaml is empty"


def test_conda_spec_parsing() -> None:
    assert parse_conda_spec("pytorch >=2.2,<3") == ("pytorch", SpecifierSet(">=2.2,<3"))
    assert parse_conda_spec("tqdm") == ("tqdm", SpecifierSet(""))
    assert parse_conda_spec("numpy 1.26") == ("numpy", SpecifierSet("==1.26.*"))
    assert parse_conda_spec("numpy =1.26") == ("numpy", SpecifierSet("==1.26.*"))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_lists_the_project_dependencies(env_file: Path) -> None:
    packages, _ = env_packages(env_file)
    wanted = project_requirements()
    missing = sorted(set(wanted) - CONTROLLER_SIDE - set(packages))
    extra = sorted(set(packages) - NOT_PACKAGES - set(wanted))
    assert not missing, f"{env_file.name} lacks {missing} (pyproject.toml dependencies)"
    assert not extra, f"{env_file.name} lists {extra}, which pyproject.toml does not"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_version_ranges_agree(env_file: Path) -> None:
    packages, _ = env_packages(env_file)
    wanted = project_requirements()
    differ = {
        name: (str(wanted[name]), str(spec))
        for name, spec in packages.items()
        if name in wanted and str(spec) and str(wanted[name]) and spec != wanted[name]
    }
    unpinned = {
        name: str(wanted[name])
        for name, spec in packages.items()
        if name in wanted and str(wanted[name]) and not str(spec)
    }
    assert not differ, f"{env_file.name}: (pyproject, env) ranges differ: {differ}"
    assert not unpinned, f"{env_file.name}: no range where pyproject.toml has one: {unpinned}"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_installs_the_project(env_file: Path) -> None:
    """A relative `pip: -e ..` breaks (Snakemake copies the env file under .snakemake/conda):
    the project is installed by the env's post-deploy script, without dependencies."""
    _, pip = env_packages(env_file)
    assert not pip, f"{env_file.name}: pip entries {pip} (use the post-deploy script)"
    post = env_file.with_name(env_file.stem + ".post-deploy.sh")
    text = post.read_text()
    assert "pip install --no-deps -e ." in text
    assert post.stat().st_mode & 0o111, f"{post.name} is not executable"


def _lower_bound(spec: SpecifierSet) -> Version:
    bounds = [Version(s.version) for s in spec if s.operator in (">=", ">", "==", "~=")]
    assert bounds, f"{spec} has no lower bound"
    return max(bounds)


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_python_within_requires_python(env_file: Path) -> None:
    packages, _ = env_packages(env_file)
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert "python" in packages, f"{env_file.name} does not pin python"
    assert _lower_bound(packages["python"]) in requires, (
        f"{env_file.name}: python {packages['python']} admits versions outside "
        f"requires-python {requires}"
    )


def test_requires_python_admits_only_pythons_snakemake_supports() -> None:
    """`pip install -e .` must be able to succeed on every Python that requires-python admits."""
    ours = _lower_bound(SpecifierSet(_pyproject()["project"]["requires-python"]))
    for dist in sorted(CONTROLLER_SIDE):
        theirs = SpecifierSet(metadata.metadata(dist)["Requires-Python"] or "")
        assert ours in theirs, (
            f"requires-python admits Python {ours}, but the installed {dist} "
            f"{metadata.version(dist)} requires {theirs}"
        )
