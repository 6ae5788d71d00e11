"""Table helpers: "mean ± std" tables over repeats and their Markdown rendering."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ._common import mean_std, names_along


def _format(mean: float, std: float, fmt: str) -> str:
    if not np.isfinite(mean):
        return "n/a"
    if not np.isfinite(std):
        return fmt.format(mean)
    return f"{fmt.format(mean)} ± {fmt.format(std)}"


def mean_std_table(
    ds: xr.Dataset,
    dim: str = "seed",
    index_dim: str = "variant",
    fmt: str = "{:.3g}",
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Table of "mean ± std" strings over ``dim`` (NaNs skipped; sample std, 0 for one value).

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
    if variables is None:
        variables = [str(n) for n, v in ds.data_vars.items() if set(v.dims) == {index_dim, dim}]
    else:
        bad = [v for v in variables if v not in ds or set(ds[v].dims) != {index_dim, dim}]
        if bad:
            raise ValueError(f"variables {bad} missing or without dimensions ({index_dim}, {dim})")
    rows = names_along(ds, index_dim)
    columns: dict[str, list[str]] = {}
    for var in variables:
        mean, std = mean_std(ds[var].transpose(index_dim, dim), dim)
        columns[var] = [
            _format(float(m), float(s), fmt) for m, s in zip(mean.values, std.values, strict=True)
        ]
    return pd.DataFrame(columns, index=pd.Index(rows, name=index_dim))


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


__all__ = ["mean_std_table", "table_to_markdown"]
