"""Cell-level helpers: numbers in French/English notation, missing keys, neutralising free text."""

from __future__ import annotations

import pytest

from analysis.ingest.text import match_key, neutralise_text, parse_number, safe_value


@pytest.mark.parametrize(
    ("raw", "decimal_comma", "expected"),
    [
        ("12", None, 12.0),
        ("-3.5", None, -3.5),
        ("4,99749866307854", None, 4.99749866307854),  # CPESR write.csv2 value
        ("1 234,5", None, 1234.5),
        ("1\u00a0234,5", None, 1234.5),  # NBSP thousands
        ("1\u202f234\u202f567", None, 1234567.0),  # narrow NBSP thousands
        ("1.234,5", None, 1234.5),
        ("1,234.5", None, 1234.5),
        ("1,234", False, 1234.0),  # English file: thousands
        ("1,234", True, 1.234),  # French file: decimal comma
        ("1e3", None, 1000.0),
        ("", None, None),
        ("abc", None, None),
        ("12 %", None, None),
        ("1,2,3", None, None),
        ("inf", None, None),
    ],
)
def test_parse_number(raw, decimal_comma, expected):
    assert parse_number(raw, decimal_comma) == expected


@pytest.mark.parametrize(
    "formula", ["=1+1", "+33 6 12", "-2+3", "@SUM(A1:A2)", "  =cmd|' /C calc'!A0"]
)
def test_formulas_are_defused(formula):
    out = neutralise_text(formula)
    assert out == "'" + formula


def test_html_and_control_characters():
    out = neutralise_text("<script>alert('x')</script>\x00\x1b[31m ok\r\nnext\u202eevil")
    assert "<" not in out and ">" not in out and "\x00" not in out and "\x1b" not in out
    assert "\u202e" not in out and "&lt;script&gt;" in out and "ok\nnext" in out


def test_safe_value_truncates():
    assert len(safe_value("x" * 500)) == 60 and safe_value(None) == ""


def test_match_key_normalises_spaces_apostrophes_case():
    assert match_key("  Année\u00a0d\u2019études ") == match_key("année d'études")
    assert match_key("OUI") == "oui"
