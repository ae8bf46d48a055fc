"""Codebook parsing and validation: the documented shape parses; errors name the line."""

from __future__ import annotations

import pytest

from analysis.ingest import CodebookError, parse_codebook

from .conftest import FIXTURES

BRIEF_SHAPE = """\
version = 1
[variables.school]
type = "school"                 # values resolved through the school table
label = { en = "School", fr = "École" }
[variables.school.values]
"1" = "imt_atlantique"
[variables.intends_abroad]
type = "binary"
label = { en = "Intends to go abroad", fr = "Envisage une mobilité" }
values = { "1" = 1, "2" = 0, "Y" = 1, "N" = 0, "Oui" = 1, "Non" = 0, "Yes" = 1, "No" = 0 }
[variables.barrier_finance]
type = "likert"
scale = [1, 5]
direction = "ascending"
labels.en = ["Not at all", "Slightly", "Moderately", "Strongly", "Very strongly"]
labels.fr = ["Pas du tout", "Un peu", "Moyennement", "Fortement", "Très fortement"]
[variables.pref_region]
type = "multi-select"
options = ["euroregion", "other_europe", "north_america", "latin_america", "asia", "africa", "oceania"]
[variables.gender]
type = "categorical"
[variables.interest_dual_degree]
type = "likert"
scale = [1, 5]
[variables.comment]
type = "free-text"
[[sources]]
id = "imt_survey_2023"
platform = "qualtrics"
wave = "2023"
language = "en"
[sources.columns]
Q1 = "school"
Q8_1 = { variable = "pref_region", option = "euroregion" }
[sources.values.gender]
"1" = "F"
[[breaks]]
variable = "interest_dual_degree"
waves = ["2021", "2023"]
note = { en = "...", fr = "..." }
"""


def test_brief_shape_parses():
    cb = parse_codebook(BRIEF_SHAPE, "codebook.toml")
    assert cb.variable_types() == {
        "school": "school", "intends_abroad": "binary", "barrier_finance": "likert",
        "pref_region": "multi-select", "gender": "categorical", "interest_dual_degree": "likert",
        "comment": "free-text",
    }  # fmt: skip
    v = cb.variables["barrier_finance"]
    assert v.scale == (1, 5) and v.labels["fr"][4] == "Très fortement"
    assert cb.variables["pref_region"].columns()[0] == "pref_region__euroregion"
    src = cb.source("imt_survey_2023")
    assert src.columns["Q8_1"].option == "euroregion" and src.columns["Q1"].variable == "school"
    assert src.values["gender"] == {"1": "F"}
    # French and English labels map to the same codes (keys are normalised)
    iv = cb.variables["intends_abroad"].values
    assert iv["oui"] == iv["yes"] == iv["y"] == 1 and iv["non"] == iv["no"] == 0
    assert [b.variable for b in cb.breaks_for({"interest_dual_degree"}, "2023")] == [
        "interest_dual_degree"
    ]
    assert cb.breaks_for({"interest_dual_degree"}, "2019") == []
    assert cb.variable_labels("fr")["school"] == "École"


def test_shared_fixture_codebook_parses(codebook):
    assert len(codebook.sources) == 9 and codebook.missing == {"nsp", "ne sait pas"}


def _error(text: str) -> str:
    with pytest.raises(CodebookError) as exc:
        parse_codebook(text, "cb.toml")
    msg = str(exc.value)
    assert msg.startswith("cb.toml") and "\n" not in msg
    return msg


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_syntax_error_has_line():
    text = BRIEF_SHAPE.replace("scale = [1, 5]\ndirection", "scale = [1, 5\ndirection", 1)
    msg = _error(text)
    # tomllib stops on the line after the unclosed array
    assert msg.startswith(f"cb.toml:{_line_of(text, 'scale = [1, 5') + 1}: invalid TOML: "), msg


@pytest.mark.parametrize(
    ("old", "new", "line_fragment", "words"),
    [
        ('type = "binary"', 'type = "boolean"', 'type = "boolean"', "must be one of"),
        ('labels.fr = ["Pas du tout", "Un peu", "Moyennement", "Fortement", "Très fortement"]',
         'labels.fr = ["Pas du tout", "Un peu"]', 'labels.fr = ["Pas du tout", "Un peu"]', "needs 5 labels"),
        ("Q1 = \"school\"", "Q1 = \"schol\"", 'Q1 = "schol"', "unknown variable 'schol'"),
        ('option = "euroregion" }', 'option = "mars" }', 'option = "mars"', "not an option"),
        ('direction = "ascending"', 'direction = "up"', 'direction = "up"', "ascending"),
        ('platform = "qualtrics"', 'platform = "typeform"', 'platform = "typeform"', "must be one of"),
        ('variable = "interest_dual_degree"', 'variable = "nope"', 'variable = "nope"', "unknown variable"),
        ('"Y" = 1, "N" = 0,', '"Y" = 1, "N" = 2,', '"N" = 2', "must map to 0 or 1"),
        ("[variables.comment]\n", "[variables.comment]\nscale = [1, 3]\n", "scale = [1, 3]", "only allowed for likert"),
    ],
)  # fmt: skip
def test_semantic_errors_name_the_line(old, new, line_fragment, words):
    assert old in BRIEF_SHAPE
    text = BRIEF_SHAPE.replace(old, new, 1)
    msg = _error(text)
    assert words in msg
    assert msg.startswith(f"cb.toml:{_line_of(text, line_fragment)}:"), msg


def test_second_source_errors_point_into_second_entry():
    text = BRIEF_SHAPE.replace(
        "[[breaks]]",
        '[[sources]]\nid = "lime"\nplatform = "limesurvey"\n[sources.columns]\nG1 = "ghost"\n[[breaks]]',
    )
    msg = _error(text)
    assert msg.startswith(f"cb.toml:{_line_of(text, 'G1 = ')}:") and "sources[1].columns.G1" in msg


def test_duplicate_source_and_version():
    text = BRIEF_SHAPE.replace(
        "[[breaks]]",
        '[[sources]]\nid = "imt_survey_2023"\nplatform = "qualtrics"\n[sources.columns]\nQ1 = "school"\n[[breaks]]',
    )
    assert "duplicate source id" in _error(text)
    assert "must be 1" in _error(BRIEF_SHAPE.replace("version = 1", "version = 2"))
    assert _error(BRIEF_SHAPE.replace("version = 1", "version = 1\nvariabels = 3")).startswith(
        "cb.toml:2:"
    )


def test_likert_value_map_outside_scale():
    text = BRIEF_SHAPE.replace(
        'direction = "ascending"', 'direction = "ascending"\nvalues = { "NSP" = 9 }'
    )
    assert "outside scale" in _error(text)


def test_fixture_file_is_documented_example():
    # docs/codebook.md points at this file as a complete example
    assert (
        (FIXTURES / "codebook_test.toml").read_text(encoding="utf-8").startswith("# Test codebook")
    )
