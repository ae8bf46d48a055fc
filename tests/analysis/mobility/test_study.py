"""mobility_result_tables: ids, stable unique keys, bases, CIs named, hand-checked values."""

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import BudgetConfig, StudyConfig
from analysis.mobility import mobility_result_tables
from analysis.mobility.indicators import newcombe_diff_ci, wilson_ci
from analysis.results import ResultSet
from analysis.schema import Mobility

from .test_indicators import ATL, INE, enrolment, records

TABLE_IDS = [
    "mobility.outgoing_rate",
    "mobility.outgoing_rate_group",
    "mobility.counts",
    "mobility.activity",
    "mobility.duration",
    "mobility.destinations",
    "mobility.euroregion",
    "mobility.funding",
    "mobility.budget",
    "mobility.trend",
]


def _config(**kw) -> StudyConfig:
    return StudyConfig(
        config_path=Path("/nowhere/study.toml"),
        title={"en": "t"},
        language="en",
        data_cutoff="",
        synthetic=True,
        codebook=Path("/nowhere/codebook.toml"),
        enrolment=Path("/nowhere/enrolment.csv"),
        surveys=(),
        mobility=(),
        **kw,
    )


@pytest.fixture(scope="module")
def tables():
    return mobility_result_tables(
        records(), enrolment(), _config(budget=BudgetConfig(envelope_eur=90000, academic_year=2019))
    )


@pytest.fixture(scope="module")
def est(tables):
    return ResultSet(study={}, tables=tuple(tables))


def test_table_ids_and_unique_keys(tables, est):
    assert [t.id for t in tables] == TABLE_IDS
    d = est.to_dict()  # raises on duplicate keys
    json.dumps(d)
    for e in est.estimates():
        assert e.key.startswith(e.table + ".")
        assert e.base, e.key
        if e.ci_low is not None:
            assert e.ci_method in {"wilson", "newcombe", "t", "wald"}, e.key
        if e.statistic in {"share", "rate", "mean"}:
            assert e.n_unweighted is not None, e.key


def test_outgoing_rate_estimates(est):
    e = est.estimate(f"mobility.outgoing_rate.{INE}.2019")
    assert e.estimate == pytest.approx(3 / 40)
    assert (e.ci_low, e.ci_high) == pytest.approx(wilson_ci(3, 40))
    assert e.ci_method == "wilson" and e.n_unweighted == 40
    assert dict(e.domain) == {"school": INE, "academic_year": "2019"}
    g = est.estimate("mobility.outgoing_rate_group.2020")
    assert g.estimate == pytest.approx(2 / 150) and g.n_unweighted == 150


def test_counts_activity_duration(est):
    assert est.estimate(f"mobility.counts.participants.{ATL}.2019").estimate == 3
    assert est.estimate(f"mobility.counts.mobilities.{INE}.2019").estimate == 2
    a = est.estimate(f"mobility.activity.dual_degree.by_school.{INE}")
    assert a.estimate == pytest.approx(1 / 4) and a.n_unweighted == 4
    assert est.estimate("mobility.activity.study.group").estimate == pytest.approx(6 / 8)
    m = est.estimate(f"mobility.duration.mean_months.by_school.{INE}")
    assert m.estimate == pytest.approx(10.0) and m.ci_method == "t" and m.df == 3
    # group: 7 participants with a duration (2x5, 1x6, 1x24, 3x2); >= 6 months: 1 + 1 = 2
    assert est.estimate("mobility.duration.share_ge_6m.group").estimate == pytest.approx(2 / 7)


def test_destinations_euroregion(est):
    assert est.estimate("mobility.destinations.country.ES.group").estimate == pytest.approx(3 / 8)
    assert est.estimate(f"mobility.destinations.country.BE.by_school.{INE}").estimate == 0.5
    assert est.estimate("mobility.destinations.region.euroregion.group").estimate == 0.5
    d = est.estimate(f"mobility.euroregion.difference.{INE}_vs_rest")
    _, lo, hi = newcombe_diff_ci(3, 4, 1, 4)
    assert d.estimate == pytest.approx(0.5) and (d.ci_low, d.ci_high) == (lo, hi)
    assert d.ci_method == "newcombe"
    assert est.estimate("mobility.euroregion.share.rest_of_group").estimate == pytest.approx(0.25)


