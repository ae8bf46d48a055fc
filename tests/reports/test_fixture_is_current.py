"""Observation 13 of issue 12: the report tests run on what the pipeline produces.

The checked-in ``tests/fixtures/results/*.json`` must equal what the pipeline produces now on
the bundled study (recomputed here in-process, ~2 s); when the statistics change, rerun
``tests/fixtures/results/regenerate.py`` and review the diff.
"""

from __future__ import annotations

import importlib.util
import json
import math
from typing import Any

import pytest

from .conftest import FIXTURES


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate", FIXTURES / "regenerate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (floats equal to 1e-9 relative: BLAS sums may differ
    in the last bits from one machine to another)."""
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} != {b}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())[:5]}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.fixture(scope="module")
def regenerated():
    mod = _regenerate_module()
    results, raw = mod.pipeline_results()
    one_school = mod.one_school_results()
    return {
        "results.json": mod.as_json(results),
        "results_raw.json": mod.as_json(raw),
        "results_one_school.json": mod.as_json(one_school),
        "objects": {"results.json": results, "results_one_school.json": one_school},
    }


@pytest.mark.parametrize("name", ["results.json", "results_raw.json", "results_one_school.json"])
def test_obs13_checked_in_results_fixture_is_what_the_pipeline_produces(regenerated, name):
    stored = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    now = json.loads(regenerated[name])
    diffs = _differences(stored, now)
    assert diffs == [], (
        f"tests/fixtures/results/{name} is stale ({len(diffs)} differences, first: "
        f"{diffs[:5]}); run: PYTHONPATH=. python tests/fixtures/results/regenerate.py"
    )


def test_obs13_the_fixture_holds_every_table_the_pipeline_makes(results):
    # the 19 tables of the brief, as the pipeline names them (test_render checks captions)
    assert len(results.tables) == 19
    # 773: wave 2021 surveyed one school (IMT Nord Europe), so it has no "group" row
    assert sum(1 for _ in results.estimates()) == 773
    assert results.data_quality["disclosure"]["min_base"] == 10


def test_obs13_the_staleness_check_can_fail(regenerated):
    stored = json.loads((FIXTURES / "results.json").read_text(encoding="utf-8"))
    stored["estimates"][0]["estimate"] = (stored["estimates"][0]["estimate"] or 0) + 1e-6
    assert _differences(stored, json.loads(regenerated["results.json"]))


@pytest.mark.parametrize("name", ["results.json", "results_one_school.json"])
def test_obs10_the_attacker_recovers_no_suppressed_figure_of_the_pipeline_output(regenerated, name):
    """Observation 12.10 on both shapes, in memory: the attacker also uses the weight sums of
    the survey domains (school shares adding up to the group share), which results.json does
    not carry."""
    from tests.disclosure_attack import assert_resists_attack

    results = regenerated["objects"][name]
    assert any(e.suppressed for e in results.estimates())
    assert any(e.weight_base is not None for e in results.estimates())
    assert_resists_attack(results)
    assert all(e.n_cell is None for e in results.estimates())
