"""The figure rules made from the catalogue: one per entry, each running its own script.

Rules made in a loop evaluate their `script:` path again when the job runs (snakemake#2832),
which a dry run does not show: with the loop variable in the path every figure rule would run
the last figure's script. This test runs each rule's job function with Snakemake's script
runner replaced by a recorder.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

from tests.smk import ROOT, TINY, figure_catalogue


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    with SnakemakeApi(OutputSettings()) as api:
        yield api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[TINY]),
            snakefile=ROOT / "workflow" / "Snakefile",
            workdir=tmp_path_factory.mktemp("figure_rules"),
        )._workflow


def _script_run(rule) -> Path:
    """The script the rule's job function hands to Snakemake's script runner."""
    calls = []
    namespace = rule.run_func.__globals__
    runner = namespace["script"]
    namespace["script"] = lambda path, *args: calls.append(path)
    try:
        args = dict.fromkeys(inspect.signature(rule.run_func).parameters)
        args.pop("__is_snakemake_rule_func")
        rule.run_func(**{**args, "params": rule.params, "rule": rule.name})
    finally:
        namespace["script"] = runner
    (path,) = calls
    return (Path(rule.basedir) / path.format(params=rule.params)).resolve()


def test_one_local_rule_per_catalogue_entry_running_its_own_script(workflow):
    for name in figure_catalogue():
        rule = workflow.get_rule(name)
        assert workflow.is_local(rule), name
        assert _script_run(rule) == ROOT / "scripts" / "figures" / f"{name}.py"
