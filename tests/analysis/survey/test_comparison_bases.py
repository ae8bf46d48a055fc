"""Observation 3 of issue 12 at the source: a difference against a group smaller than the
disclosure ``min_base`` is not computed (its sentence could only be a small group's answers),
and it leaves the Benjamini-Hochberg family."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from analysis.config import StudyConfig
from analysis.survey.study import survey_result_tables

from .conftest import VARIABLES, synthetic_responses

NE = "comparisons.intends_abroad.difference.by_school.imt_nord_europe_vs_rest"


def _config(min_base: int) -> StudyConfig:
    c = StudyConfig(
        config_path=Path("/nonexistent/study.toml"),
        title={"en": "test"},
        language="en",
        data_cutoff="",
        synthetic=True,
        codebook=Path("/nonexistent/codebook.csv"),
        enrolment=Path("/nonexistent/enrolment.csv"),
        surveys=(),
        mobility=(),
    )
    return replace(c, disclosure=replace(c.disclosure, min_base=min_base))


def _differences(resp, enr, min_base):
    tables, _ = survey_result_tables(resp, enr, _config(min_base), VARIABLES)
    t = next(t for t in tables if t.id == "comparisons.differences")
    return {e.key: e for e in t.estimates}, t.notes


def test_obs3_difference_against_a_group_below_min_base_is_not_computed():
    resp, enr = synthetic_responses()
    ne = np.flatnonzero((resp["school"] == "imt_nord_europe").to_numpy())
    school = resp["school"].to_numpy(copy=True)
    school[ne[6:]] = "imt_atlantique"  # six IMT Nord Europe respondents left
    small = resp.assign(school=school)
    diffs, notes = _differences(small, enr, 10)
    assert NE not in diffs
    assert any("fewer than 10 respondents" in n for n in notes)
    # BH over the comparisons that remain
    assert any(f"over the {len(diffs) + 2} comparisons" in n for n in notes)
    # the same data with a threshold of 5: computed
    diffs5, _ = _differences(small, enr, 5)
    assert NE in diffs5