def test_funding_and_budget(est):
    assert est.estimate(f"mobility.funding.grant_total.by_school.{INE}").estimate == 4400
    assert est.estimate(
        f"mobility.funding.grant_per_month.by_school.{INE}"
    ).estimate == pytest.approx(4400 / 34)
    assert est.estimate("mobility.budget.envelope").estimate == 90000
    a = est.estimate(f"mobility.budget.allocation.by_school.{INE}")
    assert a.estimate == pytest.approx(90000 * 16 / 22)
    p = est.estimate(f"mobility.budget.per_mobility.by_school.{ATL}")
    assert p.estimate == pytest.approx(90000 * 6 / 22 / 3)


def test_trend_table_on_tiny_data(tables):
    t = {t.id: t for t in tables}["mobility.trend"]
    # 4 school-year cells, all in COVID years (so no COVID term): const, year, school -> 1 df
    keys = {e.key for e in t.estimates}
    assert "mobility.trend.rate_ratio.covid" not in keys
    assert {"mobility.trend.model_choice", "mobility.trend.rate_ratio.year"} <= keys
    assert any(n.startswith("Model: ") and "Why:" in n for n in t.notes)


def test_trend_table_without_degrees_of_freedom():
    one_year = records()[records()[Mobility.ACADEMIC_YEAR] == 2019]
    enr = enrolment()[enrolment()["academic_year"] == 2019]
    t = {t.id: t for t in mobility_result_tables(one_year, enr, _config())}
    # 2 cells (one year, two schools), 2 parameters (const, school): nothing to fit
    assert t["mobility.trend"].estimates == ()
    assert any("too few" in n for n in t["mobility.trend"].notes)


def test_obs1_year_without_mobility_records_is_no_data_not_zero():
    # observation 1: enrolment for 2020 but no mobility source reports on 2020: "no data",
    # not a 0 % rate, and not a zero in the trend model (it used to be a cell with count 0)
    one_year = records()[records()[Mobility.ACADEMIC_YEAR] == 2019]
    t = {t.id: t for t in mobility_result_tables(one_year, enrolment(), _config())}
    rate = t["mobility.outgoing_rate"].by_key()
    for school in (INE, ATL):
        e = rate[f"mobility.outgoing_rate.{school}.2020"]
        assert e.estimate is None and e.ci_low is None and e.base.startswith("no data")
        assert rate[f"mobility.outgoing_rate.{school}.2019"].estimate > 0
    group = t["mobility.outgoing_rate_group"].by_key()
    assert group["mobility.outgoing_rate_group.2020"].estimate is None
    assert group["mobility.outgoing_rate_group.2019"].estimate == pytest.approx(6 / 140)
    # 2 covered cells (2019), 2 parameters: no model rather than one fitted on made-up zeros
    assert t["mobility.trend"].estimates == ()
    assert any("No data" in n and "2020-21" in n for n in t["mobility.outgoing_rate"].notes)


def test_obs1_school_never_in_any_source_is_no_data_and_a_covered_year_without_records_is_zero():
    # INE has records in 2019 and 2020; ATL only in 2019: the source reports on ATL and on
    # 2020, so ATL 2020 is a true 0. A school no source mentions is "no data" in every year.
    no_atl_2020 = records()[
        ~((records()[Mobility.SCHOOL] == ATL) & (records()[Mobility.ACADEMIC_YEAR] == 2020))
    ]
    t = {t.id: t for t in mobility_result_tables(no_atl_2020, enrolment(), _config())}
    rate = t["mobility.outgoing_rate"].by_key()
    assert rate[f"mobility.outgoing_rate.{ATL}.2020"].estimate == 0.0
    assert rate[f"mobility.outgoing_rate.{ATL}.2020"].n_unweighted == 100
    ine_only = records()[records()[Mobility.SCHOOL] == INE]
    t = {t.id: t for t in mobility_result_tables(ine_only, enrolment(), _config())}
    rate = t["mobility.outgoing_rate"].by_key()
    for y in (2019, 2020):
        e = rate[f"mobility.outgoing_rate.{ATL}.{y}"]
        assert e.estimate is None and e.base.startswith("no data")
    # the group would be INE alone: not published as the group's rate
    group = t["mobility.outgoing_rate_group"].by_key()
    assert all(e.estimate is None for e in group.values())


def test_missing_region_column_is_an_error():
    with pytest.raises(ValueError, match="region"):
        mobility_result_tables(records().drop(columns="region"), enrolment(), _config())


def test_keys_stable_across_runs():
    a = mobility_result_tables(records(), enrolment(), _config())
    b = mobility_result_tables(records().sample(frac=1, random_state=1), enrolment(), _config())
    assert [e.key for t in a for e in t.estimates] == [e.key for t in b for e in t.estimates]


