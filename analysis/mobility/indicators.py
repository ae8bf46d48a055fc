"""Outgoing-mobility indicators per school and academic year and for the group.

All functions are pure: they take the tidy Mobility records (plus the ``region`` column the
readers add) and the Enrolment table, and return new DataFrames of numbers with their bases
and 95% confidence intervals.  Counting unit: **participants** (an Erasmus+ row aggregates
``participants`` identical mobilities); ``mobilities`` counts records.

Intervals: proportions use the Wilson score interval (``ci_method="wilson"``); differences of
two proportions use Newcombe's hybrid score interval (``"newcombe"``, his method 10); means use
the t interval (``"t"``) over participants.  Participants of one aggregated row are treated as
independent, which understates the uncertainty when one school sends cohorts together.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from analysis.config import BudgetConfig
from analysis.schema import Enrolment, Mobility

ACTIVITIES = ("study", "traineeship", "dual_degree")
EUROREGION = ("BE", "NL", "DE")
GROUP = "group"


def wilson_ci(x: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for x successes out of n (``nan`` bounds when n == 0), from
    ``statsmodels.stats.proportion.proportion_confint`` (equal to the hand-written formula
    this replaced to 3e-16; imported here, not at module level: the readers import this
    module and need no statsmodels)."""
    if n <= 0 or x < 0 or x > n:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(x, n, alpha=1 - level, method="wilson")
    return (max(0.0, float(low)), min(1.0, float(high)))


def newcombe_diff_ci(
    x1: float, n1: float, x2: float, n2: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (method 10), from
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - level
    )
    return (x1 / n1 - x2 / n2, float(low), float(high))


def _share_rows(x: float, n: float) -> dict[str, float]:
    lo, hi = wilson_ci(x, n)
    return {
        "numerator": x,
        "denominator": n,
        "estimate": x / n if n > 0 else math.nan,
        "ci_low": lo,
        "ci_high": hi,
    }


def _with_group(records: pd.DataFrame) -> pd.DataFrame:
    """Records once per school and once more under ``school = "group"`` (only with two or
    more schools: one school's figures are not the group's)."""
    if records[Mobility.SCHOOL].nunique() < 2:
        return records
    return pd.concat([records, records.assign(**{Mobility.SCHOOL: GROUP})], ignore_index=True)


