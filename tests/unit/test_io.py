"""netCDF io: atomic writes, provenance, validated reads."""

import hashlib
import json

import numpy as np
import pytest
import xarray as xr

from ddmdyn import data
from ddmdyn.io import (
    CHECKSUM_SIDECAR_MIN_BYTES,
    DatasetValidationError,
    atomic_path,
    checksum_sidecar,
    file_checksum,
    provenance_attrs,
    read_dataset,
    save_torch,
    write_netcdf,
)


def _small_split():
    return data.simulate_split(n_trajectories=2, n_steps=300, n_burn_in=100, seed=7, time_chunk=64)


def test_round_trip_keeps_data_and_every_attribute(tmp_path):
    ds = _small_split()
    src = tmp_path / "input.txt"
    src.write_text("hello")
    prov = provenance_attrs({"a": 1, "b": [1, 2]}, inputs=[src], seeds={"data": 7}, step="test")
    target = tmp_path / "out.nc"
    write_netcdf(ds, target, prov)
    back = read_dataset(target, variables={"state": ("trajectory", "time", "variable")})
    np.testing.assert_array_equal(back["state"].values, ds["state"].values)
    np.testing.assert_array_equal(back["time"].values, ds["time"].values)
    for key, value in {**ds.attrs, **prov}.items():
        np.testing.assert_array_equal(back.attrs[key], value)
    for name in ds.variables:
        for key, value in ds[name].attrs.items():
            assert back[name].attrs[key] == value
    assert json.loads(back.attrs["provenance_params"]) == {"a": 1, "b": [1, 2]}
    checks = json.loads(back.attrs["provenance_input_checksums"])
    assert list(checks.values()) == [file_checksum(src)]
    assert back.attrs["provenance_git_dirty"] in {"true", "false", "unknown"}
    assert back["state"].encoding["chunksizes"] == (1, 64, 3)
    back.close()


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    ds = _small_split()
    target = tmp_path / "out.nc"

    def boom(self, path, *args, **kwargs):
        open(path, "wb").write(b"partial")
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(RuntimeError, match="killed"):
        write_netcdf(ds, target, {})
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_previous_version(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("new, half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_missing_variable_wrong_dims_and_other_config_are_named(tmp_path):
    target = tmp_path / "out.nc"
    write_netcdf(_small_split(), target, provenance_attrs({"n_steps": 300}))
    with pytest.raises(DatasetValidationError, match=r"out\.nc.*missing variable 'trend'"):
        read_dataset(target, variables={"trend": ("time",)})
    with pytest.raises(DatasetValidationError, match=r"out\.nc.*'state' has dimensions"):
        read_dataset(target, variables={"state": ("time", "trajectory", "variable")})
    with pytest.raises(
        DatasetValidationError, match=r"out\.nc.*n_steps=300.*another configuration"
    ):
        read_dataset(target, expected_params={"n_steps": 1000})
    read_dataset(target, expected_params={"n_steps": 300}).close()
    with pytest.raises(FileNotFoundError, match=r"nope\.nc"):
        read_dataset(tmp_path / "nope.nc")


def test_variables_without_units_are_refused_before_writing(tmp_path):
    ds = xr.Dataset({"a": ("x", np.zeros(3))})
    with pytest.raises(ValueError, match=r"units/long_name.*'a'"):
        write_netcdf(ds, tmp_path / "a.nc")
    assert not (tmp_path / "a.nc").exists()


def test_simulated_split_is_reproducible_and_seed_dependent():
    a, b = _small_split(), _small_split()
    np.testing.assert_array_equal(a["state"].values, b["state"].values)
    c = data.simulate_split(n_trajectories=2, n_steps=300, n_burn_in=100, seed=8)
    assert not np.allclose(a["state"].values, c["state"].values)
    assert a["state"].shape == (2, 301, 3)
    assert a["state"].dtype == np.float32


def test_every_file_gets_cf_source_history_and_the_papers_doi(tmp_path):
    ds = _small_split()
    prov = provenance_attrs({"a": 1}, step="simulate_trajectories")
    write_netcdf(ds, tmp_path / "a.nc", prov)
    with xr.open_dataset(tmp_path / "a.nc") as back:
        assert back.attrs["Conventions"].startswith("CF-")
        assert "simulate_trajectories" in back.attrs["source"]
        assert "doi.org/10.5194/npg-31-409-2024" in back.attrs["references"]
        first = back.attrs["history"]
        assert prov["provenance_created"] in first and prov["provenance_git_commit"] in first
        # a file made from a read dataset keeps the earlier history and adds one line
        write_netcdf(back.load(), tmp_path / "b.nc", provenance_attrs({}, step="second"))
    with xr.open_dataset(tmp_path / "b.nc") as again:
        lines = again.attrs["history"].splitlines()
    assert lines[0] == first and "second" in lines[1] and len(lines) == 2


def test_model_time_is_not_encoded_as_a_udunits_time():
    """Lorenz 63 time is dimensionless: a standard_name 'time' would need 'units since date'."""
    attrs = _small_split()["time"].attrs
    assert attrs["units"] == "1" and "model time" in attrs["long_name"]
    assert "standard_name" not in attrs and "axis" not in attrs


# -- checksum sidecars: inputs hashed once, when written, verified by size and mtime -----------


def _big_dataset(n: int = 200_000) -> xr.Dataset:
    x = np.arange(3 * n, dtype=np.float64).reshape(n, 3)  # 4.8 MB: above the sidecar threshold
    return xr.Dataset({"x": (("time", "variable"), x, {"units": "1", "long_name": "ramp"})})


def test_big_output_gets_a_sidecar_with_the_sha256_of_its_bytes(tmp_path):
    target = tmp_path / "big.nc"
    write_netcdf(_big_dataset(), target)
    record = json.loads(checksum_sidecar(target).read_text())
    assert record["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert record["size"] == target.stat().st_size
    assert file_checksum(target) == record["sha256"]


def test_sidecar_is_used_only_while_it_describes_the_file(tmp_path):
    target = tmp_path / "big.nc"
    write_netcdf(_big_dataset(), target)
    sidecar = checksum_sidecar(target)
    record = json.loads(sidecar.read_text())
    # a sidecar that matches size and mtime is trusted without reading the file ...
    sidecar.write_text(json.dumps({**record, "sha256": "recorded-once"}))
    assert file_checksum(target) == "recorded-once"
    # ... and ignored as soon as the file changes (here: same size, new modification time)
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    assert file_checksum(target) == hashlib.sha256(bytes(data)).hexdigest()


def test_small_files_and_checkpoints_get_no_sidecar(tmp_path):
    small = tmp_path / "small.nc"
    write_netcdf(_big_dataset(10), small)
    assert not checksum_sidecar(small).exists()
    assert file_checksum(small) == hashlib.sha256(small.read_bytes()).hexdigest()
    ckpt = tmp_path / "state.pt"
    save_torch({"w": np.zeros(400_000)}, ckpt, checksum=False)
    assert ckpt.stat().st_size >= CHECKSUM_SIDECAR_MIN_BYTES
    assert not checksum_sidecar(ckpt).exists()


def test_rewriting_a_file_replaces_its_sidecar(tmp_path):
    target = tmp_path / "big.nc"
    write_netcdf(_big_dataset(), target)
    write_netcdf(_big_dataset(10), target)  # now small: the old sidecar must not survive
    assert not checksum_sidecar(target).exists()


def test_load_states_subset_equals_slicing_the_full_split(tmp_path):
    ds = data.simulate_split(n_trajectories=3, n_steps=200, n_burn_in=10, seed=3, time_chunk=64)
    write_netcdf(ds, tmp_path / "split.nc", {})
    full = data.load_states(tmp_path / "split.nc", normalised=False)
    part = data.load_states(
        tmp_path / "split.nc", normalised=False, max_time=150, max_trajectories=2
    )
    assert part.shape == (2, 150, 3)
    np.testing.assert_array_equal(part, full[:2, :150])
    np.testing.assert_array_equal(full, ds["state"].values)
