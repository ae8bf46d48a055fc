"""The codebook's shape (analysis/ingest/codebook_schema.py): unknown keys and wrong types are one
line ``codebook.toml:LINE: key: message``, with a suggestion for a near-miss name."""

from __future__ import annotations

import pytest

from analysis.ingest import parse_codebook
from analysis.ingest.codebook_schema import VARIABLE_KEYS

from .test_codebook import BRIEF_SHAPE, _error, _line_of


@pytest.mark.parametrize(
    ("old", "new", "fragment", "words"),
    [
        ("version = 1", "version = 1\nvarables = 2", "varables", "varables: unknown section; did you mean `variables`?"),
        ('label = { en = "School"', 'lable = { en = "School"', "lable", "variables.school.lable: unknown key; did you mean `label`?"),
        ('direction = "ascending"', 'direction = "ascending"\nscales = [1, 5]', "scales", "did you mean `scale`?"),
        ('platform = "qualtrics"', 'platform = "qualtrix"', "qualtrix", "did you mean `qualtrics`?"),
        ('language = "en"', 'langauge = "en"', "langauge", "sources[0].langauge: unknown key; did you mean `language`?"),
        ('option = "euroregion" }', 'opton = "euroregion" }', "opton", "sources[0].columns.Q8_1.opton: unknown key; did you mean `option`?"),
        ("scale = [1, 5]\ndirection", 'scale = "1-5"\ndirection', 'scale = "1-5"', "variables.barrier_finance.scale: must be an array of integers"),
        ('"Y" = 1, "N" = 0,', '"Y" = true, "N" = 0,', '"Y" = true', "must be a string or a number, got true"),
        ('waves = ["2021", "2023"]', "waves = [2021, 2023]", "waves =", "breaks[0].waves[0]: must be a string, got 2021"),
        ('waves = ["2021", "2023"]', 'waves = ["2023"]', "waves =", "breaks[0].waves: must have at least 2 items"),
        ("[[sources]]", "[sources]", "[sources]", "write `[[sources]]` (double brackets)"),
        ('wave = "2023"', 'wave = "2023"\nwave = "2021"', 'wave = "2021"', "`sources[0].wave` is given twice"),
        ('id = "imt_survey_2023"\n', "", "[[sources]]", "sources[0].id: required key is missing"),
        ('Q1 = "school"', 'Q1 = "schol"', 'Q1 = "schol"', "unknown variable 'schol' (not in [variables]); did you mean `school`?"),
    ],
)  # fmt: skip
def test_codebook_shape_errors_are_one_line_with_the_line_and_a_suggestion(
    old, new, fragment, words
):
    assert old in BRIEF_SHAPE
    text = BRIEF_SHAPE.replace(old, new, 1)
    msg = _error(text)
    assert words in msg, msg
    assert msg.startswith(f"cb.toml:{_line_of(text, fragment)}: "), msg


def test_the_documented_shape_still_parses_and_every_variable_key_is_in_the_schema():
    assert parse_codebook(BRIEF_SHAPE, "cb.toml").version == 1
    assert {"type", "label", "values", "scale", "direction", "labels", "options"} <= VARIABLE_KEYS
