"""The results comparison (refactor guard rail) finds every kind of value change and ignores
provenance."""

import json
import shutil

import numpy as np
import pytest
import torch
import xarray as xr

from ddmdyn.compare_results import compare_folders, main


def _dataset(created: str) -> xr.Dataset:
    ds = xr.Dataset(
        {
            "rmse": (("configuration", "seed"), np.array([[0.1, np.nan], [0.3, 0.4]])),
            "count": ("seed", np.array([3, 4], dtype="int32")),
            "wall_time": ("seed", np.array([1.5, 2.5]) * len(created), {"timing": "true"}),
        },
        coords={"configuration": ["a", "b"], "seed": [0, 1]},
        attrs={"title": "scores", "provenance_created": created, "history": created},
    )
    ds["rmse"].attrs["units"] = "1"
    ds["rmse"].encoding["_FillValue"] = np.float32(np.nan)  # an attribute equal only as NaN
    return ds


@pytest.fixture
def results(tmp_path):
    """A results folder with one file of each compared kind, plus files that are never compared."""
    root = tmp_path / "before"
    (root / "tables").mkdir(parents=True)
    _dataset("2026-01-01").to_netcdf(root / "tables" / "scores.nc")
    (root / "tables" / "scores.csv").write_text("configuration,rmse\na,0.1\nb,0.3\n")
    (root / "tables" / "scores.md").write_text("| a | 0.1 ± 0.0 |\n")
    (root / "tuned.json").write_text(json.dumps({"value": 1.02, "grid": [1.02, 1.1]}))
    torch.save(
        {"raw": {"w": torch.arange(4.0)}, "extra": {"provenance": {"created": "x"}}},
        root / "model.pt",
    )
    (root / "logs").mkdir()
    (root / "logs" / "job.log").write_text("started 06:58\n")
    (root / "figures").mkdir()
    (root / "figures" / "fig.png").write_bytes(b"\x89PNG 1")
    return root


def _copy(root, tmp_path):
    after = tmp_path / "after"
    shutil.copytree(root, after)
    return after


def _differing(report):
    return {path: lines for path, lines in report.items() if lines}


def test_a_copy_with_new_provenance_logs_and_images_is_equal(results, tmp_path):
    after = _copy(results, tmp_path)
    # NaN in the same place, other wall-clock times
    _dataset("2026-12-31T10:00").to_netcdf(after / "tables" / "scores.nc")
    (after / "logs" / "job.log").write_text("started 09:12\n")
    (after / "figures" / "fig.png").write_bytes(b"\x89PNG 2")
    torch.save(
        {"raw": {"w": torch.arange(4.0)}, "extra": {"provenance": {}, "params_json": "{}"}},
        after / "model.pt",
    )
    report = compare_folders(results, after)
    assert set(report) == {
        "tables/scores.nc",
        "tables/scores.csv",
        "tables/scores.md",
        "tuned.json",
        "model.pt",
    }
    assert _differing(report) == {}
    assert main([str(results), str(after), "--quiet"]) == 0


def test_one_changed_value_in_a_netcdf_variable_is_found_and_named(results, tmp_path):
    after = _copy(results, tmp_path)
    ds = _dataset("2026-01-01")
    ds["rmse"].values[1, 1] = np.nextafter(0.4, 1.0)  # one ulp: values, not approximations
    ds.to_netcdf(after / "tables" / "scores.nc")
    lines = _differing(compare_folders(results, after))["tables/scores.nc"]
    assert len(lines) == 1 and lines[0].startswith("variable rmse: 1 of 4 values differ")


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda ds: ds.rename({"count": "n"}), "variable count: only before"),
        (lambda ds: ds.assign(count=ds["count"].astype("int64")), "variable count: int32"),
        (lambda ds: ds.assign_coords(seed=[0, 2]), "variable seed: 1 of 2 values differ"),
        (lambda ds: ds.assign_attrs(title="other"), "attrs/title: 'scores' != 'other'"),
        (lambda ds: ds.transpose("seed", "configuration"), "variable rmse: dims"),
    ],
)
def test_structure_changes_are_found(results, tmp_path, change, expected):
    after = _copy(results, tmp_path)
    change(_dataset("2026-01-01")).to_netcdf(after / "tables" / "scores.nc")
    lines = _differing(compare_folders(results, after))["tables/scores.nc"]
    assert any(line.startswith(expected) for line in lines), lines


def test_tables_json_and_weights_changes_are_found(results, tmp_path):
    after = _copy(results, tmp_path)
    (after / "tables" / "scores.csv").write_text("configuration,rmse\na,0.1\nb,0.30000001\n")
    (after / "tables" / "scores.md").write_text("| a | 0.1 ± nan |\n")
    (after / "tuned.json").write_text(json.dumps({"value": 1.1, "grid": [1.02, 1.1]}))
    torch.save({"raw": {"w": torch.arange(4.0) * 1.5}, "extra": {}}, after / "model.pt")
    differing = _differing(compare_folders(results, after))
    assert differing["tables/scores.csv"] == ["line 3: 'b,0.3' != 'b,0.30000001'"]
    assert differing["tables/scores.md"][0].startswith("line 1")
    assert differing["tuned.json"] == ["/value: 1.02 != 1.1"]
    assert differing["model.pt"][0].startswith("/raw/w: tensors differ (max abs difference 1.5")
    assert main([str(results), str(after), "--quiet"]) == 1


def test_missing_and_extra_files_are_differences(results, tmp_path):
    after = _copy(results, tmp_path)
    (after / "tuned.json").unlink()
    (after / "tables" / "new.csv").write_text("x\n")
    differing = _differing(compare_folders(results, after))
    assert differing == {"tuned.json": ["only before"], "tables/new.csv": ["only after"]}


def test_a_missing_folder_is_an_error_not_a_pass(results, tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        compare_folders(results, tmp_path / "nosuch")
