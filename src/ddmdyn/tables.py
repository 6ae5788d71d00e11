"""Result tables: stack per-run datasets, summarise mean ± std, write netCDF + CSV + Markdown.

The mean and std over repeats are computed once (`mean_std`); the CSV writes them in full
precision and the Markdown formats the same numbers, so the two formats cannot disagree. The
figures draw their bands from the same computation (`ddmdyn.plotting._common.mean_std`). No
matplotlib here: table jobs import this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .io import atomic_write_text, write_netcdf


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


def mean_std(da: xr.DataArray, dim: str) -> tuple[xr.DataArray, xr.DataArray]:
    """NaN-skipping mean and sample std (ddof=1) over ``dim``: the numbers of every table.

    The std is NaN where fewer than two values are finite, except along a dimension of length 1
    (a single seed), where it is 0 times the value (0, or NaN for a NaN run).
    """
    mean = da.mean(dim, skipna=True)
    if da.sizes[dim] > 1:
        return mean, da.std(dim, ddof=1, skipna=True)
    return mean, 0 * da.isel({dim: 0}, drop=True)


def _table_variables(
    ds: xr.Dataset, index_dim: str, over: str, variables: Sequence[str] | None
) -> list[str]:
    """The variables shown in a table: `variables`, or every one with dimensions exactly
    {index_dim, over}."""
    if variables is None:
        return [str(n) for n, v in ds.data_vars.items() if set(v.dims) == {index_dim, over}]
    bad = [v for v in variables if v not in ds or set(ds[v].dims) != {index_dim, over}]
    if bad:
        raise ValueError(f"variables {bad} missing or without dimensions ({index_dim}, {over})")
    return list(variables)


def mean_std_numbers(
    ds: xr.Dataset, index_dim: str, over: str, variables: Sequence[str] | None = None
) -> pd.DataFrame:
    """<var>_mean and <var>_std columns (`mean_std` over `over`), one row per `index_dim` value,
    for `variables` (default: every variable with dimensions exactly {index_dim, over})."""
    numeric = {}
    for name in _table_variables(ds, index_dim, over, variables):
        mean, std = mean_std(ds[name], over)
        numeric[f"{name}_mean"] = mean.values
        numeric[f"{name}_std"] = std.values
    index = pd.Index([str(v) for v in ds[index_dim].values], name=index_dim)
    return pd.DataFrame(numeric, index=index)


def format_mean_std(mean: float, std: float, fmt: str = "{:.4g}") -> str:
    """One Markdown cell: "mean ± std", "mean ± n/a" without a std, "n/a" without a mean."""
    if not np.isfinite(mean):
        return "n/a"
    if not np.isfinite(std):
        return f"{fmt.format(mean)} ± n/a"
    return f"{fmt.format(mean)} ± {fmt.format(std + 0.0)}"  # + 0.0: "-0" (0 * -x) shows as "0"


def format_numbers(numeric: pd.DataFrame, fmt: str = "{:.4g}") -> pd.DataFrame:
    """The "mean ± std" strings of a `mean_std_numbers` frame: column <var> from <var>_mean and
    <var>_std, in the same order; the Markdown of a table is thus its CSV's numbers."""
    pairs = zip(numeric.columns[0::2], numeric.columns[1::2], strict=True)  # (<var>_mean, _std)
    columns = {
        mean_col.removesuffix("_mean"): [
            format_mean_std(float(m), float(s), fmt)
            for m, s in zip(numeric[mean_col], numeric[std_col], strict=True)
        ]
        for mean_col, std_col in pairs
    }
    return pd.DataFrame(columns, index=numeric.index)


def mean_std_table(
    ds: xr.Dataset,
    dim: str = "seed",
    index_dim: str = "variant",
    fmt: str = "{:.4g}",
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Table of "mean ± std" strings over ``dim``: `mean_std_numbers` formatted.

    Args:
        ds: Dataset whose variables have dimensions exactly {index_dim, dim}.
        dim: the repeat dimension that is reduced (seed, truth, ...).
        index_dim: dimension whose values become the rows.
        fmt: format of the mean and of the std.
        variables: columns, in order (default: every variable with dimensions {index_dim, dim};
            variables with other dimensions are skipped).
    Returns:
        DataFrame indexed by the ``index_dim`` values (index named ``index_dim``), one column per
        variable.
    """
    return format_numbers(mean_std_numbers(ds, index_dim, dim, variables), fmt)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_to_markdown(df: pd.DataFrame) -> str:
    """GitHub-flavoured Markdown pipe table of ``df`` with its index as the first column."""
    header = [_cell(df.index.name or "")] + [_cell(c) for c in df.columns]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * len(df.columns)) + "|",
    ]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([_cell(idx)] + [_cell(v) for v in row.tolist()]) + " |")
    return "\n".join(lines) + "\n"


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
    text = format_numbers(numeric, fmt="{:.4g}")
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