def test_sample_like_records_with_trend(schools, countries):
    # a bigger frame: 3 schools x 6 years, Poisson-ish counts -> the trend table is filled
    rows, enr = [], []
    for s, base in (("imt_nord_europe", 60), ("imt_atlantique", 90), ("telecom_paris", 70)):
        for t, y in enumerate(range(2015, 2021)):
            n = base + 3 * t - (30 if y in (2019, 2020) else 0) + (t % 2)
            rows.append({Mobility.SCHOOL: s, Mobility.ACADEMIC_YEAR: y, Mobility.ACTIVITY: "study",
                         Mobility.COUNTRY: "BE", "region": "euroregion", Mobility.PARTICIPANTS: n,
                         Mobility.DURATION_MONTHS: 5.0, Mobility.ERASMUS_FUNDED: True,
                         Mobility.GRANT_EUR: float("nan"), Mobility.SOURCE_FILE: "x",
                         Mobility.SOURCE_ROW: len(rows) + 1})  # fmt: skip
            enr.append((s, y, "F", 1000 + 10 * t))
    e = pd.DataFrame(enr, columns=["school", "academic_year", "gender", "enrolled"])
    tables = mobility_result_tables(pd.DataFrame(rows), e, _config())
    t = {t.id: t for t in tables}["mobility.trend"]
    keys = {x.key for x in t.estimates}
    assert {"mobility.trend.model_choice", "mobility.trend.rate_ratio.year",
            "mobility.trend.rate_ratio.covid", "mobility.trend.dispersion.pearson_chi2_df",
            "mobility.trend.dispersion.alpha"} <= keys  # fmt: skip
    covid = t.by_key()["mobility.trend.rate_ratio.covid"]
    assert covid.estimate < 0.8 and covid.ci_method == "wald"
    flags = t.by_key()
    assert flags["mobility.trend.covid_break.2019"].estimate == 1.0
    assert flags["mobility.trend.covid_break.2020"].estimate == 1.0
    assert any("COVID" in n for n in t.notes) and any("Why:" in n for n in t.notes)


def test_empty_inputs_give_empty_tables_not_errors():
    from analysis.mobility.readers import _RECORD_COLUMNS

    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in _RECORD_COLUMNS})
    budget = BudgetConfig(envelope_eur=90000, academic_year=2020)
    tables = mobility_result_tables(empty, enrolment().iloc[0:0], _config(budget=budget))
    assert [t.id for t in tables] == TABLE_IDS
    by_id = {t.id: t for t in tables}
    assert by_id["mobility.outgoing_rate"].estimates == ()
    assert by_id["mobility.trend"].estimates == ()
    assert by_id["mobility.budget"].by_key()["mobility.budget.envelope"].estimate == 90000
    ResultSet(study={}, tables=tuple(tables)).to_dict()


def test_school_sheet_rows_funded_by_erasmus_counted_once():
    # r1 (imt_nord_europe 2019, Erasmus+-funded, 2 participants) also appears in a school sheet;
    # an Erasmus+ record exists for imt_nord_europe 2019, so the sheet row is dropped.
    base = records().assign(source_format="erasmus-ka1")
    sheet = base.iloc[[0]].assign(source_format="school-mobility", source_file="sheet.csv")
    unfunded = base.iloc[[1]].assign(source_format="school-mobility", source_file="sheet.csv")
    both = pd.concat([base, sheet, unfunded], ignore_index=True)
    by_id = {t.id: t for t in mobility_result_tables(both, enrolment(), _config())}
    counts = by_id["mobility.counts"].by_key()
    # 3 (r1 + r2) + 1 unfunded sheet row; the funded duplicate is gone
    assert counts[f"mobility.counts.participants.{INE}.2019"].estimate == 4
    assert any("sheet.csv: 1 Erasmus+-funded rows (2 participants)" in n
               for n in by_id["mobility.counts"].notes)  # fmt: skip


def test_obs4_no_budget_section_means_no_budget_table():
    # observation 4: a 90,000 EUR envelope appeared in a study whose config has no [budget]
    tables = mobility_result_tables(records(), enrolment(), _config())
    ids = [t.id for t in tables]
    assert "mobility.budget" not in ids
    assert ids == [t for t in TABLE_IDS if t != "mobility.budget"]
    assert not any(e.variable == "envelope_eur" for t in tables for e in t.estimates)
