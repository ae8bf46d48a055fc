"""End to end: survey_result_tables on a synthetic tidy Responses frame."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import DesignConfig, StudyConfig, WeightingConfig
from analysis.results import ResultSet
from analysis.survey.study import survey_result_tables, wave_enrolment_year, weight_responses
from analysis.survey.weighting import WeightingError

from .conftest import VARIABLES, synthetic_responses

TABLE_IDS = [
    "weighting.diagnostics",
    "survey.experience",
    "survey.dual_degree",
    "survey.barriers",
    "survey.destinations",
    "comparisons.differences",
    "comparisons.rao_scott",
    "models.intends_abroad",
]


def _config(**kw) -> StudyConfig:
    base = StudyConfig(
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
    return replace(base, **kw)


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_responses()


@pytest.fixture(scope="module")
def run(synthetic):
    resp, enr = synthetic
    before = resp.copy()
    tables, weighted = survey_result_tables(resp, enr, _config(), VARIABLES)
    pd.testing.assert_frame_equal(resp, before)  # input not mutated
    return tables, weighted


def test_tables_ids_unique_keys_and_bases(run):
    tables, _ = run
    assert [t.id for t in tables] == TABLE_IDS
    rs = ResultSet(study={}, tables=tuple(tables))
    rs.to_dict()  # raises on duplicate keys
    for e in rs.estimates():
        assert e.n_unweighted is not None and e.base
        assert e.key.startswith(("weighting.", "survey.", "comparisons.", "models."))
    exp = {e.key: e for e in tables[1].estimates}
    for k in (
        "survey.went_abroad",
        "survey.intends_abroad.by_school.imt_nord_europe",
        "survey.went_abroad.by_gender.X",
        "survey.went_abroad.by_study_year.3",
        "survey.intends_abroad.by_wave.2023",
    ):
        assert k in exp and exp[k].weighted and exp[k].ci_method == "logit"


def test_weights_sum_to_enrolment_of_the_previous_year(run, synthetic):
    _, weighted = run
    resp, enr = synthetic
    sums = weighted.groupby(["wave", "school"])["weight"].sum()
    pop = enr.groupby(["academic_year", "school"])["enrolled"].sum()
    for (wave, school), s in sums.items():
        assert s == pytest.approx(pop[(int(wave) - 1, school)], rel=1e-9)
    # wave 2022 has no EURECOM respondent: its population excludes EURECOM
    assert ("2022", "eurecom") not in sums.index
    diag = {e.key: e.estimate for e in run[0][0].estimates}
    assert diag["weighting.weight.population.by_wave.2022.by_school.imt_atlantique"] == 600 + 1500
    assert "weighting.weight.population.by_wave.2022.by_school.eurecom" not in diag
    assert list(weighted.columns) == [*resp.columns, "weight"]


def test_poststratification_by_gender_with_x_rule(run, synthetic):
    _, w = run
    _, enr = synthetic
    sub = w[(w.wave == "2023") & (w.school == "imt_nord_europe")]
    n_h, n_x = len(sub), int((sub.gender == "X").sum())
    big_n = float(
        enr[(enr.academic_year == 2022) & (enr.school == "imt_nord_europe")].enrolled.sum()
    )
    share_fm = 1 - n_x / n_h
    f_pop = float(
        enr[
            (enr.academic_year == 2022) & (enr.school == "imt_nord_europe") & (enr.gender == "F")
        ].enrolled.iloc[0]
    )
    assert sub[sub.gender == "F"].weight.sum() == pytest.approx(f_pop * share_fm)
    assert sub[sub.gender == "X"].weight.sum() == pytest.approx(big_n * n_x / n_h)
    assert sub.weight.sum() == pytest.approx(big_n)


def test_estimates_equal_hand_calculations(run):
    tables, w = run
    exp = {e.key: e for t in tables for e in t.estimates}
    ok = w.intends_abroad.notna()
    p = np.average(w.intends_abroad[ok], weights=w.weight[ok])
    e = exp["survey.intends_abroad"]
    assert e.estimate == pytest.approx(p, rel=1e-12) and e.n_unweighted == int(ok.sum())
    assert e.ci_low < p < e.ci_high and e.se > 0 and e.deff > 0
    # difference women - men of intends_abroad
    d = exp["comparisons.intends_abroad.difference.by_gender.F_vs_M"]
    f = w[ok & (w.gender == "F")]
    m = w[ok & (w.gender == "M")]
    hand = np.average(f.intends_abroad, weights=f.weight) - np.average(
        m.intends_abroad, weights=m.weight
    )
    assert d.estimate == pytest.approx(hand, rel=1e-12)
    assert d.n_unweighted == len(f) + len(m) and 0 <= d.p_value <= d.p_adjusted <= 1
    # top-2-box of interest by wave
    t2 = exp["survey.interest_dual_degree.top2.by_wave.2022"]
    s = w[(w.wave == "2022") & w.interest_dual_degree.notna()]
    assert t2.estimate == pytest.approx(np.average(s.interest_dual_degree >= 4, weights=s.weight))
    # destinations: base = respondents with any option answered
    share = exp["survey.pref_region.share.asia"]
    ans = w[w.pref_region__asia.notna()]
    assert share.n_unweighted == len(ans)
    assert share.estimate == pytest.approx(np.average(ans.pref_region__asia, weights=ans.weight))
    assert "survey.barriers.alpha" in exp and 0 < exp["survey.barriers.alpha"].estimate < 1


def test_model_and_rao_scott_tables(run):
    tables, _ = run
    exp = {e.key: e for t in tables for e in t.estimates}
    orat = exp["models.intends_abroad.odds_ratio.barrier_finance"]
    coef = exp["models.intends_abroad.coefficient.barrier_finance"]
    assert orat.estimate == pytest.approx(np.exp(coef.estimate))
    assert orat.ci_low == pytest.approx(np.exp(coef.ci_low)) and orat.se == coef.se
    assert orat.estimate < 1  # synthetic data built with a negative effect
    assert "models.intends_abroad.odds_ratio.gender.X" in exp
    assert "models.intends_abroad.odds_ratio.school.imt_nord_europe" in exp
    rs = exp["comparisons.intends_abroad.rao_scott.by_gender"]
    assert rs.statistic == "f_statistic" and rs.df > 0 and rs.p_value is not None
    assert exp["comparisons.intends_abroad.rao_scott.by_gender.ddf"].estimate > rs.df


@pytest.mark.parametrize(
    "weighting,design",
    [
        (WeightingConfig(method="rake"), DesignConfig(type="weights", ci_method="beta")),
        (
            WeightingConfig(method="poststratify", cells=("school",), trim_max_ratio=1.5),
            DesignConfig(type="stratified", ci_method="wald"),
        ),
        (WeightingConfig(method="none"), DesignConfig(type="unweighted", ci_method="t")),
    ],
)
def test_config_variants(synthetic, weighting, design):
    resp, enr = synthetic
    tables, w = survey_result_tables(
        resp, enr, _config(weighting=weighting, design=design), VARIABLES
    )
    exp = {e.key: e for t in tables for e in t.estimates}
    e = exp["survey.went_abroad"]
    assert e.ci_method == design.ci_method
    assert e.weighted == (design.type != "unweighted")
    if weighting.method == "rake":
        g = w[w.wave == "2023"].groupby("school").weight.sum()
        assert g["eurecom"] == pytest.approx(
            float(enr[(enr.academic_year == 2022) & (enr.school == "eurecom")].enrolled.sum())
        )
        assert exp["weighting.weight.iterations.by_wave.2023"].estimate >= 1
    if weighting.method == "none":
        assert (w.weight == 1).all()


def test_singleton_stratum_and_tiny_domains_do_not_crash(synthetic):
    resp, enr = synthetic
    extra = resp.iloc[[0]].copy()
    extra["wave"], extra["school"], extra["respondent_id"] = "2023", "imt_atlantique", "lonely"
    tiny = resp[(resp.wave == "2022") & (resp.school == "telecom_paris")].iloc[[0]].copy()
    tiny["wave"], tiny["respondent_id"], tiny["study_year"] = "2020", "alone", 9.0
    data = pd.concat([resp, tiny], ignore_index=True)
    enr2 = pd.concat([enr, enr[enr.academic_year == 2021].assign(academic_year=2019)])
    tables, w = survey_result_tables(data, enr2, _config(), VARIABLES)
    notes = " ".join(n for t in tables for n in t.notes)
    assert "single respondent" in notes
    exp = {e.key: e for t in tables for e in t.estimates}
    assert exp["survey.went_abroad.by_study_year.9"].n_unweighted == 1
    assert (
        exp["weighting.weight.population.by_wave.2020.by_school.telecom_paris"].estimate
        == 300 + 1200
    )


def test_errors_name_file_row_and_column(synthetic):
    resp, enr = synthetic
    bad = resp.copy()
    bad.loc[5, "school"] = "unknown_school"
    with pytest.raises(WeightingError, match=r"synthetic.csv, row 6, column 'school'"):
        weight_responses(bad, enr, WeightingConfig())
    with pytest.raises(WeightingError, match="no enrolment for academic year"):
        weight_responses(resp.assign(wave="2019"), enr, WeightingConfig())


def test_missing_gender_cell_collapses_to_school(synthetic):
    resp, enr = synthetic
    only_m = resp[~((resp.school == "eurecom") & (resp.gender == "F"))]
    wr = weight_responses(only_m, enr, WeightingConfig())
    assert any("school only" in n and "eurecom" in n for n in wr.notes)
    s = wr.frame[(wr.frame.school == "eurecom")].weight.sum()
    assert s == pytest.approx(
        float(enr[(enr.academic_year == 2022) & (enr.school == "eurecom")].enrolled.sum())
    )


def test_wave_enrolment_year_rule():
    assert wave_enrolment_year("2023", WeightingConfig()) == 2022
    assert wave_enrolment_year("2021", WeightingConfig(reference_year=2022)) == 2020
    assert wave_enrolment_year("spring", WeightingConfig(reference_year=2022)) == 2022
    with pytest.raises(WeightingError, match="reference_year"):
        wave_enrolment_year("spring", WeightingConfig())


def test_minimal_responses_without_optional_variables(synthetic):
    resp, enr = synthetic
    cols = [
        "respondent_id",
        "source_id",
        "source_file",
        "source_row",
        "wave",
        "school",
        "gender",
        "went_abroad",
    ]
    data = resp[cols].copy()
    data.loc[data.index[::7], "went_abroad"] = np.nan  # missing answers are dropped, counted
    tables, w = survey_result_tables(data, enr, _config(), {"went_abroad": "binary"})
    ids = [t.id for t in tables]
    assert ids == [
        "weighting.diagnostics",
        "survey.experience",
        "survey.barriers",
        "comparisons.differences",
        "comparisons.rao_scott",
        "models.intends_abroad",
    ]
    by_id = {t.id: t for t in tables}
    assert by_id["survey.barriers"].estimates == ()
    assert by_id["models.intends_abroad"].estimates == ()
    keys = {e.key for e in by_id["comparisons.differences"].estimates}
    assert keys == {"comparisons.went_abroad.difference.by_gender.F_vs_M"}
    rs = by_id["comparisons.rao_scott"].estimates[0]
    assert rs.key == "comparisons.went_abroad.rao_scott.by_school"
    assert rs.n_unweighted == data["went_abroad"].notna().sum() < len(data)
    exp = {e.key: e for e in by_id["survey.experience"].estimates}
    assert exp["survey.went_abroad"].n_unweighted == data["went_abroad"].notna().sum()
