"""A realistic ResultSet built in code: every table id the statistics engineers produce,
five schools, eight academic years, two survey waves, small cells that disclosure control
must hide. Numbers are made up (deterministic) but internally consistent: proportions come
from counts, CIs are Wilson intervals of those counts, counts of the group are sums.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from analysis.results import Estimate, ResultSet, ResultTable, domain_of

SCHOOLS = {
    "imt_nord_europe": "IMT Nord Europe",
    "imt_atlantique": "IMT Atlantique",
    "mines_saint_etienne": "Mines Saint-Étienne",
    "telecom_paris": "Télécom Paris",
    "eurecom": "EURECOM",
}
ENROLLED = {
    "imt_nord_europe": 2100,
    "imt_atlantique": 2400,
    "mines_saint_etienne": 1900,
    "telecom_paris": 1600,
    "eurecom": 320,
}
YEARS = list(range(2016, 2024))
COVID = (2019, 2020)
# outgoing students per school and year (eurecom small: disclosure control must act)
OUTGOING = {
    s: [round(ENROLLED[s] * r * (0.45 if y == 2020 else 0.75 if y == 2019 else 1.0)) for y in YEARS]
    for s, r in (
        ("imt_nord_europe", 0.16),
        ("imt_atlantique", 0.13),
        ("mines_saint_etienne", 0.11),
        ("telecom_paris", 0.14),
        ("eurecom", 0.012),
    )
}


def wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def prop(key, table, variable, x, n, level=None, weighted=False, method="wilson", **dims):
    lo, hi = wilson(x, n)
    return Estimate(
        key,
        table,
        "proportion",
        variable,
        x / n,
        domain_of(**dims),
        level=level,
        se=math.sqrt(x / n * (1 - x / n) / n),
        ci_low=lo,
        ci_high=hi,
        ci_method=method,
        n_unweighted=n,
        weighted=weighted,
        base="valid answers",
    )


def build_results() -> ResultSet:
    tables: list[ResultTable] = []

    # ---- sample
    responses = {
        "imt_nord_europe": 655,
        "imt_atlantique": 540,
        "mines_saint_etienne": 410,
        "telecom_paris": 380,
        "eurecom": 48,
    }
    est = []
    for wave, factor in (("2023", 0.9), ("2024", 1.0)):
        tot_n = tot_pop = 0
        for s, r in responses.items():
            n = round(r * factor)
            tot_n += n
            tot_pop += ENROLLED[s]
            est.append(
                Estimate(
                    f"sample.response_rate.{wave}.{s}",
                    "sample.response_rate",
                    "proportion",
                    "response_rate",
                    n / ENROLLED[s],
                    domain_of(wave=wave, school=s),
                    n_unweighted=n,
                    base=f"enrolled students: {ENROLLED[s]}",
                )
            )
        est.append(
            Estimate(
                f"sample.response_rate.{wave}.group",
                "sample.response_rate",
                "proportion",
                "response_rate",
                tot_n / tot_pop,
                domain_of(wave=wave, school="group"),
                n_unweighted=tot_n,
                base=f"enrolled students of the schools surveyed: {tot_pop}",
            )
        )
    tables.append(ResultTable("sample.response_rate", "sample", tuple(est), ("wave", "school")))

    est = [
        Estimate(
            f"weighting.kish_deff.{s}",
            "weighting.diagnostics",
            "design_effect",
            "kish_deff",
            1.0 + i * 0.07,
            domain_of(school=s),
            n_unweighted=responses[s],
            base="respondents",
        )
        for i, s in enumerate(SCHOOLS)
    ]
    tables.append(ResultTable("weighting.diagnostics", "weighting", tuple(est), ("school",)))

    # ---- survey (wave 2024)
    est = []
    went = {
        "imt_nord_europe": 210,
        "imt_atlantique": 160,
        "mines_saint_etienne": 101,
        "telecom_paris": 120,
        "eurecom": 3,
    }
    intends = {
        "imt_nord_europe": 412,
        "imt_atlantique": 300,
        "mines_saint_etienne": 230,
        "telecom_paris": 240,
        "eurecom": 30,
    }
    for var, counts in (("went_abroad", went), ("intends_abroad", intends)):
        for s, x in counts.items():
            est.append(
                prop(
                    f"survey.{var}.by_school.{s}",
                    "survey.experience",
                    var,
                    x,
                    responses[s],
                    weighted=True,
                    method="logit",
                    school=s,
                )
            )
        x, n = sum(counts.values()), sum(responses.values())
        est.append(
            prop(f"survey.{var}", "survey.experience", var, x, n, weighted=True, method="logit")
        )
    tables.append(ResultTable("survey.experience", "survey", tuple(est), ("school",)))

    n_all = sum(responses.values())
    likert = {
        "interest_dual_degree": [140, 260, 520, 610, 503],
        "barrier_finance": [210, 300, 480, 560, 483],
        "barrier_language": [520, 610, 470, 290, 143],
        "barrier_recognition": [400, 520, 560, 350, 203],
    }
    est = []
    for var in ("barrier_finance", "barrier_language", "barrier_recognition"):
        for lvl, x in enumerate(likert[var], start=1):
            est.append(
                prop(
                    f"survey.{var}.{lvl}",
                    "survey.barriers",
                    var,
                    x,
                    n_all,
                    level=str(lvl),
                    weighted=True,
                    method="logit",
                )
            )
    tables.append(ResultTable("survey.barriers", "survey", tuple(est)))
    est = [
        prop(
            f"survey.interest_dual_degree.{lvl}",
            "survey.dual_degree",
            "interest_dual_degree",
            x,
            n_all,
            level=str(lvl),
            weighted=True,
            method="logit",
        )
        for lvl, x in enumerate(likert["interest_dual_degree"], start=1)
    ]
    est.append(
        Estimate(
            "survey.interest_dual_degree.mean",
            "survey.dual_degree",
            "mean",
            "interest_dual_degree",
            3.5437,
            (),
            se=0.0262,
            ci_low=3.4923,
            ci_high=3.5951,
            ci_method="t",
            n_unweighted=n_all,
            weighted=True,
            df=2027.0,
            base="valid answers (1-5)",
        )
    )
    tables.append(ResultTable("survey.dual_degree", "survey", tuple(est)))

    regions = {
        "euroregion": 720,
        "other_europe": 980,
        "north_america": 610,
        "latin_america": 230,
        "asia": 450,
        "africa": 60,
        "oceania": 4,
    }
    est = [
        prop(
            f"survey.pref_region.{r}",
            "survey.destinations",
            "pref_region",
            x,
            n_all,
            level=r,
            weighted=True,
            method="logit",
        )
        for r, x in regions.items()
    ]
    tables.append(
        ResultTable(
            "survey.destinations",
            "survey",
            tuple(est),
            notes=("Several answers possible: shares do not add up to 100%.",),
        )
    )

    # ---- comparisons
    est = [
        Estimate(
            "comparisons.intends_abroad.difference.by_gender.F_vs_M",
            "comparisons.differences",
            "difference",
            "intends_abroad",
            0.042,
            domain_of(gender="F_vs_M"),  # the survey engine's style: contrast in the domain
            se=0.022,
            ci_low=-0.001,
            ci_high=0.085,
            ci_method="wald",
            n_unweighted=2028,
            p_value=0.056,
            p_adjusted=0.112,
            weighted=True,
            base="valid answers",
        ),
        Estimate(
            "comparisons.intends_abroad.by_school.imt_nord_europe-rest",
            "comparisons.differences",
            "difference",
            "intends_abroad",
            0.081,
            domain_of(by="school"),
            level="imt_nord_europe - rest",
            se=0.023,
            ci_low=0.036,
            ci_high=0.126,
            ci_method="wald",
            n_unweighted=2028,
            p_value=0.0004,
            p_adjusted=0.0008,
            weighted=True,
            base="valid answers",
        ),
        Estimate(
            "comparisons.interest_dual_degree.by_gender.F-M",
            "comparisons.differences",
            "difference",
            "interest_dual_degree",
            -0.11,
            domain_of(by="gender"),
            level="F - M",
            se=0.045,
            ci_low=-0.198,
            ci_high=-0.022,
            ci_method="t",
            n_unweighted=2028,
            p_value=0.014,
            p_adjusted=0.042,
            weighted=True,
            base="valid answers (1-5)",
        ),
    ]
    tables.append(ResultTable("comparisons.differences", "comparisons", tuple(est)))
    est = [
        Estimate(
            "comparisons.rao_scott.intends_abroad.school",
            "comparisons.rao_scott",
            "f_statistic",
            "intends_abroad",
            6.21,
            domain_of(by="school"),
            df=3.8,
            p_value=0.00007,
            p_adjusted=0.00014,
            n_unweighted=2028,
            base="valid answers; Rao-Scott second-order correction",
        ),
        Estimate(
            "comparisons.rao_scott.went_abroad.gender",
            "comparisons.rao_scott",
            "f_statistic",
            "went_abroad",
            1.12,
            domain_of(by="gender"),
            df=1.9,
            p_value=0.32,
            p_adjusted=0.32,
            n_unweighted=2028,
            base="valid answers",
        ),
    ]
    tables.append(ResultTable("comparisons.rao_scott", "comparisons", tuple(est)))

    # ---- model
    terms = [
        ("barrier_finance", 0.78, 0.72, 0.85, 1e-8),
        ("barrier_language", 0.91, 0.84, 0.99, 0.03),
        ("gender[F]", 1.18, 0.97, 1.43, 0.09),
        ("study_year", 1.06, 0.99, 1.13, 0.08),
    ]
    est = [
        Estimate(
            f"models.intends_abroad.{t}",
            "models.intends_abroad",
            "odds_ratio",
            "intends_abroad",
            o,
            (),
            level=t,
            ci_low=lo,
            ci_high=hi,
            ci_method="wald",
            p_value=p,
            p_adjusted=min(1.0, p * 4),
            n_unweighted=2028,
            weighted=True,
            base="respondents with complete answers",
        )
        for t, o, lo, hi, p in terms
    ]
    tables.append(
        ResultTable(
            "models.intends_abroad",
            "models",
            tuple(est),
            notes=("Survey-weighted logistic regression (quasi-binomial).",),
        )
    )

    # ---- mobility
    rate, rate_g, counts, trend = [], [], [], []
    for j, y in enumerate(YEARS):
        tot_x = tot_n = 0
        for s in SCHOOLS:
            x, n = OUTGOING[s][j], ENROLLED[s]
            tot_x += x
            tot_n += n
            lo, hi = wilson(x, n)
            rate.append(
                Estimate(
                    f"mobility.outgoing_rate.{s}.{y}",
                    "mobility.outgoing_rate",
                    "rate",
                    "outgoing_rate",
                    x / n,
                    domain_of(school=s, academic_year=y),
                    ci_low=lo,
                    ci_high=hi,
                    ci_method="wilson",
                    n_unweighted=n,
                    base="enrolled students",
                )
            )
            counts.append(
                Estimate(
                    f"mobility.outgoing_students.{s}.{y}",
                    "mobility.counts",
                    "count",
                    "outgoing_students",
                    float(x),
                    domain_of(school=s, academic_year=y),
                    base="outgoing students",
                )
            )
        lo, hi = wilson(tot_x, tot_n)
        rate_g.append(
            Estimate(
                f"mobility.outgoing_rate.group.{y}",
                "mobility.outgoing_rate_group",
                "rate",
                "outgoing_rate",
                tot_x / tot_n,
                domain_of(academic_year=y),
                ci_low=lo,
                ci_high=hi,
                ci_method="wilson",
                n_unweighted=tot_n,
                base="enrolled students of the group",
            )
        )
        trend.append(
            Estimate(
                f"mobility.outgoing_students.group.{y}",
                "mobility.trend",
                "count",
                "outgoing_students",
                float(tot_x),
                domain_of(academic_year=y),
                base="outgoing students",
            )
        )
    tables += [
        ResultTable("mobility.outgoing_rate", "mobility", tuple(rate), ("school", "academic_year")),
        ResultTable("mobility.outgoing_rate_group", "mobility", tuple(rate_g), ("academic_year",)),
        ResultTable("mobility.counts", "mobility", tuple(counts), ("school", "academic_year")),
        ResultTable("mobility.trend", "mobility", tuple(trend), ("academic_year",)),
    ]
    last = YEARS[-1]
    act = {"study": 0.62, "traineeship": 0.30, "dual_degree": 0.08}
    est = []
    for s in SCHOOLS:
        x = OUTGOING[s][-1]
        for a, sh in act.items():
            est.append(
                Estimate(
                    f"mobility.activity.{s}.{a}",
                    "mobility.activity",
                    "count",
                    "activity",
                    float(round(x * sh)),
                    domain_of(school=s, academic_year=last),
                    level=a,
                    base="outgoing mobilities",
                )
            )
    tables.append(ResultTable("mobility.activity", "mobility", tuple(est), ("school",)))
    est = [
        Estimate(
            f"mobility.duration_months.{s}",
            "mobility.duration",
            "mean",
            "duration_months",
            4.2 + i * 0.4,
            domain_of(school=s, academic_year=last),
            se=0.1,
            ci_low=4.0 + i * 0.4,
            ci_high=4.4 + i * 0.4,
            ci_method="t",
            n_unweighted=OUTGOING[s][-1],
            base="outgoing mobilities",
        )
        for i, s in enumerate(SCHOOLS)
    ]
    tables.append(ResultTable("mobility.duration", "mobility", tuple(est), ("school",)))
    countries = {
        "BE": 182,
        "DE": 160,
        "ES": 141,
        "NL": 98,
        "GB": 77,
        "CA": 61,
        "IT": 44,
        "SE": 30,
        "CN": 21,
        "BR": 12,
        "IS": 3,
        "NZ": 2,
    }
    est = [
        Estimate(
            f"mobility.destinations.{c}",
            "mobility.destinations",
            "count",
            "outgoing_students",
            float(x),
            domain_of(country=c, academic_year=last),
            base="outgoing students",
        )
        for c, x in countries.items()
    ]
    tables.append(ResultTable("mobility.destinations", "mobility", tuple(est), ("country",)))
    est = []
    for s, sh in (
        ("imt_nord_europe", 0.463),
        ("imt_atlantique", 0.21),
        ("mines_saint_etienne", 0.18),
        ("telecom_paris", 0.16),
        ("eurecom", 0.25),
    ):
        n = OUTGOING[s][-1]
        x = round(n * sh)
        lo, hi = wilson(x, n)
        est.append(
            Estimate(
                f"mobility.euroregion.{s}.{last}",
                "mobility.euroregion",
                "share",
                "euroregion",
                x / n,
                domain_of(school=s, academic_year=last),
                ci_low=lo,
                ci_high=hi,
                ci_method="wilson",
                n_unweighted=n,
                base="outgoing mobilities",
            )
        )
    rest_n = sum(OUTGOING[s][-1] for s in SCHOOLS if s != "imt_nord_europe")
    rest_x = sum(round(e.estimate * e.n_unweighted) for e in est[1:])  # other schools
    lo, hi = wilson(rest_x, rest_n)
    est.append(
        Estimate(
            f"mobility.euroregion.rest_of_group.{last}",
            "mobility.euroregion",
            "share",
            "euroregion",
            rest_x / rest_n,
            domain_of(school="rest_of_group", academic_year=last),
            ci_low=lo,
            ci_high=hi,
            ci_method="wilson",
            n_unweighted=rest_n,
            base="outgoing mobilities of the other schools",
        )
    )
    tables.append(ResultTable("mobility.euroregion", "mobility", tuple(est), ("school",)))
    est = []
    for s in SCHOOLS:
        n = OUTGOING[s][-1]
        x = round(n * 0.71)
        lo, hi = wilson(x, n)
        est.append(
            Estimate(
                f"mobility.erasmus_funded.{s}",
                "mobility.funding",
                "share",
                "erasmus_funded",
                x / n,
                domain_of(school=s, academic_year=last),
                ci_low=lo,
                ci_high=hi,
                ci_method="wilson",
                n_unweighted=n,
                base="outgoing mobilities",
            )
        )
    tables.append(ResultTable("mobility.funding", "mobility", tuple(est), ("school",)))
    months = {s: OUTGOING[s][4] * 4.5 for s in SCHOOLS}
    tot = sum(months.values())
    est = [
        Estimate(
            f"mobility.budget.{s}.2020",
            "mobility.budget",
            "total",
            "grant_eur",
            round(90000 * m / tot, 2),
            domain_of(school=s, academic_year=2020),
            n_unweighted=OUTGOING[s][4],
            base="90,000 EUR envelope by mobility-months",
        )
        for s, m in months.items()
    ]
    tables.append(ResultTable("mobility.budget", "mobility", tuple(est), ("school",)))

    study = {
        "title": {
            "en": "Outgoing mobility of IMT students",
            "fr": "La mobilité sortante des étudiants de l'IMT",
        },
        "synthetic": True,
        "data_cutoff": "2024-06-30",
        "waves": ["2023", "2024"],
        "schools": dict(SCHOOLS),
    }
    data_quality = {
        "files": [
            {
                "file": "survey_2024.csv",
                "sha256": "ab" * 32,
                "wave": "2024",
                "format": "limesurvey",
                "encoding": "utf-8",
                "rows_read": 2100,
                "rows_kept": 2033,
                "quarantined": 5,
                "filtered": {"unfinished": 41, "duplicate": 12, "speeder": 9},
                "dropped_personal_columns": ["email", "ipaddr"],
                "unmapped_columns": [],
                "breaks": [{"variable": "barrier_recognition", "wave": "2024", "note": "new item"}],
            },
            {
                "file": "erasmus_ka1.csv",
                "sha256": "cd" * 32,
                "format": "erasmus-ka1",
                "rows_read": 5120,
                "rows_kept": 5101,
                "quarantined": 19,
                "unknown_schools": {"Ecole X": 19},
            },
        ],
        "quarantine_reasons": {"out_of_range": 5, "unknown_school": 19},
        "changes": {
            "previous_run": "20240601T120000Z-1a2b3c4d",
            "new_responses": [
                {
                    "key": "sample.response_rate.2024.eurecom",
                    "domain": {"wave": "2024", "school": "eurecom"},
                    "before": 40,
                    "now": 48,
                }
            ],
            "moved": [
                {
                    "key": "survey.intends_abroad",
                    "before": 0.55,
                    "now": 0.596,
                    "before_ci": [0.53, 0.57],
                }
            ],
            "revised": [
                {
                    "key": "mobility.outgoing_students.imt_nord_europe.2022",
                    "before": 330.0,
                    "now": 336.0,
                }
            ],
            "new_schools": [],
            "new_years": ["2023"],
            "new_waves": ["2024"],
            "added": 12,
            "removed": 0,
        },
    }
    provenance = {
        "generated_at": "2024-07-01T08:00:00Z",
        "flow_run_id": "9f0e5a4c-0000-4000-8000-000000000001",
        "run_name": "20240701T080000Z-9f0e5a4c",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "code_digest": "feedfacecafebeef",
        "versions": {"mobility-study": "0.1.0", "pandas": "3.1.1", "jinja2": "3.1.6"},
        "inputs": [
            {"file": "survey_2024.csv", "sha256": "ab" * 32, "rows": 2100},
            {"file": "erasmus_ka1.csv", "sha256": "cd" * 32, "rows": 5120},
            {"file": "study.toml", "sha256": "ef" * 32, "rows": None},
        ],
        "config": {
            "language": "en",
            "data_cutoff": "2024-06-30",
            "weighting": {"method": "poststratify", "cells": ["school", "gender"]},
            "disclosure": {"min_count": 5, "min_base": 10},
            "covid_break_years": list(COVID),
            "formula_test": "=SUM(A1)",
        },
        "seeds": {"bootstrap": 20240701},
    }
    return ResultSet(study, tuple(tables), data_quality, provenance)


@pytest.fixture(scope="session")
def raw_results() -> ResultSet:
    return build_results()


@pytest.fixture(scope="session")
def results(raw_results: ResultSet) -> ResultSet:
    """The fixture after disclosure control, as the flow hands it to the report."""
    from analysis.disclosure import apply_disclosure_control

    res, report = apply_disclosure_control(raw_results)
    from dataclasses import replace

    return replace(res, data_quality={**res.data_quality, "disclosure": report})


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
