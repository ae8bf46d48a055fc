"""Indicators on a tiny hand-made record set; every expected value is worked out by hand.

Records (participants x months):
  r1 imt_nord_europe 2019 study       BE  2 x 5   Erasmus+  grant 1000 / student
  r2 imt_nord_europe 2019 traineeship US  1 x 6   not Erasmus+
  r3 imt_nord_europe 2020 dual_degree DE  1 x 24  Erasmus+  grant 2400 / student
  r4 imt_atlantique  2019 study       ES  3 x 2   Erasmus+
  r5 imt_atlantique  2020 study       NL  1 x ?   funding unknown
Enrolment: imt_nord_europe 2019 F 10 + M 30 = 40, 2020 50; imt_atlantique 100 and 100.
"""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.config import BudgetConfig
from analysis.mobility import indicators as ind
from analysis.schema import Enrolment, Mobility

INE, ATL = "imt_nord_europe", "imt_atlantique"


def records() -> pd.DataFrame:
    rows = [
        (INE, 2019, "study", "BE", "euroregion", 2, 5.0, True, 1000.0, 1),
        (INE, 2019, "traineeship", "US", "north_america", 1, 6.0, False, np.nan, 2),
        (INE, 2020, "dual_degree", "DE", "euroregion", 1, 24.0, True, 2400.0, 3),
        (ATL, 2019, "study", "ES", "other_europe", 3, 2.0, True, np.nan, 4),
        (ATL, 2020, "study", "NL", "euroregion", 1, np.nan, None, np.nan, 5),
    ]
    cols = [Mobility.SCHOOL, Mobility.ACADEMIC_YEAR, Mobility.ACTIVITY, Mobility.COUNTRY,
            "region", Mobility.PARTICIPANTS, Mobility.DURATION_MONTHS, Mobility.ERASMUS_FUNDED,
            Mobility.GRANT_EUR, Mobility.SOURCE_ROW]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    return df.assign(**{Mobility.SOURCE_FILE: "hand.csv"})


def enrolment() -> pd.DataFrame:
    rows = [(INE, 2019, "F", 10), (INE, 2019, "M", 30), (INE, 2020, "F", 50),
            (ATL, 2019, "F", 100), (ATL, 2020, "M", 100)]  # fmt: skip
    return pd.DataFrame(rows, columns=list(Enrolment.SCHEMA.required))


