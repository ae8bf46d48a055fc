"""Observation 12.10: small-cell protection could be undone. The attacker catches the old rule
and the new rule resists it.

The expected recoveries are worked out by hand from the tiny tables below and checked with an
attacker written here with ``scipy.optimize.linprog`` from the relations a reader can write
down, independently of :mod:`analysis.disclosure_attack` (which is checked against it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysis.disclosure import apply_disclosure_control
from analysis.disclosure_attack import attack
from analysis.results import Estimate, ResultSet, ResultTable, domain_of
from tests.disclosure_attack import assert_resists_attack

T = "survey.dual_degree"
V = "interest_dual_degree"


def _likert(school: str, counts: list[int], weighted: bool = False) -> list[Estimate]:
    """Levels 1-5, mean and top-2 of one school from unweighted counts (as the pipeline keys
    them), each level carrying its unweighted count ``n_cell``."""
    n = sum(counts)
    dom = domain_of(school=school)
    base = dict(table=T, variable=V, domain=dom, n_unweighted=n, weighted=weighted)
    ests = [
        Estimate(
            f"survey.{V}.distribution.by_school.{school}.{k}",
            statistic="proportion",
            estimate=c / n,
            level=str(k),
            se=0.01,
            ci_low=0.0,
            ci_high=1.0,
            n_cell=c,
            **base,
        )
        for k, c in enumerate(counts, start=1)
    ]
    ests.append(
        Estimate(
            f"survey.{V}.mean.by_school.{school}",
            statistic="mean",
            estimate=sum(k * c for k, c in enumerate(counts, start=1)) / n,
            se=0.1,
            **base,
        )
    )
    ests.append(
        Estimate(
            f"survey.{V}.top2.by_school.{school}",
            statistic="proportion",
            estimate=(counts[3] + counts[4]) / n,
            level="4+5",
            n_cell=counts[3] + counts[4],
            **base,
        )
    )
    return ests


def _rs(ests: list[Estimate]) -> ResultSet:
    return ResultSet({"title": {"en": "t"}}, (ResultTable(T, "survey", tuple(ests)),))


# ----------------------------------------------------------------------- old rule (minimal copy)


def _old_rule(ests: list[Estimate], min_count: int = 5) -> list[Estimate]:
    """The rule on main before this change (git 9f2846b, analysis/disclosure.py), reduced to a
    Likert table of one school: a proportion is hidden when round(share x n) < min_count; the
    cells of one (statistic, variable, domain) with a level, the top-2 box included, form one
    line, and a line with one hidden cell gets its smallest other cell hidden. The mean has no
    line: it stays."""
    from dataclasses import replace

    hidden = {
        e.key
        for e in ests
        if e.statistic == "proportion" and 0 < round(e.estimate * e.n_unweighted) < min_count
    }
    line = [e for e in ests if e.statistic == "proportion" and e.level is not None]
    if sum(e.key in hidden for e in line) == 1:
        other = min(
            (e for e in line if e.key not in hidden),
            key=lambda e: (round(e.estimate * e.n_unweighted), e.key),
        )
        hidden.add(other.key)
    return [
        replace(e, estimate=None, se=None, ci_low=None, ci_high=None, n_unweighted=None,
                suppressed="count")
        if e.key in hidden
        else e
        for e in ests
    ]  # fmt: skip


# ----------------------------------------------------------------------- independent attacker


def _hand_attack(published: list[Estimate], n: int) -> dict[str, tuple[float, float]]:
    """Min and max count of each hidden level, from the relations of one school's table:
    levels add up to n, top-2 = level 4 + level 5, mean x n = sum(level x count)."""
    by = {e.level or e.statistic: e for e in published}
    levels = [str(k) for k in range(1, 6)]
    free = [lv for lv in levels if by[lv].estimate is None]
    a_eq, b_eq = [], []

    def known(lv: str) -> float:
        return by[lv].estimate * n

    rows = [([1.0] * 5, float(n))]  # partition
    if by["4+5"].estimate is not None:
        rows.append(([0, 0, 0, 1.0, 1.0], by["4+5"].estimate * n))
    if by["mean"].estimate is not None:
        rows.append(([1.0, 2.0, 3.0, 4.0, 5.0], by["mean"].estimate * n))
    for coefs, rhs in rows:
        a_eq.append([coefs[levels.index(lv)] for lv in free])
        b_eq.append(
            rhs - sum(coefs[i] * known(lv) for i, lv in enumerate(levels) if lv not in free)
        )
    out = {}
    for j, lv in enumerate(free):
        c = np.zeros(len(free))
        c[j] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, n)] * len(free))
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, n)] * len(free))
        out[lv] = (lo.fun, -hi.fun)
    return out


def test_dual_degree_attack_recovers_the_level_hidden_by_the_old_rule():
    # one school, 40 respondents answering 1..5: 6, 10, 12, 9, 3. The old rule hides level 5
    # (3 < 5) and the smallest other cell of the line, level 1 (6). Published: levels 2-4,
    # top-2 = 12/40, mean = (6 + 20 + 36 + 36 + 15)/40 = 113/40. By hand: level 5 = top-2 - level
    # 4 = 12 - 9 = 3, and level 1 = 40 - 10 - 12 - 9 - 3 = 6: both recovered exactly.
    ests = _likert("a", [6, 10, 12, 9, 3])
    old = _old_rule(ests)
    assert {e.level for e in old if e.suppressed} == {"1", "5"}
    hand = _hand_attack(old, 40)
    assert hand["5"] == pytest.approx((3.0, 3.0), abs=1e-4)
    assert hand["1"] == pytest.approx((6.0, 6.0), abs=1e-4)
    # the library attacker finds the same
    ivs = attack(old)
    lv5 = ivs[f"survey.{V}.distribution.by_school.a.5"]
    assert lv5.low * lv5.persons_per_unit == pytest.approx(3.0, abs=1e-4)
    assert not lv5.protected
    with pytest.raises(AssertionError, match="attacker narrows"):
        assert_resists_attack(_rs(old))


def test_dual_degree_new_rule_resists_the_attack():
    ests = _likert("a", [6, 10, 12, 9, 3])
    out, report = apply_disclosure_control(_rs(ests))
    pub = list(out.estimates())
    hidden = {e.level or e.statistic for e in pub if e.suppressed}
    # the mean is hidden with its distribution; level 5 with enough other cells that top-2 and
    # the partition no longer pin it
    assert "5" in hidden and "mean" in hidden
    for lv, (lo, hi) in _hand_attack(pub, 40).items():
        assert hi - lo >= 5 - 1e-6, (lv, lo, hi)
    assert_resists_attack(out)
    assert report["differencing_check"]["passed"] is True
    assert all(e.n_cell is None for e in pub), "unweighted cell counts are never published"


def test_complement_eleven_of_twelve_yes_reveals_the_one_no():
    e = Estimate(
        "survey.intends_abroad.by_school.a",
        "survey.experience",
        "proportion",
        "intends_abroad",
        11 / 12,
        domain_of(school="a"),
        n_unweighted=12,
        n_cell=11,
    )
    out, report = apply_disclosure_control(
        ResultSet({}, (ResultTable("survey.experience", "survey", (e,)),))
    )
    assert out.estimate(e.key).suppressed == "complement"
    assert report["primary_complement"] == 1


def test_weighted_share_uses_the_unweighted_count_of_respondents():
    # weighted share 0.30 of 40 respondents (old rule: round(0.30 x 40) = 12, shown) rests on
    # 3 respondents with big weights: hidden. Weighted 0.10 of 40 (old: 4, hidden) rests on 8.
    def w(key, p, n_cell):
        return Estimate(
            key,
            "survey.experience",
            "proportion",
            "went_abroad",
            p,
            domain_of(school=key),
            n_unweighted=40,
            n_cell=n_cell,
            weighted=True,
            weight_base=400.0,
        )

    out, _ = apply_disclosure_control(
        ResultSet(
            {}, (ResultTable("survey.experience", "survey", (w("a", 0.3, 3), w("b", 0.1, 8))),)
        )
    )
    assert out.estimate("a").suppressed == "count"
    assert out.estimate("b").suppressed is None


def test_destinations_hide_sweden_not_the_united_kingdom_or_italy():
    # 150 outgoing students: GB 63, IT 48, DE 30, SE 6, IS 3. IS is hidden (3 < 5); the shares
    # add up to 1, so one more country must go: the smallest, Sweden (IS + SE = 9 students, IS
    # anywhere in 0..9), never the United Kingdom or Italy.
    counts = {"GB": 63, "IT": 48, "DE": 30, "SE": 6, "IS": 3}
    ests = tuple(
        Estimate(
            f"mobility.destinations.country.{c}.group",
            "mobility.destinations",
            "share",
            "country",
            k / 150,
            domain_of(country=c),
            level=c,
            n_unweighted=150,
        )
        for c, k in counts.items()
    )
    out, _ = apply_disclosure_control(
        ResultSet({}, (ResultTable("mobility.destinations", "mobility", ests),))
    )
    hidden = {e.level for e in out.estimates() if e.suppressed}
    assert hidden == {"IS", "SE"}
    ivs = assert_resists_attack(out)
    iv = ivs["mobility.destinations.country.IS.group"]
    assert iv.low * iv.persons_per_unit == pytest.approx(0.0, abs=1e-4)
    assert iv.high * iv.persons_per_unit == pytest.approx(9.0, abs=1e-4)


def test_a_mean_hidden_for_its_small_base_is_not_recovered_from_the_group_mean():
    # durations: school x 4 people (mean 5.0, base rule), y 30 people (mean 4.0), group 34
    # (mean (20 + 120) / 34). Group x 34 - y x 30 = 20 = x's sum: the old rule left it there.
    def m(key, mean, n, **dims):
        return Estimate(
            key, "mobility.duration", "mean", "duration_months", mean, domain_of(**dims),
            n_unweighted=n,
        )  # fmt: skip

    ests = (
        m("d.x", 5.0, 4, school="x"),
        m("d.y", 4.0, 30, school="y"),
        m("d.g", 140 / 34, 34),
    )
    out, _ = apply_disclosure_control(
        ResultSet({}, (ResultTable("mobility.duration", "mobility", ests),))
    )
    hidden = {e.key for e in out.estimates() if e.suppressed}
    assert "d.x" in hidden and len(hidden) >= 2
    assert_resists_attack(out)


def test_a_region_total_gives_back_a_country_hidden_with_one_in_another_region():
    # 85 students: BE 40, DE 27, JP 10, MA 5, KR 3 (hidden); regions published too: euroregion
    # 67, asia 13, africa 5. Hiding Morocco (the smallest other country) closes the country
    # partition (KR + MA = 8) but asia - JP = 13 - 10 = 3 gives Korea back exactly.
    countries = {"BE": 40, "DE": 27, "JP": 10, "MA": 5, "KR": 3}
    regions = {"euroregion": 67, "asia": 13, "africa": 5}

    def share(by, value, k, suppressed=None):
        return Estimate(
            f"mobility.destinations.{by}.{value}.group",
            "mobility.destinations",
            "share",
            by,
            None if suppressed else k / 85,
            domain_of(**{by: value}),
            level=value,
            n_unweighted=None if suppressed else 85,
            suppressed=suppressed,
        )

    naive = [share("country", c, k, "count" if c in ("KR", "MA") else None)
             for c, k in countries.items()]  # fmt: skip
    naive += [share("region", r, k) for r, k in regions.items()]
    kr = attack(naive)["mobility.destinations.country.KR.group"]
    assert kr.low * kr.persons_per_unit == pytest.approx(3.0, abs=1e-4)
    assert kr.high * kr.persons_per_unit == pytest.approx(3.0, abs=1e-4)

    raw = tuple(share("country", c, k) for c, k in countries.items()) + tuple(
        share("region", r, k) for r, k in regions.items()
    )
    out, _ = apply_disclosure_control(
        ResultSet({}, (ResultTable("mobility.destinations", "mobility", raw),))
    )
    hidden = {e.level for e in out.estimates() if e.suppressed}
    assert "KR" in hidden and "BE" not in hidden and "DE" not in hidden
    assert_resists_attack(out)


def test_a_count_hidden_in_one_table_is_hidden_where_it_is_published_again():
    # school a, 2023: 3 outgoing participants (mobility.counts) and the outgoing rate 3 / 400
    # (mobility.outgoing_rate, rate x enrolment = the same 3): both hidden, with b's pair.
    def cnt(s, k):
        return Estimate(
            f"mobility.counts.participants.{s}.2023", "mobility.counts", "count",
            "participants", float(k), domain_of(school=s, academic_year=2023),
            level="participants", n_unweighted=k,
        )  # fmt: skip

    def rate(s, k, n):
        return Estimate(
            f"mobility.outgoing_rate.{s}.2023", "mobility.outgoing_rate", "rate",
            "outgoing_rate", k / n, domain_of(school=s, academic_year=2023), n_unweighted=n,
        )  # fmt: skip

    group = Estimate(
        "mobility.outgoing_rate_group.2023", "mobility.outgoing_rate_group", "rate",
        "outgoing_rate", 43 / 900, domain_of(academic_year=2023), n_unweighted=900,
    )  # fmt: skip
    tables = (
        ResultTable("mobility.counts", "mobility", (cnt("a", 3), cnt("b", 40))),
        ResultTable("mobility.outgoing_rate", "mobility", (rate("a", 3, 400), rate("b", 40, 500))),
        ResultTable("mobility.outgoing_rate_group", "mobility", (group,)),
    )
    out, _ = apply_disclosure_control(ResultSet({}, tables))
    h = {e.key for e in out.estimates() if e.suppressed}
    assert {"mobility.counts.participants.a.2023", "mobility.outgoing_rate.a.2023"} <= h
    # the group rate x 900 = 43 = a + b: b (or the group) must go too
    assert len(h) >= 3
    assert_resists_attack(out)


def test_a_difference_is_hidden_with_the_share_it_would_give_back():
    # women 60 % of 50 (n_cell 30), men 40 % of 60 (24), X 2 of 6 (base rule); group 56/116.
    # X = group - F - M: one of F/M is hidden; F - M published would give it back.
    def p(g, k, n):
        return Estimate(
            f"survey.intends_abroad.by_gender.{g}", "survey.experience", "proportion",
            "intends_abroad", k / n, domain_of(gender=g), n_unweighted=n, n_cell=k,
        )  # fmt: skip

    grp = Estimate(
        "survey.intends_abroad", "survey.experience", "proportion", "intends_abroad",
        56 / 116, n_unweighted=116, n_cell=56,
    )  # fmt: skip
    diff = Estimate(
        "comparisons.intends_abroad.difference.by_gender.F_vs_M", "comparisons.differences",
        "difference", "intends_abroad", 0.2, domain_of(gender="F_vs_M"), n_unweighted=110,
    )  # fmt: skip
    rs = ResultSet(
        {},
        (
            ResultTable("survey.experience", "survey", (p("F", 30, 50), p("M", 24, 60),
                        p("X", 2, 6), grp)),
            ResultTable("comparisons.differences", "comparisons", (diff,)),
        ),
    )  # fmt: skip
    out, _ = apply_disclosure_control(rs)
    h = {e.key: e.suppressed for e in out.estimates() if e.suppressed}
    assert h["survey.intends_abroad.by_gender.X"] == "base"
    assert diff.key in h
    assert_resists_attack(out)


def test_activities_that_do_not_cover_the_base_are_not_a_closed_partition():
    # 100 participants: study 60, traineeship 37, dual_degree 2 (hidden), 1 with another
    # activity: the levels add up to 99, not 100. No crash, and the hidden cell is protected.
    ests = tuple(
        Estimate(
            f"mobility.activity.{a}.group", "mobility.activity", "share", "activity", k / 100,
            level=a, n_unweighted=100,
        )
        for a, k in (("study", 60), ("traineeship", 37), ("dual_degree", 2))
    )  # fmt: skip
    out, rep = apply_disclosure_control(
        ResultSet({}, (ResultTable("mobility.activity", "mobility", ests),))
    )
    assert out.estimate("mobility.activity.dual_degree.group").suppressed == "count"
    assert rep["differencing_check"]["passed"] is True
    assert_resists_attack(out)


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=25), min_size=5, max_size=5).filter(
            lambda c: sum(c) > 0
        ),
        min_size=2,
        max_size=3,
    )
)
def test_property_likert_tables_by_school_resist_the_attack(grid):
    """Property: schools x levels 1-5 with mean and top-2 per school and for the group (the
    survey.dual_degree shape, unweighted): after control every hidden level keeps an interval
    of at least min(5, n) persons, and every small cell or complement is hidden."""
    ests = []
    for i, counts in enumerate(grid):
        ests += _likert(f"s{i}", counts)
    total = [sum(c[k] for c in grid) for k in range(5)]
    ests += [
        replace(e, domain=(), key=e.key.replace(".by_school.g", "")) for e in _likert("g", total)
    ]
    out, report = apply_disclosure_control(_rs(ests))
    h = {e.key for e in out.estimates() if e.suppressed}
    for i, counts in enumerate(grid):
        n = sum(counts)
        for k, c in enumerate(counts, start=1):
            if 0 < c < 5 or 0 < n - c < 5 or n < 10:
                assert f"survey.{V}.distribution.by_school.s{i}.{k}" in h
    assert_resists_attack(out)
    assert report["differencing_check"]["passed"] is True
