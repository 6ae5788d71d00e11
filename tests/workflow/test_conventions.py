"""Every netCDF output of the tiny run follows the conventions users check (CF, lazy opening)."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from ddmdyn.io import PAPER_DOI

pytest.importorskip("dask", reason="xr.open_dataset(chunks={}) needs dask (the test extra)")


def _netcdf_outputs(workdir: Path) -> list[Path]:
    files = sorted((workdir / "results").rglob("*.nc"))
    assert len(files) > 20, f"the tiny run wrote only {len(files)} netCDF files"
    return files


def test_every_output_opens_lazily_with_dask_chunks(tiny_run):
    for path in _netcdf_outputs(tiny_run):
        with xr.open_dataset(path, chunks={}) as ds:
            for name, var in ds.data_vars.items():
                if var.ndim:
                    assert var.chunks is not None, f"{path}: {name} is not dask-backed"
            ds.load()  # every chunk decodes


def test_every_output_has_cf_global_attributes(tiny_run):
    for path in _netcdf_outputs(tiny_run):
        with xr.open_dataset(path) as ds:
            rel = path.relative_to(tiny_run)
            assert ds.attrs.get("Conventions", "").startswith("CF-"), rel
            assert ds.attrs.get("source", "").startswith("ddmdyn"), rel
            assert ds.attrs.get("history"), rel
            assert PAPER_DOI in ds.attrs.get("references", ""), rel


def test_no_time_standard_name_without_a_udunits_time_unit(tiny_run):
    """CF: standard_name 'time' needs 'UNIT since DATE'; model time units are dimensionless."""
    for path in _netcdf_outputs(tiny_run):
        with xr.open_dataset(path, decode_times=False) as ds:
            for name, var in ds.variables.items():
                if var.attrs.get("standard_name") == "time" or var.attrs.get("axis") == "T":
                    units = var.attrs.get("units", "")
                    assert " since " in units, f"{path}: {name} is a CF time in {units!r}"