def test_wilson_reference_values():
    # Newcombe (1998, Stat Med 17:857) Table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775
    assert ind.wilson_ci(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert ind.wilson_ci(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    # 10/100: the textbook 0.0552 to 0.1744
    assert ind.wilson_ci(10, 100) == pytest.approx((0.0552, 0.1744), abs=5e-5)
    assert all(math.isnan(v) for v in ind.wilson_ci(1, 0))


def test_newcombe_reference_values():
    # Newcombe (1998, Stat Med 17:873) Table II, method 10: 56/70 - 48/80 -> 0.0524 to 0.3339,
    # 9/10 - 3/10 -> 0.1705 to 0.8090
    d, lo, hi = ind.newcombe_diff_ci(56, 70, 48, 80)
    assert (d, lo, hi) == pytest.approx((0.2, 0.0524, 0.3339), abs=5e-5)
    d, lo, hi = ind.newcombe_diff_ci(9, 10, 3, 10)
    assert (d, lo, hi) == pytest.approx((0.6, 0.1705, 0.8090), abs=5e-5)


def test_counts():
    c = ind.outgoing_counts(records()).set_index([Mobility.SCHOOL, Mobility.ACADEMIC_YEAR])
    assert c.loc[(INE, 2019)].tolist() == [2, 3]  # r1 + r2: 2 records, 2 + 1 participants
    assert c.loc[(INE, 2020)].tolist() == [1, 1]
    assert c.loc[(ATL, 2019)].tolist() == [1, 3]


def test_outgoing_rate():
    r = ind.outgoing_rate_by_school(records(), enrolment()).set_index(
        [Mobility.SCHOOL, Mobility.ACADEMIC_YEAR]
    )
    assert r.loc[(INE, 2019), "estimate"] == pytest.approx(3 / 40)  # 3 participants / 40
    assert r.loc[(INE, 2019), "denominator"] == 40
    lo, hi = ind.wilson_ci(3, 40)
    assert (r.loc[(INE, 2019), "ci_low"], r.loc[(INE, 2019), "ci_high"]) == (lo, hi)
    assert r.loc[(ATL, 2020), "estimate"] == pytest.approx(1 / 100)
    g = ind.outgoing_rate_group(records(), enrolment()).set_index(Mobility.ACADEMIC_YEAR)
    assert g.loc[2019, "estimate"] == pytest.approx(6 / 140)  # (3 + 3) / (40 + 100)
    assert g.loc[2020, "estimate"] == pytest.approx(2 / 150)  # (1 + 1) / (50 + 100)
    assert g.loc[2019, "n_schools"] == 2


def test_activity_shares():
    a = ind.activity_shares(records()).set_index([Mobility.SCHOOL, Mobility.ACTIVITY])
    # imt_nord_europe: 4 participants: study 2, traineeship 1, dual degree 1
    assert a.loc[(INE, "study"), "estimate"] == pytest.approx(2 / 4)
    assert a.loc[(INE, "dual_degree"), "estimate"] == pytest.approx(1 / 4)
    assert a.loc[(ATL, "study"), "estimate"] == 1.0  # 4 of 4
    assert a.loc[(ATL, "traineeship"), "estimate"] == 0.0
    # group: 8 participants, study 2 + 3 + 1 = 6
    assert a.loc[("group", "study"), "estimate"] == pytest.approx(6 / 8)
    assert a.loc[("group", "study"), "denominator"] == 8


def test_duration():
    d = ind.duration_summary(records()).set_index([Mobility.SCHOOL, "statistic"])
    # imt_nord_europe months per participant: 5, 5, 6, 24 -> mean 40 / 4 = 10
    m = d.loc[(INE, "mean_months")]
    assert m["estimate"] == pytest.approx(10.0)
    # sample variance ((-5)^2 + (-5)^2 + (-4)^2 + 14^2) / 3 = 262 / 3; se = sqrt(262/3/4) = 4.6726
    assert m["se"] == pytest.approx(math.sqrt(262 / 3 / 4))
    # t(0.975, 3) = 3.182446 -> 10 +- 14.8702
    assert m["ci_low"] == pytest.approx(10 - 3.182446 * 4.672615, abs=1e-4)
    assert d.loc[(INE, "share_ge_3m"), "estimate"] == 1.0  # 4 of 4
    assert d.loc[(INE, "share_ge_6m"), "estimate"] == pytest.approx(2 / 4)  # 6 and 24
    # imt_atlantique: only r4 has a duration (3 x 2 months); r5 is not in the base
    assert d.loc[(ATL, "mean_months"), "estimate"] == 2.0
    assert d.loc[(ATL, "share_ge_3m"), "denominator"] == 3
    # group: (10 + 6 + 24 + 6) / 7 = 46 / 7
    assert d.loc[("group", "mean_months"), "estimate"] == pytest.approx(46 / 7)


def test_destinations_and_regions():
    c = ind.destination_shares(records(), schools=(INE,)).set_index(
        [Mobility.SCHOOL, Mobility.COUNTRY]
    )
    # group: 8 participants: BE 2, US 1, DE 1, ES 3, NL 1
    assert c.loc[("group", "ES"), "estimate"] == pytest.approx(3 / 8)
    assert c.loc[(INE, "BE"), "estimate"] == pytest.approx(2 / 4)
    r = ind.destination_shares(records(), by="region").set_index([Mobility.SCHOOL, "region"])
    assert r.loc[("group", "euroregion"), "estimate"] == pytest.approx(4 / 8)  # BE2 DE1 NL1


def test_euroregion_comparison():
    shares, cmp = ind.euroregion_shares(records(), focus=INE)
    s = shares.set_index(Mobility.SCHOOL)["estimate"]
    assert s[INE] == pytest.approx(3 / 4)  # BE 2 + DE 1 of 4
    assert s[ATL] == pytest.approx(1 / 4)  # NL 1 of ES 3 + NL 1
    assert cmp["difference"] == pytest.approx(0.5)
    d, lo, hi = ind.newcombe_diff_ci(3, 4, 1, 4)
    assert (cmp["ci_low"], cmp["ci_high"]) == (lo, hi)


def test_funding():
    f = ind.funding_summary(records()).set_index([Mobility.SCHOOL, "statistic"])
    # imt_nord_europe: funding known for 4 participants, Erasmus+ 2 + 1 = 3
    assert f.loc[(INE, "erasmus_share"), "estimate"] == pytest.approx(3 / 4)
    # imt_atlantique: r5 unknown, r4 3 of 3
    assert f.loc[(ATL, "erasmus_share"), "estimate"] == 1.0
    assert f.loc[("group", "erasmus_share"), "estimate"] == pytest.approx(6 / 7)
    # grant total = 1000 x 2 + 2400 x 1 = 4400; per mobility-month = 4400 / (2x5 + 1x24) = 4400/34
    assert f.loc[(INE, "grant_total"), "estimate"] == 4400.0
    assert f.loc[(INE, "grant_per_month"), "estimate"] == pytest.approx(4400 / 34)
    assert (ATL, "grant_total") not in f.index  # no grant data: no figure, not zero


def test_budget_allocation():
    b = ind.budget_allocation(records(), BudgetConfig(envelope_eur=90000, academic_year=2019))
    b = b.set_index(Mobility.SCHOOL)
    # 2019 mobility-months: imt_nord_europe 2x5 + 1x6 = 16, imt_atlantique 3x2 = 6, total 22
    assert b.loc[INE, "mobility_months"] == 16
    assert b.loc[INE, "allocation_eur"] == pytest.approx(90000 * 16 / 22)  # 65,454.55
    assert b.loc[ATL, "allocation_eur"] == pytest.approx(90000 * 6 / 22)  # 24,545.45
    assert b.loc[INE, "per_mobility_eur"] == pytest.approx(90000 * 16 / 22 / 3)  # 21,818.18
    assert b["allocation_eur"].sum() == pytest.approx(90000)
    with pytest.raises(ValueError, match="allocation"):
        ind.budget_allocation(
            records(), BudgetConfig(envelope_eur=90000, academic_year=2019, allocation="per_head")
        )


def test_inputs_not_mutated():
    r, e = records(), enrolment()
    r0, e0 = r.copy(), e.copy()
    ind.outgoing_rate_by_school(r, e)
    ind.euroregion_shares(r)
    ind.funding_summary(r)
    pd.testing.assert_frame_equal(r, r0)
    pd.testing.assert_frame_equal(e, e0)
