"""The folders tell the architecture: analysis/ stays pure."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_ANALYSIS = {"prefect", "prefect_dask", "jinja2", "matplotlib", "flows", "reports"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_analysis_imports_no_orchestration_or_presentation():
    offenders = {
        str(p.relative_to(REPO)): sorted(_imports(p) & FORBIDDEN_IN_ANALYSIS)
        for p in (REPO / "analysis").rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_svy_is_confined_to_the_adapter():
    users = sorted(
        str(p.relative_to(REPO))
        for d in ("analysis", "flows", "reports")
        for p in (REPO / d).rglob("*.py")
        if {"svy", "polars"} & _imports(p)
    )
    assert users in ([], ["analysis/survey/engine.py"])


def test_the_checker_itself_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import matplotlib.pyplot as plt\nfrom prefect import task\n")
    assert _imports(bad) & FORBIDDEN_IN_ANALYSIS == {"matplotlib", "prefect"}
