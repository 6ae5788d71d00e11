"""Result tables: stack per-run datasets, summarise mean ± std, write netCDF + CSV + Markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .io import atomic_write_text, write_netcdf
from .plotting.tables import mean_std_table, table_to_markdown


def stack_runs(
    runs: Mapping[tuple[Any, ...], xr.Dataset],
    dims: Sequence[str],
    coords: Sequence[Sequence[Any]],
) -> xr.Dataset:
    """Stack per-run datasets keyed by coordinate tuples into one dataset with new `dims`.

    Args:
        runs: {(value_dim0, value_dim1, ...): dataset}; every dataset has the same variables.
        dims: names of the new leading dimensions, e.g. ("variant", "seed").
        coords: the coordinate values of each new dimension, in table order.
    Raises:
        KeyError: a combination of `coords` has no run (names the missing key).
    """
    keys = list(np.ndindex(*[len(c) for c in coords]))
    first = next(iter(runs.values()))
    out = {}
    for name, var in first.data_vars.items():
        arr = np.full(tuple(len(c) for c in coords) + var.shape, np.nan)
        for idx in keys:
            key = tuple(c[i] for c, i in zip(coords, idx, strict=True))
            if key not in runs:
                raise KeyError(f"no result for {dict(zip(dims, key, strict=True))}")
            arr[idx] = runs[key][name].values
        out[name] = (tuple(dims) + var.dims, arr, dict(var.attrs))
    ds = xr.Dataset(
        out,
        coords={
            **{d: (d, list(c), {"long_name": d}) for d, c in zip(dims, coords, strict=True)},
            **{k: v for k, v in first.coords.items() if k not in dims},
        },
    )
    return ds


def mean_std_numbers(ds: xr.Dataset, index_dim: str, over: str) -> pd.DataFrame:
    """<var>_mean and <var>_std columns (sample std over `over`), one row per `index_dim` value,
    for every variable with dimensions exactly {index_dim, over}."""
    numeric = {}
    for name, var in ds.data_vars.items():
        if set(var.dims) != {index_dim, over}:
            continue
        numeric[f"{name}_mean"] = var.mean(over, skipna=True).values
        std = var.std(over, ddof=1, skipna=True) if ds.sizes[over] > 1 else 0 * var.isel({over: 0})
        numeric[f"{name}_std"] = std.values
    index = pd.Index([str(v) for v in ds[index_dim].values], name=index_dim)
    return pd.DataFrame(numeric, index=index)


def write_table(
    ds: xr.Dataset,
    index_dim: str,
    over: str,
    outputs: Any,
    provenance: Mapping[str, str],
    title: str,
    extra_columns: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """Write a table as netCDF (all runs), CSV (mean/std numbers) and Markdown (mean ± std).

    Args:
        outputs: object with `netcdf`, `csv` and `markdown` paths (e.g. Snakemake's output).
        extra_columns: further columns shown in the CSV and Markdown (e.g. the authors' values).
    Returns:
        the Markdown frame.
    """
    numeric = mean_std_numbers(ds, index_dim, over)
    text = mean_std_table(ds, dim=over, index_dim=index_dim, fmt="{:.4g}")
    return write_frames(ds, numeric, text, outputs, provenance, title, extra_columns)


def write_frames(
    ds: xr.Dataset,
    numeric: pd.DataFrame,
    text: pd.DataFrame,
    outputs: Any,
    provenance: Mapping[str, str],
    title: str,
    extra_columns: Mapping[str, Sequence[Any]] | None = None,
    notes: str = "",
) -> pd.DataFrame:
    """Write prepared frames: `ds` as netCDF, `numeric` as CSV, `text` as Markdown.

    Args:
        numeric: the numbers of the table (CSV); text: the same rows as display strings.
        notes: Markdown paragraph written under the table (e.g. what each column aggregates).
    Returns:
        the Markdown frame.
    """
    numeric, text = numeric.copy(), text.copy()
    for name, values in (extra_columns or {}).items():
        numeric[name] = list(values)
        text[name] = list(values)
    ds = ds.assign_attrs(title=title)
    write_netcdf(ds, outputs.netcdf, provenance)
    atomic_write_text(outputs.csv, numeric.to_csv())
    tail = f"\n{notes.strip()}\n" if notes.strip() else ""
    atomic_write_text(outputs.markdown, f"# {title}\n\n{table_to_markdown(text)}{tail}")
    return text
