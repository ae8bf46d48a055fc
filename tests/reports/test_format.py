"""Number formats per language (expected strings written by hand)."""

from __future__ import annotations

import math

from reports.format import (
    fmt_academic_year,
    fmt_date,
    fmt_eur,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_range,
)

NBSP = "\u00a0"


def test_percent_english_and_french():
    # 412/655 = 0.62900763... -> 62.9 (the checklist's example)
    assert fmt_percent(412 / 655, "en") == "62.9%"
    assert fmt_percent(412 / 655, "fr") == f"62,9{NBSP}%"
    assert fmt_percent(0.05, "fr", 0) == f"5{NBSP}%"


def test_thousands_separators():
    assert fmt_int(12345, "en") == "12,345"
    assert fmt_int(12345, "fr") == f"12{NBSP}345"
    assert fmt_int(1234567.4, "fr") == f"1{NBSP}234{NBSP}567"
    assert fmt_number(1234.5678, "fr", 2) == f"1{NBSP}234,57"


def test_negative_and_zero():
    assert fmt_number(-0.0423 * 100, "en", 1) == "\u22124.2"
    assert fmt_number(-0.0001, "en", 1) == "0.0"  # no "-0.0"


def test_missing_values_are_a_dash():
    for v in (None, math.nan, math.inf):
        assert fmt_percent(v, "en") == "\u2013"
        assert fmt_int(v, "fr") == "\u2013"
    assert fmt_range("\u2013", "5.0") == "\u2013"


def test_p_values_and_ranges():
    assert fmt_p(0.0004, "en") == "<0.001"
    assert fmt_p(0.0004, "fr") == "<0,001"
    assert fmt_p(0.04212, "fr") == "0,042"
    assert fmt_range("59.1", "66.5") == "59.1\u201366.5"


def test_money_dates_years():
    assert fmt_eur(90000, "en") == "€90,000"
    assert fmt_eur(90000, "fr") == f"90{NBSP}000{NBSP}€"
    assert fmt_date("2024-06-30", "fr") == "30/06/2024"
    assert fmt_date("2024-06-30", "en") == "2024-06-30"
    assert fmt_academic_year(2019) == "2019-20"
    assert fmt_academic_year("1999") == "1999-00"
