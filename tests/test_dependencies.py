"""The declared dependencies match the code: every third-party module the packages import is
declared in pyproject.toml, and every declared runtime dependency is imported (or listed below
with the reason it is needed without an import)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "analysis", "reports")
# Maintainer scripts, not run by the package: their imports are installed by hand (see each file).
MAINTAINER_SCRIPTS = {"analysis/tables/generate_countries.py"}

# Declared but not imported by name: why each one is needed.
USED_WITHOUT_IMPORT = {
    "svy-rs": "the compiled engine behind svy, pinned with it (tested against R)",
    "dask": "the distributed scheduler behind prefect-dask's DaskTaskRunner",
    "pyarrow": "pandas' parquet and CSV engine (interim files, streaming reads)",
    "openpyxl": "pandas' XLSX engine",
    "polars": "svy's data frames, pinned with svy",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_norm(re.split(r"[\s\[<>=!~;]", d, maxsplit=1)[0]) for d in meta["dependencies"]}


def _imported_top_modules() -> set[str]:
    found: set[str] = set()
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            if path.relative_to(REPO).as_posix() in MAINTAINER_SCRIPTS:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in PACKAGES}


def _imported_distributions() -> dict[str, set[str]]:
    dists = packages_distributions()
    out: dict[str, set[str]] = {}
    for mod in _imported_top_modules():
        assert mod in dists, f"module {mod!r} is imported but no installed distribution provides it"
        out[mod] = {_norm(d) for d in dists[mod]}
    return out


def test_every_imported_third_party_module_is_declared():
    declared = _declared()
    missing = {m: d for m, d in _imported_distributions().items() if not d & declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_dependency_is_imported_or_explained():
    imported = set().union(*_imported_distributions().values())
    unused = _declared() - imported - set(USED_WITHOUT_IMPORT)
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
