"""Cell-level helpers: missing keys, neutralising free text (numbers: tests/analysis/test_numbers.py)."""

from __future__ import annotations

import pytest

from analysis.ingest.text import match_key, neutralise_text, safe_value


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
