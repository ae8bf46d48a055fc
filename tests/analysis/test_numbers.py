"""The one number parser (analysis/numbers.py): French and English notations, and the
decimal convention of a file.  Expected values are written by hand from the notation."""

from __future__ import annotations

import pytest

from analysis.numbers import COMMA, POINT, decimal_convention, number_problem, parse_number


@pytest.mark.parametrize(
    ("raw", "convention", "expected"),
    [
        ("12", None, 12.0),
        ("-3.5", None, -3.5),
        ("4,99749866307854", None, 4.99749866307854),  # CPESR write.csv2 value
        ("1 234,5", None, 1234.5),
        ("1\u00a0234,5", None, 1234.5),  # NBSP thousands
        ("1\u202f234\u202f567", None, 1234567.0),  # narrow NBSP thousands
        ("1 234", None, 1234.0),
        ("1.234,5", None, 1234.5),
        ("1,234.5", None, 1234.5),
        ("1,234,567", None, 1234567.0),
        ("1.234.567", None, 1234567.0),
        ("12,5", POINT, 12.5),  # a comma before 1 digit can only be decimal
        ("3.25", COMMA, 3.25),  # a point before 2 digits can only be decimal
        ("1234,567", None, 1234.567),  # 4 digits before the comma: not a thousands group
        ("1,234", POINT, 1234.0),  # decimal-point file: thousands
        ("1,234", COMMA, 1.234),  # decimal-comma file: decimal comma
        ("1.234", POINT, 1.234),
        ("1.234", COMMA, 1234.0),
        ("1,234", None, None),  # unknown convention: not guessed
        ("1.234", None, None),
        ("1e3", None, 1000.0),
        (7, None, 7.0),
        (2.5, None, 2.5),
        ("", None, None),
        ("abc", None, None),
        ("12 %", None, None),
        ("1,2,3", None, None),
        ("12 34", None, None),
        ("inf", None, None),
        ("nan", None, None),
    ],
)
def test_parse_number(raw, convention, expected):
    assert parse_number(raw, convention) == expected


def test_ambiguous_is_named_not_guessed():
    assert number_problem("1,234", None)[0] == "ambiguous_number"
    assert number_problem("abc", None)[0] == "unparseable_number"
    assert number_problem("1,234", COMMA)[0] == "unparseable_number"  # not ambiguous there


@pytest.mark.parametrize(
    ("cells", "delimiter", "expected"),
    [
        (["3", "4,99", "1,234"], ",", COMMA),  # one cell only a decimal comma can explain
        (["3", "1 234,5"], None, COMMA),
        (["3", "2.5", "1,234"], ",", POINT),
        (["1,234.5"], ",", POINT),
        (["1,234", "12"], ";", COMMA),  # no evidence: ';' files are French-style
        (["1,234", "12"], ",", None),  # no evidence at all
        (["2,5", "2.5"], ",", None),  # both marks: the cells disagree
        (["1,234"], "\t", None),
    ],
)
def test_decimal_convention(cells, delimiter, expected):
    assert decimal_convention(cells, delimiter) == expected
