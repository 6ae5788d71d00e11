"""The one place where files are written and read: atomic netCDF/torch/text writes with provenance.

Every file the workflow writes goes through `write_netcdf`, `atomic_write` or `save_torch`: data
lands in a temporary file in the target's folder and is renamed over the target only once
complete, so a killed job never leaves a file that looks finished. netCDF files carry global
provenance attributes (package version, git commit and dirty flag, the producing step's parameters
as JSON and their hash, seeds, input checksums, creation time). `read_dataset` validates variables,
dimensions and the parameters a file was made with, and names the file in every error.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import __version__

PROVENANCE_PREFIX = "provenance_"
PAPER_DOI = "10.5194/npg-31-409-2024"
PAPER_REFERENCE = (
    "Finn, T. S., Disson, L., Farchi, A., Bocquet, M., and Durand, C.: Representation learning "
    "with unconditional denoising diffusion models for dynamical systems, Nonlin. Processes "
    f"Geophys., 31, 409-431, https://doi.org/{PAPER_DOI}, 2024"
)
_UMASK = os.umask(0)
os.umask(_UMASK)


class DatasetValidationError(ValueError):
    """A netCDF file is missing a variable, has wrong dimensions or comes from other parameters."""


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------
#: Files at least this large get a checksum sidecar when written (smaller ones hash in no time).
CHECKSUM_SIDECAR_MIN_BYTES = 1 << 20


def checksum_sidecar(target: str | os.PathLike[str]) -> Path:
    """Where the SHA-256 of `target` is kept: ``TARGET.sha256`` (JSON: sha256, size, mtime_ns)."""
    return Path(f"{target}.sha256")


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str], suffix: str = "", checksum: bool = False
) -> Iterator[Path]:
    """Yield a temporary path next to `target`; rename it onto `target` only on success.

    On any exception the temporary file is removed and `target` is left untouched (absent if it
    did not exist before). With `checksum`, a file of at least `CHECKSUM_SIDECAR_MIN_BYTES` gets
    its SHA-256 computed once, here, and kept in `checksum_sidecar(target)` with the size and
    modification time it belongs to, so the jobs that read it need not hash it again
    (`file_checksum`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    sidecar = checksum_sidecar(target)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as written:  # data on disk before the rename makes it visible
            os.fsync(written.fileno())
        digest = None
        if checksum and tmp_path.stat().st_size >= CHECKSUM_SIDECAR_MIN_BYTES:
            digest = _sha256(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; honour the umask instead
        sidecar.unlink(missing_ok=True)  # never a sidecar that could describe the old file
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    if digest is not None:
        st = target.stat()
        record = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        atomic_write_text(sidecar, json.dumps(record))


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def save_torch(obj: Any, target: str | os.PathLike[str], checksum: bool = True) -> None:
    """`torch.save` atomically (temporary file in the same folder, then rename).

    `checksum`: keep a checksum sidecar for the jobs that read the file (`atomic_path`); resumable
    training checkpoints, rewritten often and read by no other job, pass False.
    """
    import torch

    with atomic_path(target, checksum=checksum) as tmp:
        torch.save(obj, tmp)


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def params_json(params: Mapping[str, Any]) -> str:
    """Canonical JSON of a parameter mapping (sorted keys), used for storage and hashing."""
    return json.dumps(_jsonable(params), sort_keys=True, separators=(",", ":"))


def params_hash(params: Mapping[str, Any]) -> str:
    """Short SHA-256 of the canonical JSON of `params`."""
    return hashlib.sha256(params_json(params).encode()).hexdigest()[:16]


def _sha256(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_checksum(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, hex.

    Read from the file's checksum sidecar when the sidecar describes exactly this file (same size
    and modification time in nanoseconds, as recorded when the file was written atomically);
    otherwise computed from the bytes. Either way the value is the SHA-256 of the bytes.
    """
    sidecar = checksum_sidecar(path)
    try:
        record = json.loads(sidecar.read_text())
        st = os.stat(path)
        if record["size"] == st.st_size and record["mtime_ns"] == st.st_mtime_ns:
            return str(record["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _sha256(path)


def git_state(cwd: str | os.PathLike[str] | None = None) -> tuple[str, bool | None]:
    """(commit hash, dirty flag) of the git checkout at `cwd`; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return commit, bool(status.strip())
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None


def provenance_attrs(
    params: Mapping[str, Any],
    inputs: Sequence[str | os.PathLike[str]] = (),
    seeds: Mapping[str, int] | Sequence[int] | int | None = None,
    step: str = "",
) -> dict[str, str]:
    """Global attributes recording how a file was made.

    Args:
        params: the producing step's parameters (a rule's `params:`), stored as JSON and hashed.
        inputs: input files; their SHA-256 checksums are recorded.
        seeds: the seeds used.
        step: the name of the producing step (e.g. the rule name).
    """
    commit, dirty = git_state(Path(__file__).resolve().parent)  # the code's checkout, not the cwd
    checksums = {os.path.relpath(p): file_checksum(p) for p in inputs}
    job_id = os.environ.get("SLURM_JOB_ID")
    attrs = {
        "package": "ddmdyn",
        "package_version": __version__,
        "git_commit": commit,
        "git_dirty": "unknown" if dirty is None else str(dirty).lower(),
        "step": step,
        "params": params_json(params),
        "params_hash": params_hash(params),
        "seeds": json.dumps(_jsonable(seeds)),
        "input_checksums": json.dumps(checksums, sort_keys=True),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "slurm_job_id": job_id or "none",
        "slurm_array_job_id": os.environ.get("SLURM_ARRAY_JOB_ID", "none"),
    }
    return {PROVENANCE_PREFIX + k: v for k, v in attrs.items()}


# --------------------------------------------------------------------------------------------
# netCDF
# --------------------------------------------------------------------------------------------
def write_netcdf(
    ds: xr.Dataset,
    target: str | os.PathLike[str],
    provenance: Mapping[str, str] | None = None,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Write `ds` to `target` (netCDF4) atomically, adding provenance global attributes.

    Every data variable must carry `units` and `long_name` attributes; a variable without them is
    an error raised before anything is written.
    """
    missing = [
        name
        for name, var in ds.data_vars.items()
        if "units" not in var.attrs or "long_name" not in var.attrs
    ]
    if missing:
        raise ValueError(f"{target}: variables without units/long_name attributes: {missing}")
    ds = ds.copy()
    ds.attrs.update(dict(provenance or {}))
    ds.attrs.update(cf_global_attrs(ds.attrs))
    with atomic_path(target, suffix=".nc", checksum=True) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=dict(encoding or {}))


def cf_global_attrs(attrs: Mapping[str, Any]) -> dict[str, str]:
    """CF global attributes `Conventions`, `source`, `history`, `references` for a file.

    `source` names the package, version and producing step; `history` gets one line (creation
    time, package, git commit) appended to any it already has; `references` cites the paper.
    """
    prov = {
        k[len(PROVENANCE_PREFIX) :]: str(v)
        for k, v in attrs.items()
        if k.startswith(PROVENANCE_PREFIX)
    }
    step = prov.get("step") or "unknown step"
    created = prov.get("created") or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    commit = prov.get("git_commit", "unknown")
    line = f"{created}: written by ddmdyn {__version__} (git {commit}), {step}"
    history = str(attrs.get("history", "")).strip()
    return {
        "Conventions": str(attrs.get("Conventions", "CF-1.10")),
        "source": f"ddmdyn {__version__}, {step}: Lorenz 63 reproduction of Finn et al. (2024)",
        "history": f"{history}\n{line}" if history else line,
        "references": PAPER_REFERENCE,
    }


def read_dataset(
    path: str | os.PathLike[str],
    variables: Mapping[str, Sequence[str]] | None = None,
    expected_params: Mapping[str, Any] | None = None,
    chunks: Mapping[str, int] | str | None = None,
) -> xr.Dataset:
    """Open a netCDF file written by `write_netcdf` and validate it.

    Args:
        path: the file.
        variables: required variables and their dimension names, e.g.
            ``{"state": ("trajectory", "time", "variable")}``.
        expected_params: if given, the file's provenance params must contain these key/value
            pairs (compared as canonical JSON); a mismatch means the file was made with another
            configuration.
        chunks: passed to `xarray.open_dataset` (dask streaming); None loads lazily unchunked.
    Raises:
        FileNotFoundError: the file does not exist.
        DatasetValidationError: a variable is missing, has other dimensions, or the parameters
            differ; the message names the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        ds = xr.open_dataset(path, engine="netcdf4", chunks=chunks)
    except Exception as err:  # pragma: no cover - depends on the corruption
        raise DatasetValidationError(f"{path}: not a readable netCDF file ({err})") from err
    for name, dims in (variables or {}).items():
        if name not in ds.variables:
            ds.close()
            raise DatasetValidationError(
                f"{path}: missing variable '{name}' (has: {sorted(ds.variables)})"
            )
        if tuple(ds[name].dims) != tuple(dims):
            actual = tuple(ds[name].dims)
            ds.close()
            raise DatasetValidationError(
                f"{path}: variable '{name}' has dimensions {actual}, expected {tuple(dims)}"
            )
    if expected_params:
        stored = json.loads(ds.attrs.get(PROVENANCE_PREFIX + "params", "{}"))
        for key, value in expected_params.items():
            want = params_json({"v": value})
            got = params_json({"v": stored.get(key)}) if key in stored else None
            if got != want:
                ds.close()
                raise DatasetValidationError(
                    f"{path}: made with {key}={stored.get(key, '<absent>')!r}, but the current "
                    f"configuration has {key}={value!r}; the file comes from another configuration"
                )
    return ds


def stored_params(ds: xr.Dataset) -> dict[str, Any]:
    """The producing step's parameters recorded in a dataset's provenance."""
    return json.loads(ds.attrs.get(PROVENANCE_PREFIX + "params", "{}"))
