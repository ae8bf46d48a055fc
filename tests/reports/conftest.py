"""The report tests' results: what the pipeline produces on the bundled study.

``tests/fixtures/results/results.json`` (after disclosure control, as the flow hands it to the
report) and ``results_raw.json`` (before it) are written by
``tests/fixtures/results/regenerate.py`` from ``data/raw`` and checked in;
``test_fixture_is_current.py`` fails when they no longer match what the pipeline produces.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from analysis.results import ResultSet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


def load_results(name: str = "results.json") -> ResultSet:
    """A checked-in results fixture read back into a ResultSet."""
    return ResultSet.from_dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def raw_results() -> ResultSet:
    """The bundled study's results before disclosure control."""
    return load_results("results_raw.json")


@pytest.fixture(scope="session")
def results() -> ResultSet:
    """The bundled study's results after disclosure control, as the flow hands them over."""
    return load_results("results.json")


CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> Path:
    """Skip without chromium, except under CI where a missing browser is a failure."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("CI is set but /usr/bin/chromium is missing: .ci/run must install it")
    pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")


def require_java() -> str:
    java = shutil.which("java")
    if java:
        return java
    if os.environ.get("CI"):
        pytest.fail("CI is set but java is missing (needed by the Nu Html Checker)")
    pytest.skip("java is not installed")
