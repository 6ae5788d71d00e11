"""Limits the code keeps so that each idea has one home (issue 15): short functions, short shared
workflow files, comments that cite documents shipped with the repository."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 80
MAX_SMK_LINES = {"common.smk": 250, "figures.smk": 120}
# "spec 4.4", "(spec 10.2.3)", "decision 11.3", "section 11 of the specification": the project's
# specification is not shipped; decisions are cited from docs/decisions.md instead
UNSHIPPED_CITATION = re.compile(
    r"\bspec(ification)?\s+(section\s+)?\d|\bdecision\s+11\b|\bdecisions?\s+11\.\d|shared/spec"
)
CITING_FILES = ("src", "scripts", "workflow", "config", "bench", "tests", "docs", ".ci")


def _functions(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def test_no_library_function_is_longer_than_80_lines():
    long = [
        f"{path.relative_to(REPO)}:{line} {name} ({length} lines)"
        for path in sorted((REPO / "src").rglob("*.py"))
        for name, line, length in _functions(path)
        if length > MAX_FUNCTION_LINES
    ]
    assert not long, "split along their concerns:\n" + "\n".join(long)


def test_the_function_length_check_counts_lines_from_def_to_last_statement(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n" + "    x = 1\n" * 81 + "\n\ndef g():\n    return 1\n")
    assert [(name, length) for name, _, length in _functions(source)] == [("f", 82), ("g", 2)]


@pytest.mark.parametrize("name, limit", MAX_SMK_LINES.items())
def test_shared_workflow_files_stay_short(name, limit):
    lines = (REPO / "workflow" / "rules" / name).read_text().count("\n")
    assert lines <= limit, f"workflow/rules/{name} has {lines} lines (at most {limit})"


def _shipped_text_files():
    for top in CITING_FILES:
        for path in sorted((REPO / top).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".smk", ".yaml", ".md", ".rst", ""):
                generated = any(p == "__pycache__" or p.endswith(".egg-info") for p in path.parts)
                if not generated and path.name != Path(__file__).name:
                    yield path
    yield REPO / "README.md"
    yield REPO / "workflow" / "Snakefile"


def test_comments_cite_documents_that_ship_with_the_repository():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _shipped_text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if UNSHIPPED_CITATION.search(line)
    ]
    assert not found, "cite docs/decisions.md or the paper instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line, cites",
    [
        ("# Surrogate stage (spec 4): every run", True),
        ("(spec 10.2.3); use assimilation.tuned=grid", True),
        ("decision 11.3: raw weights", True),
        ("see shared/spec/experiments.md", True),
        ("# weights downstream (docs/decisions.md, D3)", False),
        ("spec = DA_METHODS[method]", False),
        ("the specific humidity", False),
    ],
)
def test_the_citation_pattern(line, cites):
    assert bool(UNSHIPPED_CITATION.search(line)) is cites
