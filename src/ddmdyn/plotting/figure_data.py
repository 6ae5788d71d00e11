"""The numbers behind each figure, as one netCDF file beside it (linked in the report).

Small inputs (score tables, scaling studies, sweeps) are written as they are; large ones are cut
to what the figure draws: the plotted attractor points (fig01), the plotted ensembles (fig08),
the window scores and rank histograms of every method stacked along ``method`` (fig10, fig13) and
the drawn training curves (fig12).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..io import provenance_attrs, write_netcdf
from .generation import running_mean, subsample_rows

__all__ = [
    "attractor_points",
    "ensembles_shown",
    "runs_by_method",
    "training_curves",
    "write_figure_data",
]


def _with_attrs(ds: xr.Dataset) -> xr.Dataset:
    """Every variable gets ``units`` ("1" if absent) and ``long_name`` (its name if absent)."""
    ds = ds.copy()
    for name, var in ds.data_vars.items():
        var.attrs.setdefault("units", "1")
        var.attrs.setdefault("long_name", str(name))
    return ds


def write_figure_data(
    ds: xr.Dataset, path: str | os.PathLike[str], *, figure: str, inputs: Sequence[str] = ()
) -> None:
    """Write the data of ``figure`` to ``path`` (netCDF, provenance naming the inputs)."""
    prov = provenance_attrs({"figure": figure}, inputs=list(inputs), step=figure)
    out = _with_attrs(ds.drop_attrs(deep=False)).assign_attrs(
        figure=figure, description="the numbers this figure was drawn from"
    )
    write_netcdf(out, path, prov)


def attractor_points(
    samples: xr.Dataset, test: xr.DataArray, max_points: int = 20000, seed: int = 0
) -> xr.Dataset:
    """The test and generated states fig01 draws (same subsets as its defaults), physical units."""
    var = [str(v) for v in samples["variable"].values] if "variable" in samples.coords else None
    gen = np.asarray(samples["state"].transpose("sample", "variable").values, float)
    ref = np.asarray(test.transpose(..., "variable").values, float).reshape(-1, gen.shape[1])
    coords = {"variable": var} if var else {}
    return xr.Dataset(
        {
            "generated": (
                ("generated_point", "variable"),
                subsample_rows(gen, max_points, seed),
                {"units": "1", "long_name": "generated states drawn (physical units)"},
            ),
            "test": (
                ("test_point", "variable"),
                subsample_rows(ref, max_points, seed),
                {"units": "1", "long_name": "test states drawn (physical units)"},
            ),
        },
        coords=coords,
    )


def ensembles_shown(sweep: xr.Dataset, steps: Sequence[int], state: int = 0) -> xr.Dataset:
    """The centre state and its ensembles at the diffusion steps fig08 draws."""
    out = sweep[["ensemble", "center"]].isel(state=state)
    return out.sel(diffusion_step=list(steps), method="nearest")


def runs_by_method(runs: Mapping[str, xr.Dataset], variables: Sequence[str]) -> xr.Dataset:
    """``variables`` of DA runs stacked along ``method`` (NaN-padded where sizes differ)."""
    parts = []
    for method, run in runs.items():
        part = run[[v for v in variables if v in run]]
        for dim in part.dims:
            if dim not in part.coords:
                part = part.assign_coords({dim: np.arange(part.sizes[dim])})
        parts.append(part.expand_dims(method=[method]))
    out = xr.concat(parts, dim="method", join="outer", combine_attrs="drop_conflicts")
    for var in out.data_vars.values():
        var.encoding.clear()  # NaN padding: the source files' integer encodings no longer fit
    return out


def training_curves(
    logs: Mapping[str, xr.Dataset], window: int | None = None, max_points: int = 1000
) -> xr.Dataset:
    """The training-loss running means (thinned as drawn) and validation losses of fig12."""
    n_logged = max(log.sizes["step"] for log in logs.values())
    window = max(1, n_logged // 50) if window is None else window
    variants = list(logs)
    step = np.asarray(next(iter(logs.values()))["step"].values)
    keep = np.arange(0, step.size, max(1, int(np.ceil(step.size / max_points))))
    loss = np.full((len(variants), keep.size), np.nan)
    val_steps = sorted(
        {int(s) for log in logs.values() for s in log["step"].values[np.isfinite(log["val_loss"])]}
    )
    val = np.full((len(variants), len(val_steps)), np.nan)
    for k, name in enumerate(variants):
        log = logs[name]
        smooth = running_mean(np.asarray(log["loss"].values, float), window)
        n = min(smooth.size, keep.max() + 1) if keep.size else 0
        loss[k, : np.sum(keep < n)] = smooth[keep[keep < n]]
        validated = log["val_loss"].sel(step=[s for s in val_steps if s in log["step"]])
        idx = [val_steps.index(int(s)) for s in validated["step"].values]
        val[k, idx] = validated.values
    return xr.Dataset(
        {
            "loss_running_mean": (
                ("variant", "step"),
                loss,
                {"units": "1", "long_name": f"training loss, running mean over {window} logged"},
            ),
            "val_loss": (
                ("variant", "val_step"),
                val,
                {"units": "1", "long_name": "validation loss (EMA weights)"},
            ),
        },
        coords={"variant": variants, "step": step[keep], "val_step": val_steps},
    )