def outgoing_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Mobilities (records) and participants per school and academic year."""
    g = records.groupby([Mobility.SCHOOL, Mobility.ACADEMIC_YEAR], sort=True)
    return pd.DataFrame(
        {"mobilities": g.size(), "participants": g[Mobility.PARTICIPANTS].sum()}
    ).reset_index()


def enrolled_by_school_year(enrolment: pd.DataFrame) -> pd.DataFrame:
    """Enrolled students per school and year (genders summed)."""
    return (
        enrolment.groupby([Enrolment.SCHOOL, Enrolment.ACADEMIC_YEAR], as_index=False)[
            Enrolment.ENROLLED
        ]
        .sum()
        .rename(columns={Enrolment.SCHOOL: Mobility.SCHOOL})
    )


def outgoing_rate_by_school(records: pd.DataFrame, enrolment: pd.DataFrame) -> pd.DataFrame:
    """Outgoing rate = outgoing participants / enrolled students, per school and year.

    Base: enrolled students of the school that year (all genders).  Only school-years with an
    enrolment figure > 0 appear.  A student who went abroad twice counts twice (the sources
    count mobilities, not people), so the rate can slightly overstate the share of students.
    Wilson 95% CI; ``nan`` bounds when outgoing > enrolled (flagged ``exceeds_base``).
    """
    counts = outgoing_counts(records)
    enr = enrolled_by_school_year(enrolment)
    df = enr.merge(counts, on=[Mobility.SCHOOL, Mobility.ACADEMIC_YEAR], how="left")
    df = df[df[Enrolment.ENROLLED] > 0].fillna({"mobilities": 0, "participants": 0})
    out = [
        {
            Mobility.SCHOOL: r[Mobility.SCHOOL],
            Mobility.ACADEMIC_YEAR: int(r[Mobility.ACADEMIC_YEAR]),
            **_share_rows(float(r["participants"]), float(r[Enrolment.ENROLLED])),
            "exceeds_base": bool(r["participants"] > r[Enrolment.ENROLLED]),
        }
        for _, r in df.iterrows()
    ]
    return pd.DataFrame(out)


def outgoing_rate_group(records: pd.DataFrame, enrolment: pd.DataFrame) -> pd.DataFrame:
    """Group outgoing rate per year: participants of all schools with an enrolment figure that
    year / their enrolled students summed; ``n_schools`` says how many schools entered."""
    by = outgoing_rate_by_school(records, enrolment)
    if by.empty:
        return pd.DataFrame(
            columns=[Mobility.ACADEMIC_YEAR, "numerator", "denominator", "estimate"]
        )
    g = by.groupby(Mobility.ACADEMIC_YEAR)
    agg = pd.DataFrame(
        {
            "numerator": g["numerator"].sum(),
            "denominator": g["denominator"].sum(),
            "n_schools": g.size(),
        }
    ).reset_index()
    rows = [
        {
            Mobility.ACADEMIC_YEAR: int(r[Mobility.ACADEMIC_YEAR]),
            **_share_rows(float(r["numerator"]), float(r["denominator"])),
            "n_schools": int(r["n_schools"]),
        }
        for _, r in agg.iterrows()
    ]
    return pd.DataFrame(rows)


def activity_shares(records: pd.DataFrame) -> pd.DataFrame:
    """Share of participants per activity (study / traineeship / dual_degree), per school over
    all years and for the group.  Base: participants of the school."""
    rows = []
    for school, sub in _with_group(records).groupby(Mobility.SCHOOL, sort=True):
        n = float(sub[Mobility.PARTICIPANTS].sum())
        by_act = sub.groupby(Mobility.ACTIVITY)[Mobility.PARTICIPANTS].sum()
        for act in ACTIVITIES:
            rows.append(
                {
                    Mobility.SCHOOL: school,
                    Mobility.ACTIVITY: act,
                    **_share_rows(float(by_act.get(act, 0)), n),
                }
            )
    return pd.DataFrame(rows)


def duration_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Mean duration in months and shares lasting >= 3 and >= 6 months, per school and group.

    Base: participants whose record has a duration (a record of k participants counts k
    times).  Mean with a t 95% CI; shares with Wilson CIs.
    """
    rows = []
    known = records[records[Mobility.DURATION_MONTHS].notna()]
    for school, sub in _with_group(known).groupby(Mobility.SCHOOL, sort=True):
        w = sub[Mobility.PARTICIPANTS].to_numpy(dtype=float)
        m = sub[Mobility.DURATION_MONTHS].to_numpy(dtype=float)
        n = w.sum()
        mean = float((w * m).sum() / n)
        if n > 1:
            var = float((w * (m - mean) ** 2).sum() / (n - 1))
            se = math.sqrt(var / n)
            t = stats.t.ppf(0.975, n - 1)
            lo, hi = mean - t * se, mean + t * se
        else:
            se, lo, hi = math.nan, math.nan, math.nan
        rows.append(
            {
                Mobility.SCHOOL: school,
                "statistic": "mean_months",
                "numerator": float((w * m).sum()),
                "denominator": n,
                "estimate": mean,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
        for k in (3, 6):
            rows.append(
                {
                    Mobility.SCHOOL: school,
                    "statistic": f"share_ge_{k}m",
                    **_share_rows(float(w[m >= k - 1e-9].sum()), n),
                }
            )
    return pd.DataFrame(rows)


def destination_shares(
    records: pd.DataFrame, by: str = Mobility.COUNTRY, schools: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Share of participants per destination ``country`` or ``region``, for the group and the
    given schools.  Base: participants with a known destination (unknown ones are reported by
    the readers, not guessed)."""
    known = records[records[by].notna() & (records[by].astype(str) != "")]
    rows = []
    for unit in (GROUP, *schools):
        sub = known if unit == GROUP else known[known[Mobility.SCHOOL] == unit]
        n = float(sub[Mobility.PARTICIPANTS].sum())
        counts = sub.groupby(by)[Mobility.PARTICIPANTS].sum().sort_index()
        for value, x in counts.items():
            rows.append({Mobility.SCHOOL: unit, by: value, **_share_rows(float(x), n)})
    return pd.DataFrame(rows)


def euroregion_shares(
    records: pd.DataFrame, focus: str = "imt_nord_europe"
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Share of participants going to the Euroregion (BE, NL, DE) per school, and the focus
    school vs the rest of the group (difference with Newcombe's CI).

    Base: participants with a known destination country.
    """
    known = records[records[Mobility.COUNTRY].notna() & (records[Mobility.COUNTRY] != "")]
    known = known.assign(_euro=known[Mobility.COUNTRY].isin(EUROREGION))
    rows = []
    for school, sub in _with_group(known).groupby(Mobility.SCHOOL, sort=True):
        x = float(sub.loc[sub["_euro"], Mobility.PARTICIPANTS].sum())
        rows.append(
            {Mobility.SCHOOL: school, **_share_rows(x, float(sub[Mobility.PARTICIPANTS].sum()))}
        )
    f = known[known[Mobility.SCHOOL] == focus]
    r = known[known[Mobility.SCHOOL] != focus]
    x1, n1 = (
        float(f.loc[f["_euro"], Mobility.PARTICIPANTS].sum()),
        float(f[Mobility.PARTICIPANTS].sum()),
    )
    x2, n2 = (
        float(r.loc[r["_euro"], Mobility.PARTICIPANTS].sum()),
        float(r[Mobility.PARTICIPANTS].sum()),
    )
    d, lo, hi = newcombe_diff_ci(x1, n1, x2, n2)
    rest = _share_rows(x2, n2)
    comparison = {
        "focus": focus,
        "x_focus": x1,
        "n_focus": n1,
        "x_rest": x2,
        "n_rest": n2,
        "rest_estimate": rest["estimate"],
        "rest_ci_low": rest["ci_low"],
        "rest_ci_high": rest["ci_high"],
        "difference": d,
        "ci_low": lo,
        "ci_high": hi,
    }
    return pd.DataFrame(rows), comparison


def funding_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per school and group: Erasmus+-funded share (base: participants with a known funding
    source, Wilson CI), grant total in EUR and grant per mobility-month.

    ``grant_eur`` is the grant **per participant** of a record (schools report the grant per
    student), so the total is sum(grant_eur x participants) over records with a grant amount;
    grant per mobility-month = that total / sum(participants x duration_months) over records
    with both a grant and a duration.  Totals have no CI (administrative sums).
    """
    rows = []
    for school, sub in _with_group(records).groupby(Mobility.SCHOOL, sort=True):
        fund = sub[sub[Mobility.ERASMUS_FUNDED].notna()]
        funded = fund[Mobility.ERASMUS_FUNDED].astype(bool)
        x = float(fund.loc[funded, Mobility.PARTICIPANTS].sum())
        n = float(fund[Mobility.PARTICIPANTS].sum())
        rows.append({Mobility.SCHOOL: school, "statistic": "erasmus_share", **_share_rows(x, n)})
        g = sub[sub[Mobility.GRANT_EUR].notna()]
        if len(g) == 0:
            continue
        total = float((g[Mobility.GRANT_EUR] * g[Mobility.PARTICIPANTS]).sum())
        rows.append(
            {
                Mobility.SCHOOL: school,
                "statistic": "grant_total",
                "numerator": total,
                "denominator": float(g[Mobility.PARTICIPANTS].sum()),
                "estimate": total,
                "n_records": len(g),
            }
        )
        gm = g[g[Mobility.DURATION_MONTHS].notna()]
        mm = float((gm[Mobility.DURATION_MONTHS] * gm[Mobility.PARTICIPANTS]).sum())
        if mm > 0:
            eur = float((gm[Mobility.GRANT_EUR] * gm[Mobility.PARTICIPANTS]).sum())
            rows.append(
                {
                    Mobility.SCHOOL: school,
                    "statistic": "grant_per_month",
                    "numerator": eur,
                    "denominator": mm,
                    "estimate": eur / mm,
                    "n_records": len(gm),
                }
            )
    return pd.DataFrame(rows)


def budget_allocation(records: pd.DataFrame, budget: BudgetConfig) -> pd.DataFrame:
    """The grant envelope shared between schools by mobility-months in the budget year.

    mobility-months of a school = sum(participants x duration_months) over its records of
    ``budget.academic_year`` with a known duration; allocation = envelope x school months /
    all schools' months; per mobility = allocation / the school's participants that year
    (all its records, with or without a duration).
    """
    if budget.allocation != "mobility_months":
        raise ValueError(f"budget.allocation {budget.allocation!r}: only 'mobility_months' exists")
    year = records[records[Mobility.ACADEMIC_YEAR] == budget.academic_year]
    known = year[year[Mobility.DURATION_MONTHS].notna()]
    mm = (
        (known[Mobility.DURATION_MONTHS] * known[Mobility.PARTICIPANTS])
        .groupby(known[Mobility.SCHOOL])
        .sum()
    )
    part = year.groupby(Mobility.SCHOOL)[Mobility.PARTICIPANTS].sum()
    total = float(mm.sum())
    rows = []
    for school in sorted(set(part.index)):
        m = float(mm.get(school, 0.0))
        alloc = budget.envelope_eur * m / total if total > 0 else math.nan
        p = float(part.get(school, 0))
        rows.append(
            {
                Mobility.SCHOOL: school,
                "mobility_months": m,
                "participants": p,
                "share": m / total if total > 0 else math.nan,
                "allocation_eur": alloc,
                "per_mobility_eur": alloc / p if p > 0 else math.nan,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            Mobility.SCHOOL,
            "mobility_months",
            "participants",
            "share",
            "allocation_eur",
            "per_mobility_eur",
        ],
    )
