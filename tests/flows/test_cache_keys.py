"""Cache keys that cannot lie or dangle (issue 13.2, 13.3).

The code part of a task's key comes from the modules the task imports (flows/codegraph.py),
not from a hand-kept list (which missed flows/loading.py, where the ingest bodies live); a
cached loading result is used only if the files it points to are in this output folder and
unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from flows import codegraph
from flows.cache import interim_ready, result_usable
from flows.loading import write_interim

REPO = Path(__file__).resolve().parents[2]
CACHED = ("ingest_survey", "ingest_mobility", "load_enrolment", "survey_statistics",
          "mobility_statistics")  # fmt: skip
TASKS = (*CACHED, "write_outputs")
INGEST = {"ingest_survey", "ingest_mobility", "load_enrolment"}


@pytest.fixture(scope="module")
def code_copy(tmp_path_factory) -> Path:
    """A copy of the project packages whose files the tests may edit."""
    root = tmp_path_factory.mktemp("code")
    for pkg in codegraph.PACKAGES:
        shutil.copytree(REPO / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _digests(root: Path) -> dict[str, str]:
    return {t: codegraph.code_digest("flows.tasks", t, root) for t in TASKS}


# which tasks a change to a module must invalidate: read off the imports by hand
EXPECTED = {
    # the ingest bodies: left out of the hand-kept list, so ingest keys did not change
    "flows/loading.py": INGEST,
    "analysis/survey/study.py": {"survey_statistics"},
    "analysis/mobility/study.py": {"mobility_statistics"},
    "analysis/mobility/trends.py": {"mobility_statistics"},
    "analysis/survey/weighting.py": {"survey_statistics"},
    "analysis/sample.py": {"survey_statistics"},
    "analysis/enrolment.py": INGEST,
    # the survey statistics read the codebook (analysis.ingest) but not the readers, which
    # analysis.ingest loads on first use (its table of lazy attributes)
    "analysis/ingest/reader.py": INGEST,
    "analysis/ingest/codebook.py": INGEST | {"survey_statistics"},
    # the mobility package's __init__ imports the readers
    "analysis/mobility/readers.py": INGEST | {"mobility_statistics"},
    "reports/render.py": {"write_outputs"},
    "reports/templates/report.html.j2": {"write_outputs"},
    "analysis/tables/schools.csv": set(TASKS),  # the package data of analysis/
    "flows/cache.py": set(CACHED),
}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_changing_a_module_changes_the_keys_of_the_tasks_importing_it_and_no_other(
    code_copy: Path, rel: str
):
    before = _digests(code_copy)
    path = code_copy / rel
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# edited\n")
        after = _digests(code_copy)
    finally:
        path.write_bytes(original)
    changed = {t for t in TASKS if before[t] != after[t]}
    assert changed == EXPECTED[rel]


def test_editing_one_task_function_changes_that_task_only(code_copy: Path):
    """Both statistics tasks live in flows/tasks.py: editing one does not recompute the other."""
    path = code_copy / "flows" / "tasks.py"
    original = path.read_text(encoding="utf-8")
    before = _digests(code_copy)
    old = '"""Outgoing-mobility indicators and trend models."""'
    assert old in original
    try:
        path.write_text(original.replace(old, old + "\n    records_seen = 0"), encoding="utf-8")
        after = _digests(code_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert {t for t in TASKS if before[t] != after[t]} == {"mobility_statistics"}


def _imported_by_python(*groups: tuple[str, ...]) -> list[set[str]]:
    """The project modules Python really loads when importing each group of modules (one
    fresh process per group, run side by side)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = []
    for modules in groups:
        code = (
            "import importlib, json, sys\n"
            f"for m in {list(modules)!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules"
            f" if m.split('.')[0] in {codegraph.PACKAGES!r})))"
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stderr[-2000:]
        out.append(set(json.loads(stdout)))
    return out


def test_the_import_graph_holds_every_module_python_loads_for_a_task():
    """The static walk against the interpreter: nothing a task's code loads is missed."""
    ingest, stats = _imported_by_python(
        ("flows.loading", "flows.cache"),
        ("analysis.survey.study", "analysis.sample", "analysis.ingest"),
    )
    assert ingest <= codegraph.task_imports("flows.tasks", "ingest_survey")
    assert stats <= codegraph.task_imports("flows.tasks", "survey_statistics")


def _frames():
    return {"responses": pd.DataFrame({"a": [1, 2]}), "quarantine": pd.DataFrame({"r": []})}


def test_a_cached_result_is_usable_only_while_its_files_exist_unchanged(tmp_path: Path):
    interim = str(tmp_path / ".interim")
    res = write_interim(interim, "survey-k1", _frames(), {"file": "x.csv"})
    assert interim_ready(interim, "survey-k1") and result_usable(res, interim)
    # same size, other content: the digest catches it
    p = Path(res["responses"])
    data = bytearray(p.read_bytes())
    data[-20] ^= 0xFF
    p.write_bytes(bytes(data))
    assert not interim_ready(interim, "survey-k1") and not result_usable(res, interim)
    res = write_interim(interim, "survey-k1", _frames(), {"file": "x.csv"})
    Path(res["quarantine"]).unlink()
    assert not result_usable(res, interim)


def test_a_result_pointing_into_another_output_folder_is_not_used(tmp_path: Path):
    """`run --output B` left a cached result pointing into B/.interim: A must not use it."""
    res_b = write_interim(str(tmp_path / "B" / ".interim"), "mobility-k", _frames(), {})
    assert result_usable(res_b, str(tmp_path / "B" / ".interim"))
    assert not result_usable(res_b, str(tmp_path / "A" / ".interim"))
    shutil.rmtree(tmp_path / "B")
    assert not result_usable(res_b, str(tmp_path / "B" / ".interim"))


def test_an_interim_folder_from_before_the_manifest_is_recomputed(tmp_path: Path):
    (tmp_path / "survey-k").mkdir()
    (tmp_path / "survey-k" / "done").write_text("survey-k", encoding="utf-8")  # the old marker
    assert not interim_ready(str(tmp_path), "survey-k")
