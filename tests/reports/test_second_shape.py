"""The report on a second shape the pipeline produces: the bundled study without its 2023 wave
(one school, one wave, the dual-degree question asked yes/no, a gender level below the
disclosure threshold in the model). Facts from data/raw/README.md and the codebook."""

from __future__ import annotations

import re

import pytest

from reports import findings as RF
from reports.render import render_report
from reports.viewmodel import build_view_model

from .conftest import load_results


@pytest.fixture(scope="module")
def one_school():
    return load_results("results_one_school.json")


@pytest.fixture(scope="module")
def pages(one_school):
    return {lang: render_report(one_school, lang, {}) for lang in ("en", "fr")}


def test_one_school_has_only_the_2021_wave(one_school):
    assert one_school.study["waves"] == ["2021"]
    schools = {
        e.domain_dict().get("school") for e in one_school.table("sample.response_rate").estimates
    }
    # one school surveyed: no "group" row (issue 12 obs. 5: one school is not the group)
    assert schools == {"imt_nord_europe"}
    # README: the 2021 wave asked the dual-degree question yes/no: no 1-5 table, no finding
    assert one_school.table("survey.dual_degree").estimates == ()
    assert [f.template for f in RF.key_findings(one_school)][-1] == "intends"


def test_obs11_a_small_gender_level_is_shown_as_not_estimable(one_school, pages):
    key = "models.intends_abroad.odds_ratio.gender.X"
    e = one_school.estimate(key)
    assert e.not_estimable == "sparse_level" and e.estimate is None and e.n_unweighted is None
    assert f'data-key="{key}">not estimable</td>' in pages["en"]
    assert "fewer respondents than the disclosure threshold" in pages["en"]
    assert f'data-key="{key}">non estimable</td>' in pages["fr"]
    # no school term: one school only
    assert not any(
        e.variable == "school" for e in one_school.table("models.intends_abroad").estimates
    )


def test_obs3_comparisons_of_one_school_name_their_groups(one_school):
    vm = build_view_model(one_school, "en", {})
    comp = next(s for s in vm["sections"] if s["key"] == "comparisons")
    bullets = [e for b in comp["blocks"] if b["type"] == "list" for e in b["entries"]]
    # differences hidden by disclosure control get no bullet (F_vs_M: the women's share is
    # hidden so that the small gender X cannot be recovered, and difference + men's share
    # would give it back)
    keys = [
        e.key for e in one_school.table("comparisons.differences").estimates if not e.suppressed
    ]
    assert len(bullets) == len(keys) >= 1
    assert not any("IMT Nord Europe" in b for b in bullets)  # no school contrast in one school
    for b in bullets:
        assert not re.search(r",\s*:", b)
        assert " between " in b or " than " in b


def test_every_finding_number_is_an_estimate_of_the_shape(one_school, pages):
    nums = re.findall(r'<span class="num" data-key="([^"]+)" data-field="([^"]+)">', pages["en"])
    assert nums
    by_key = {e.key: e for e in one_school.estimates()}
    for key, field in nums:
        e = by_key[key]
        assert e.suppressed is None and getattr(e, field) is not None
