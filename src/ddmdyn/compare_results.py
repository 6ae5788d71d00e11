"""Compare two results folders by value: the guard rail of refactors that must not change outputs.

Usage::

    python -m ddmdyn.compare_results BEFORE/results AFTER/results

Every netCDF file (variables, coordinates, dims, dtypes, variable attributes, global attributes),
table (CSV, Markdown), JSON file and PyTorch file (tensors and settings) found under either folder
is compared value by value; NaN equals NaN. Provenance (attributes or keys named ``provenance*``,
``history``, ``params_json``: commit, time written, parameters as recorded) and variables marked
``timing = "true"`` (wall-clock times) differ between any two runs and are ignored. Figure images
(PNG/PDF), logs, benchmarks, checksum sidecars and the report are not compared: their bytes carry
timestamps and timings, and the numbers each figure draws are in its netCDF file, which is
compared. Exit status 0 when every compared file is equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

COMPARED_SUFFIXES = (".nc", ".csv", ".md", ".json", ".pt")
SKIPPED_FOLDERS = ("logs", "benchmarks", "report", "checkpoints")
PROVENANCE_PREFIXES = ("provenance", "history", "params_json")


def is_provenance(key: Any) -> bool:
    """True for attribute or dict keys that record how and when a file was made, not its values."""
    return isinstance(key, str) and key.startswith(PROVENANCE_PREFIXES)


def is_timing(variable: Any) -> bool:
    """True for netCDF variables of wall-clock times (attribute ``timing = "true"``)."""
    return str(variable.attrs.get("timing", "")).lower() == "true"


def compared_files(root: Path) -> set[str]:
    """Paths (relative to ``root``, POSIX) of the files this comparison reads."""
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and path.suffix in COMPARED_SUFFIXES:
            if relative.parts[0] not in SKIPPED_FOLDERS:
                found.add(relative.as_posix())
    return found


def _arrays_equal(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _values_equal(a: Any, b: Any) -> bool:
    numeric = (float, np.floating, np.ndarray)
    if isinstance(a, numeric) or isinstance(b, numeric):  # NaN (a _FillValue) equals NaN
        return _arrays_equal(a, b)
    return bool(a == b)


def nested_differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Differences between two nested values (dicts, lists, tensors, arrays, scalars).

    Keys named like provenance are skipped. Each difference is one line naming its key path.
    """
    import torch

    if isinstance(a, dict) and isinstance(b, dict):
        keys_a = {k for k in a if not is_provenance(k)}
        keys_b = {k for k in b if not is_provenance(k)}
        for key in sorted(keys_a ^ keys_b, key=str):
            side = "before" if key in keys_a else "after"
            yield f"{where}/{key}: only {side}"
        for key in sorted(keys_a & keys_b, key=str):
            yield from nested_differences(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            yield f"{where}: length {len(a)} != {len(b)}"
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                yield from nested_differences(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape:
            yield f"{where}: tensor {a.dtype}{tuple(a.shape)} != {b.dtype}{tuple(b.shape)}"
        elif not torch.equal(a, b):
            diff = (a.double() - b.double()).abs().max().item()
            yield f"{where}: tensors differ (max abs difference {diff:.3g})"
    elif type(a) is not type(b):
        yield f"{where}: {type(a).__name__} != {type(b).__name__}"
    elif not _values_equal(a, b):
        yield f"{where}: {_short(a)} != {_short(b)}"


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _attrs(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if not is_provenance(k)}


def netcdf_differences(before: Path, after: Path) -> Iterator[str]:
    """Differences in variables, coordinates, dims, dtypes, values and non-provenance attrs."""
    import xarray as xr

    with (
        xr.open_dataset(before, decode_cf=False) as a,
        xr.open_dataset(after, decode_cf=False) as b,
    ):
        if dict(a.sizes) != dict(b.sizes):
            yield f"dims {dict(a.sizes)} != {dict(b.sizes)}"
        yield from nested_differences(_attrs(a.attrs), _attrs(b.attrs), "attrs")
        names_a = {n for n, v in a.variables.items() if not is_timing(v)}
        names_b = {n for n, v in b.variables.items() if not is_timing(v)}
        for name in sorted(names_a ^ names_b):
            yield f"variable {name}: only {'before' if name in names_a else 'after'}"
        for name in sorted(names_a & names_b):
            va, vb = a.variables[name], b.variables[name]
            if va.dims != vb.dims:
                yield f"variable {name}: dims {va.dims} != {vb.dims}"
            elif not _arrays_equal(va.values, vb.values):
                yield f"variable {name}: {_array_difference(va.values, vb.values)}"
            yield from nested_differences(_attrs(va.attrs), _attrs(vb.attrs), f"{name}.attrs")


def _array_difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"{a.dtype}{a.shape} != {b.dtype}{b.shape}"
    if a.dtype.kind in "fc":
        unequal = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        finite = unequal & np.isfinite(a) & np.isfinite(b)
        largest = float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else np.nan
        return f"{int(unequal.sum())} of {a.size} values differ (max abs difference {largest:.3g})"
    return f"{int(np.sum(a != b))} of {a.size} values differ"


def text_differences(before: Path, after: Path) -> Iterator[str]:
    """The first differing line of two text files (tables), with its number."""
    lines_a = before.read_text().splitlines()
    lines_b = after.read_text().splitlines()
    for number, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
        if x != y:
            yield f"line {number}: {_short(x, 100)} != {_short(y, 100)}"
            return
    if len(lines_a) != len(lines_b):
        yield f"{len(lines_a)} lines != {len(lines_b)} lines"


def file_differences(before: Path, after: Path) -> list[str]:
    """Differences between two files of the same kind (by suffix), one line each."""
    if before.suffix == ".nc":
        return list(netcdf_differences(before, after))
    if before.suffix in (".csv", ".md"):
        return list(text_differences(before, after))
    if before.suffix == ".json":
        before_value, after_value = (json.loads(p.read_text()) for p in (before, after))
        return list(nested_differences(before_value, after_value))
    if before.suffix == ".pt":
        import torch

        def load(path):
            return torch.load(path, map_location="cpu", weights_only=False)

        return list(nested_differences(load(before), load(after)))
    raise ValueError(f"{before}: no comparison for files ending {before.suffix!r}")


def compare_folders(before: Path, after: Path) -> dict[str, list[str]]:
    """{relative path: differences} for every compared file of either folder (empty: equal)."""
    for root in (before, after):
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not a folder")
    files_before, files_after = compared_files(before), compared_files(after)
    report = {}
    for relative in sorted(files_before | files_after):
        if relative not in files_after:
            report[relative] = ["only before"]
        elif relative not in files_before:
            report[relative] = ["only after"]
        else:
            report[relative] = file_differences(before / relative, after / relative)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ddmdyn.compare_results",
        description="Compare two results folders value by value (provenance ignored).",
    )
    parser.add_argument("before", type=Path, help="results folder of the reference run")
    parser.add_argument("after", type=Path, help="results folder of the run to check")
    parser.add_argument("--quiet", action="store_true", help="print differing files only")
    args = parser.parse_args(argv)
    report = compare_folders(args.before, args.after)
    differing = {path: lines for path, lines in report.items() if lines}
    for path, lines in report.items():
        if lines:
            print(f"DIFFERS {path}")
            for line in lines:
                print(f"    {line}")
        elif not args.quiet:
            print(f"equal   {path}")
    print(f"{len(report) - len(differing)} of {len(report)} files equal, {len(differing)} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
