"""The figure catalogue (workflow/figures.yaml) is the one list of figures: every entry has its
script, caption and plotting function, and nothing figure-shaped exists outside it."""

from __future__ import annotations

import re

from ddmdyn import plotting
from tests.smk import ROOT, figure_catalogue

CATALOGUE = figure_catalogue()


def test_names_are_numbered_in_order():
    names = list(CATALOGUE)
    assert all(re.fullmatch(r"fig\d\d_[a-z0-9_]+", name) for name in names), names
    # the report labels a figure by its number (fig01 ...), the rerun tests by its position
    assert [int(name[3:5]) for name in names] == list(range(1, len(names) + 1))


def test_catalogue_equals_the_plotting_library_registry():
    assert list(CATALOGUE) == list(plotting.FIGURES)


def test_every_figure_has_its_script_and_caption_and_nothing_else_does():
    scripts = {p.stem for p in (ROOT / "scripts" / "figures").glob("*.py")}
    captions = {p.stem for p in (ROOT / "workflow" / "report").glob("fig*.rst")}
    assert scripts == set(CATALOGUE)
    assert captions == set(CATALOGUE)
    for name in CATALOGUE:
        script = (ROOT / "scripts" / "figures" / f"{name}.py").read_text()
        assert f"from ddmdyn.plotting import {name}\n" in script, name
        assert (ROOT / "workflow" / "report" / f"{name}.rst").read_text().strip(), name


def test_entries_name_a_category_and_workflow_functions():
    """Each input is [function, arg, ...] with a function the workflow defines."""
    rules = "\n".join(p.read_text() for p in (ROOT / "workflow").rglob("*.smk"))
    defined = set(re.findall(r"^def (\w+)\(", rules, re.M))
    for name, entry in CATALOGUE.items():
        assert set(entry) == {"category", "inputs"}, name
        assert isinstance(entry["category"], str) and entry["category"], name
        assert entry["inputs"], name
        for key, call in entry["inputs"].items():
            assert isinstance(call, list) and call, (name, key)
            assert call[0] in defined, (name, key, call[0])
            assert all(isinstance(arg, str) for arg in call[1:]), (name, key)
