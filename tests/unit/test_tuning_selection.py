"""Selecting a DA method's parameter from its grid-search runs (`assimilation.tuning`).

Runs are built by hand with known analysis errors per truth, so the right choice is known.
Every truth of a run has the same error here unless a test says otherwise, so the mean and the
pooled (root-mean-square) aggregation over truths agree and the expected choice does not depend
on which one the selection uses. Grid-edge handling is tested by the owner of that behaviour
(issue 14); every choice below lies inside its grid.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from ddmdyn.assimilation.tuning import select_optimum


def run(method: str, parameter: str, value: float, ana_rmse) -> xr.Dataset:
    """A tuning run as `da_tune` writes it: ana_rmse over truths plus identifying attrs."""
    errors = np.broadcast_to(np.asarray(ana_rmse, dtype=float), (3,)).copy()
    return xr.Dataset(
        {"ana_rmse": ("truth", errors, {"units": "1", "long_name": "analysis nRMSE"})},
        attrs={"method": method, "parameter_name": parameter, "parameter_value": value},
    )


def test_lowest_error_is_chosen_whatever_the_run_order():
    values = [1.1, 1.3, 1.5, 1.7, 1.9]
    errors = [0.40, 0.31, 0.27, 0.29, 0.35]
    runs = [run("enoi_full", "inflation", v, e) for v, e in zip(values, errors, strict=True)]
    for order in ([0, 1, 2, 3, 4], [4, 2, 0, 3, 1]):
        choice = select_optimum([runs[i] for i in order], authors_value=1.6)
        assert choice["method"] == "enoi_full" and choice["parameter_name"] == "inflation"
        assert choice["value"] == 1.5
        assert choice["objective"] == pytest.approx(0.27)
        assert choice["authors_value"] == 1.6
        assert [g["value"] for g in choice["grid"]] == values
        assert [g["objective"] for g in choice["grid"]] == pytest.approx(errors)
        assert not choice["at_grid_edge"]
        json.dumps(choice)  # written as JSON by da_select


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_diverged_runs_are_never_chosen(bad):
    """The best-looking value diverged on one truth (NaN or inf nRMSE): the next best wins, and
    the diverged run's objective is stored as null, not as NaN (invalid JSON)."""
    runs = [
        run("etkf_12", "inflation", 1.02, 0.30),
        run("etkf_12", "inflation", 1.05, [0.10, bad, 0.10]),
        run("etkf_12", "inflation", 1.08, 0.20),
        run("etkf_12", "inflation", 1.12, 0.25),
    ]
    choice = select_optimum(runs)
    assert choice["value"] == 1.08
    assert choice["objective"] == pytest.approx(0.20)
    diverged = next(g for g in choice["grid"] if g["value"] == 1.05)
    assert diverged["objective"] is None
    json.dumps(choice["grid"], allow_nan=False)


def test_every_run_diverged_is_an_error_naming_the_method():
    runs = [run("var3d", "inflation", v, math.nan) for v in (1.0, 2.0, 3.0)]
    with pytest.raises(ValueError, match=r"var3d.*diverged"):
        select_optimum(runs)
    with pytest.raises(ValueError, match="no tuning runs"):
        select_optimum([])


def test_diffusion_step_is_an_integer_step():
    """Steps are stored as floats in netCDF attrs; the choice is the integer step (JSON int)."""
    runs = [
        run("ddm_enoi_50", "diffusion_step", float(s), e)
        for s, e in [(5, 0.5), (9, 0.3), (13, 0.2), (17, 0.4)]
    ]
    choice = select_optimum(runs)
    assert choice["value"] == 13 and isinstance(choice["value"], int)
    assert json.loads(json.dumps(choice))["value"] == 13
    # inflation values are not rounded
    runs = [run("enoi_diag", "inflation", v, e) for v, e in [(1.2, 0.5), (1.45, 0.2), (2, 0.6)]]
    assert select_optimum(runs)["value"] == 1.45
