"""DA config checks: the authors' fixed constants only where they apply (issue 14 item 6)."""

from __future__ import annotations

from tests.smk import TINY, planned_jobs, snakemake


def _dry_run(tmp_path, text: str):
    edit = tmp_path / "edit.yaml"
    edit.write_text(text)
    return snakemake("-n", "--configfile", str(TINY), str(edit), workdir=tmp_path, check=False)


def test_fixed_constants_for_static_methods_away_from_interval_10_are_refused(tmp_path):
    proc = _dry_run(
        tmp_path,
        "assimilation:\n  tuned: fixed\n  obs_interval_sweep:\n"
        "    obs_every: [5, 10]\n    methods: [enoi_full, etkf_12]\n",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in proc.stdout
    assert "assimilation.tuned=fixed" in out
    assert "assimilation.obs_interval_sweep.obs_every=5" in out and "enoi_full" in out
    proc = _dry_run(
        tmp_path,
        "assimilation:\n  tuned: fixed\n  obs_interval_sweep:\n"
        "    obs_every: [5, 10]\n    methods: [ddm_enoi_50, etkf_12]\n",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "da_select" not in planned_jobs(proc.stdout)  # fixed: nothing is tuned
