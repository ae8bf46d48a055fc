"""Pipeline entry point: mobility records + enrolment -> the report's mobility tables.

Estimate keys are stable and unique (``mobility.<table>.<variable>[.by_<dim>.<value>]``);
``base`` says the denominator in words, ``n_unweighted`` is the count behind each rate/share and
every interval names its method.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.config import StudyConfig
from analysis.mobility import indicators as ind
from analysis.mobility.coverage import NO_DATA, split_enrolment
from analysis.mobility.readers import drop_double_counted
from analysis.mobility.trends import fit_trend
from analysis.results import Estimate, ResultTable, domain_of
from analysis.schema import Enrolment, Mobility, validate_columns

FOCUS = "imt_nord_europe"
SECTION = "mobility"


def _f(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _n(v: Any) -> int | None:
    f = _f(v)
    return None if f is None else int(round(f))


def _year_label(y: int) -> str:
    return f"{y}-{(y + 1) % 100:02d}"


def _share(
    key: str, table: str, variable: str, r: Any, base: str, statistic: str = "share", **dims: Any
) -> Estimate:
    return Estimate(
        key=key,
        table=table,
        statistic=statistic,
        variable=variable,
        estimate=_f(r["estimate"]),
        domain=domain_of(**dims),
        ci_low=_f(r["ci_low"]),
        ci_high=_f(r["ci_high"]),
        ci_method="wilson",
        n_unweighted=_n(r["denominator"]),
        base=base,
    )


def _unit(school: str) -> str:
    return "group" if school == ind.GROUP else f"by_school.{school}"


def _dims(school: str) -> dict[str, Any]:
    return {} if school == ind.GROUP else {"school": school}


def mobility_result_tables(
    records: pd.DataFrame, enrolment: pd.DataFrame, config: StudyConfig
) -> list[ResultTable]:
    """All mobility tables of the report, in display order (ids ``mobility.*``)."""
    validate_columns(records, Mobility.SCHEMA, "mobility records")
    validate_columns(enrolment, Enrolment.SCHEMA, "enrolment")
    if "region" not in records.columns:
        raise ValueError("mobility records: column 'region' missing (added by read_mobility_file)")
    for col, default in (
        (Mobility.DURATION_MONTHS, math.nan),
        (Mobility.ERASMUS_FUNDED, None),
        (Mobility.GRANT_EUR, math.nan),
    ):
        if col not in records.columns:
            records = records.assign(**{col: default})
    # missing is never zero: rates and the trend model use covered school-years only
    covered, whole_years, gaps = split_enrolment(records, enrolment)
    records, dropped = drop_double_counted(records)
    covid = tuple(config.covid_break_years)
    tables = [
        _rate_table(records, covered, covid, gaps),
        _rate_group_table(records, whole_years, covid, gaps),
        _counts_table(records, covid, dropped),
        _activity_table(records),
        _duration_table(records),
        _destinations_table(records),
        _euroregion_table(records),
        _funding_table(records),
        # no [budget] in the config: no budget table (never a default envelope)
        *([_budget_table(records, config)] if config.budget is not None else []),
        _trend_table(records, covered, covid, gaps),
    ]
    return tables


def _gap_note(gaps: dict[int, list[str]]) -> str | None:
    if not gaps:
        return None
    return (
        "No data (enrolment but no mobility source covers the year; not 0): "
        + "; ".join(f"{_year_label(y)}: {', '.join(s)}" for y, s in gaps.items())
        + "."
    )


def _no_data(t: str, key: str, variable: str, base: str, **dims: Any) -> Estimate:
    return Estimate(
        key=key,
        table=t,
        statistic="rate",
        variable=variable,
        estimate=None,
        domain=domain_of(**dims),
        base=f"{NO_DATA}: {base}",
    )


def _covid_note(covid: tuple[int, ...]) -> str:
    years = ", ".join(_year_label(y) for y in covid)
    return f"COVID break: {years} (mobility interrupted; compare with care)."


def _rate_table(
    records: pd.DataFrame,
    enrolment: pd.DataFrame,
    covid: tuple[int, ...],
    gaps: dict[int, list[str]],
) -> ResultTable:
    t = "mobility.outgoing_rate"
    est = []
    df = ind.outgoing_rate_by_school(records, enrolment)
    for _, r in df.iterrows():
        s, y = r[Mobility.SCHOOL], int(r[Mobility.ACADEMIC_YEAR])
        est.append(
            _share(
                f"{t}.{s}.{y}",
                t,
                "outgoing_rate",
                r,
                f"enrolled students of the school in {_year_label(y)}; numerator: its outgoing "
                f"participants ({int(r['numerator'])})",
                statistic="rate",
                school=s,
                academic_year=y,
            )
        )
    for y, schools in gaps.items():
        est += [
            _no_data(
                t,
                f"{t}.{s}.{y}",
                "outgoing_rate",
                f"no mobility source covers the school in {_year_label(y)}",
                school=s,
                academic_year=y,
            )
            for s in schools
        ]
    notes = [
        _covid_note(covid),
        "Mobilities counted, not persons: a student going twice counts twice.",
        *filter(None, [_gap_note(gaps)]),
    ]
    if len(df) and df["exceeds_base"].any():
        bad = df[df["exceeds_base"]]
        notes.append(
            "More outgoing participants than enrolled students (no CI): "
            + ", ".join(
                f"{s} {_year_label(int(y))}"
                for s, y in zip(bad[Mobility.SCHOOL], bad[Mobility.ACADEMIC_YEAR], strict=True)
            )
        )
    return ResultTable(t, SECTION, tuple(est), dims=("school", "academic_year"), notes=tuple(notes))


def _rate_group_table(
    records: pd.DataFrame,
    enrolment: pd.DataFrame,
    covid: tuple[int, ...],
    gaps: dict[int, list[str]],
) -> ResultTable:
    t = "mobility.outgoing_rate_group"
    est = []
    for _, r in ind.outgoing_rate_group(records, enrolment).iterrows():
        y = int(r[Mobility.ACADEMIC_YEAR])
        if int(r["n_schools"]) < 2:  # one school is not the group: its rate is in the school table
            continue
        est.append(
            _share(
                f"{t}.{y}",
                t,
                "outgoing_rate",
                r,
                f"enrolled students of the {int(r['n_schools'])} IMT schools with an enrolment "
                f"figure in {_year_label(y)}; numerator: their outgoing participants",
                statistic="rate",
                academic_year=y,
            )
        )
    est += [
        _no_data(
            t,
            f"{t}.{y}",
            "outgoing_rate",
            f"no mobility source covers {', '.join(s)} in {_year_label(y)}",
            academic_year=y,
        )
        for y, s in gaps.items()
    ]
    notes = (_covid_note(covid), *filter(None, [_gap_note(gaps)]))
    if enrolment[Enrolment.SCHOOL].nunique() < 2:
        notes += ("One school with mobility data: no group rate (see the rate by school).",)
    return ResultTable(t, SECTION, tuple(est), dims=("academic_year",), notes=notes)


def _counts_table(
    records: pd.DataFrame, covid: tuple[int, ...], dropped: dict[str, dict[str, int]]
) -> ResultTable:
    t = "mobility.counts"
    est = []
    for _, r in ind.outgoing_counts(records).iterrows():
        s, y = r[Mobility.SCHOOL], int(r[Mobility.ACADEMIC_YEAR])
        for var, base in (
            ("mobilities", "mobility records (an Erasmus+ row may aggregate several participants)"),
            ("participants", "outgoing participants (sum of the records' participants)"),
        ):
            est.append(
                Estimate(
                    key=f"{t}.{var}.{s}.{y}",
                    table=t,
                    statistic="count",
                    variable=var,
                    estimate=float(r[var]),
                    domain=domain_of(school=s, academic_year=y),
                    level=var,
                    n_unweighted=int(r[var]),
                    base=base,
                )
            )
    notes = [_covid_note(covid)]
    for f, d in sorted(dropped.items()):
        if d["rows"]:
            notes.append(
                f"{f}: {d['rows']} Erasmus+-funded rows ({d['participants']} participants) "
                "counted from the Erasmus+ file only."
            )
    return ResultTable(t, SECTION, tuple(est), dims=("school", "academic_year"), notes=tuple(notes))


def _activity_table(records: pd.DataFrame) -> ResultTable:
    t = "mobility.activity"
    est = [
        _share(
            f"{t}.{r[Mobility.ACTIVITY]}.{_unit(r[Mobility.SCHOOL])}",
            t,
            "activity",
            r,
            "outgoing participants of the school, all years",
            **_dims(r[Mobility.SCHOOL]),
        )
        for _, r in ind.activity_shares(records).iterrows()
    ]
    est = [e if e.level else _with_level(e, e.key.split(".")[2]) for e in est]
    return ResultTable(t, SECTION, tuple(est), dims=("school", "activity"))


def _with_level(e: Estimate, level: str) -> Estimate:
    from dataclasses import replace

    return replace(e, level=level)


def _duration_table(records: pd.DataFrame) -> ResultTable:
    t = "mobility.duration"
    est = []
    base = "outgoing participants with a known duration, all years"
    for _, r in ind.duration_summary(records).iterrows():
        s, stat = r[Mobility.SCHOOL], r["statistic"]
        key = f"{t}.{stat}.{_unit(s)}"
        if stat == "mean_months":
            est.append(
                Estimate(
                    key=key,
                    table=t,
                    statistic="mean",
                    variable="duration_months",
                    estimate=_f(r["estimate"]),
                    domain=domain_of(**_dims(s)),
                    se=_f(r["se"]),
                    ci_low=_f(r["ci_low"]),
                    ci_high=_f(r["ci_high"]),
                    ci_method="t",
                    n_unweighted=_n(r["denominator"]),
                    df=_f(r["denominator"] - 1),
                    base=base + " (months = calendar days / 30)",
                )
            )
        else:
            est.append(_with_level(_share(key, t, "duration_months", r, base, **_dims(s)), stat))
    return ResultTable(t, SECTION, tuple(est), dims=("school",))


def _destinations_table(records: pd.DataFrame) -> ResultTable:
    t = "mobility.destinations"
    est = []
    base = "outgoing participants with a known destination, all years"
    for by in (Mobility.COUNTRY, "region"):
        for _, r in ind.destination_shares(records, by=by, schools=(FOCUS,)).iterrows():
            s = r[Mobility.SCHOOL]
            est.append(
                _with_level(
                    _share(
                        f"{t}.{by}.{r[by]}.{_unit(s)}", t, by, r, base, **_dims(s), **{by: r[by]}
                    ),
                    str(r[by]),
                )
            )
    return ResultTable(
        t,
        SECTION,
        tuple(est),
        dims=("school", "country", "region"),
        notes=("Group = all IMT schools in the data; Euroregion = Belgium, Netherlands, Germany.",),
    )


def _euroregion_table(records: pd.DataFrame) -> ResultTable:
    t = "mobility.euroregion"
    shares, cmp = ind.euroregion_shares(records, focus=FOCUS)
    base = "outgoing participants with a known destination country, all years"
    est = [
        _share(
            f"{t}.share.{_unit(r[Mobility.SCHOOL])}",
            t,
            "euroregion",
            r,
            base,
            **_dims(r[Mobility.SCHOOL]),
        )
        for _, r in shares.iterrows()
    ]
    est.append(
        Estimate(
            key=f"{t}.share.rest_of_group",
            table=t,
            statistic="share",
            variable="euroregion",
            estimate=_f(cmp["rest_estimate"]),
            domain=domain_of(school="rest_of_group"),
            ci_low=_f(cmp["rest_ci_low"]),
            ci_high=_f(cmp["rest_ci_high"]),
            ci_method="wilson",
            n_unweighted=_n(cmp["n_rest"]),
            base=base + f"; all schools except {FOCUS}",
        )
    )
    est.append(
        Estimate(
            key=f"{t}.difference.{FOCUS}_vs_rest",
            table=t,
            statistic="difference",
            variable="euroregion",
            estimate=_f(cmp["difference"]),
            domain=domain_of(school=FOCUS),
            ci_low=_f(cmp["ci_low"]),
            ci_high=_f(cmp["ci_high"]),
            ci_method="newcombe",
            n_unweighted=_n(cmp["n_focus"] + cmp["n_rest"]),
            base=f"{FOCUS} share minus rest-of-group share ({base})",
        )
    )
    return ResultTable(t, SECTION, tuple(est), dims=("school",))


def _funding_table(records: pd.DataFrame) -> ResultTable:
    t = "mobility.funding"
    est = []
    for _, r in ind.funding_summary(records).iterrows():
        s, stat = r[Mobility.SCHOOL], r["statistic"]
        key = f"{t}.{stat}.{_unit(s)}"
        if stat == "erasmus_share":
            if not r["denominator"]:
                continue
            est.append(
                _share(
                    key,
                    t,
                    "erasmus_funded",
                    r,
                    "outgoing participants with a known funding source",
                    **_dims(s),
                )
            )
        elif stat == "grant_total":
            est.append(
                Estimate(
                    key=key,
                    table=t,
                    statistic="total",
                    variable="grant_eur",
                    estimate=_f(r["estimate"]),
                    domain=domain_of(**_dims(s)),
                    n_unweighted=_n(r["n_records"]),
                    base="records with a grant amount (EUR), all years",
                )
            )
        else:
            est.append(
                Estimate(
                    key=key,
                    table=t,
                    statistic="ratio",
                    variable="grant_per_mobility_month",
                    estimate=_f(r["estimate"]),
                    domain=domain_of(**_dims(s)),
                    n_unweighted=_n(r["n_records"]),
                    base=f"grant EUR / mobility-months ({r['denominator']:.1f}) over records with a grant and a duration",
                )
            )
    return ResultTable(
        t,
        SECTION,
        tuple(est),
        dims=("school",),
        notes=(
            "Erasmus+ KA1 rows are Erasmus+-funded by definition; the KA1 release has no grant amounts.",
        ),
    )


def _budget_table(records: pd.DataFrame, config: StudyConfig) -> ResultTable:
    t = "mobility.budget"
    b = config.budget
    assert b is not None  # the caller leaves the table out without a [budget]
    alloc = ind.budget_allocation(records, b)
    yl = _year_label(b.academic_year)
    est = [
        Estimate(
            key=f"{t}.envelope",
            table=t,
            statistic="total",
            variable="envelope_eur",
            estimate=float(b.envelope_eur),
            domain=domain_of(academic_year=b.academic_year),
            base=f"grant envelope for {yl} (configuration)",
        )
    ]
    for _, r in alloc.iterrows():
        s = r[Mobility.SCHOOL]
        d = domain_of(school=s, academic_year=b.academic_year)
        est += [
            Estimate(
                key=f"{t}.mobility_months.by_school.{s}",
                table=t,
                statistic="total",
                variable="mobility_months",
                estimate=_f(r["mobility_months"]),
                domain=d,
                n_unweighted=_n(r["participants"]),
                base=f"participants x months of the school's {yl} records with a duration",
            ),
            Estimate(
                key=f"{t}.allocation.by_school.{s}",
                table=t,
                statistic="total",
                variable="allocation_eur",
                estimate=_f(r["allocation_eur"]),
                domain=d,
                n_unweighted=_n(r["participants"]),
                base=f"envelope x the school's share of all {yl} mobility-months",
            ),
            Estimate(
                key=f"{t}.per_mobility.by_school.{s}",
                table=t,
                statistic="ratio",
                variable="allocation_per_mobility_eur",
                estimate=_f(r["per_mobility_eur"]),
                domain=d,
                n_unweighted=_n(r["participants"]),
                base=f"school allocation / its outgoing participants in {yl}",
            ),
        ]
    notes = [f"Allocation rule: {b.allocation} in {yl}."]
    if alloc.empty:
        notes.append(f"No mobility records for {yl}: nothing to allocate.")
    return ResultTable(t, SECTION, tuple(est), dims=("school",), notes=tuple(notes))


def _trend_table(
    records: pd.DataFrame,
    enrolment: pd.DataFrame,
    covid: tuple[int, ...],
    gaps: dict[int, list[str]],
) -> ResultTable:
    t = "mobility.trend"
    res = fit_trend(records, enrolment, covid)
    if res is None:
        return ResultTable(
            t,
            "models",
            (),
            notes=(
                "No trend model: too few school-year cells with enrolment (no residual degree "
                "of freedom) or no outgoing mobility.",
            ),
        )
    est = [
        Estimate(
            key=f"{t}.model_choice",
            table=t,
            statistic="model_choice",
            variable="outgoing_participants",
            estimate=1.0 if res.model == "negative_binomial" else 0.0,
            level=res.model,
            n_unweighted=res.n_cells,
            base="school x year cells with enrolment (1 = negative binomial, 0 = Poisson)",
        ),
        Estimate(
            key=f"{t}.dispersion.pearson_chi2_df",
            table=t,
            statistic="dispersion",
            variable="outgoing_participants",
            estimate=_f(res.pearson_chi2_df),
            n_unweighted=res.n_cells,
            base="Pearson chi2 / residual df of the Poisson model",
        ),
        Estimate(
            key=f"{t}.dispersion.alpha",
            table=t,
            statistic="nb_alpha",
            variable="outgoing_participants",
            estimate=_f(res.alpha),
            n_unweighted=res.n_cells,
            p_value=_f(res.lr_p_value),
            base="NB2 dispersion (ML); p: likelihood-ratio test of alpha = 0 (half chi2(1) tail)",
        ),
    ]
    est += [
        Estimate(
            key=f"{t}.covid_break.{y}",
            table=t,
            statistic="flag",
            variable="covid_break",
            estimate=1.0,
            domain=domain_of(academic_year=y),
            base="academic year flagged as a COVID break (config study.covid_break_years)",
        )
        for y in covid
    ]
    model_ci = "wald"
    for _, r in res.rate_ratios.iterrows():
        term, level = r["term"], r["level"]
        if term == "school":
            key, base = f"{t}.rate_ratio.by_school.{level}", f"vs {res.reference_school}"
        elif term == "year":
            key, base = (
                f"{t}.rate_ratio.year",
                f"per academic year (from {_year_label(res.first_year)})",
            )
        else:
            key, base = f"{t}.rate_ratio.covid", "COVID break years vs other years"
        est.append(
            Estimate(
                key=key,
                table=t,
                statistic="rate_ratio",
                variable="outgoing_participants",
                estimate=_f(r["estimate"]),
                domain=domain_of(school=level) if term == "school" else (),
                level=term,
                ci_low=_f(r["ci_low"]),
                ci_high=_f(r["ci_high"]),
                ci_method=model_ci,
                p_value=_f(r["p_value"]),
                n_unweighted=res.n_cells,
                base=f"{base}; {res.model} GLM, offset log(enrolled)",
            )
        )
    notes = [
        f"Model: {res.model}. Why: {res.reason}.",
        _covid_note(covid) + " Modelled by a COVID indicator next to the linear year term.",
    ]
    if gaps:
        n = sum(len(s) for s in gaps.values())
        notes.append(f"{n} school-years without mobility data left out of the model (not 0).")
    bad = res.rate_ratios[~res.rate_ratios["estimable"]] if len(res.rate_ratios) else []
    if len(bad):
        notes.append(
            "Not estimable (no mobility in a school or year): " + ", ".join(bad["level"]) + "."
        )
    return ResultTable(t, "models", tuple(est), dims=("school",), notes=tuple(notes))
