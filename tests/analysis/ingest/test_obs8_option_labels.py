"""Observation 8 of issue 12 (codebook side): option ids (``benelux``, ``germany``) reached the
report, and the codebook had no documented way to label options.

``labels.<lang>`` of a multi-select or categorical variable is a table option id -> label
(docs/codebook.md), as ``labels.<lang>`` of a likert variable is a list per scale point.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config import FilterConfig
from analysis.ingest import CodebookError, load_codebook, parse_codebook, read_survey_export

from .conftest import csv_text

CODEBOOK = """
version = 1
[variables.school]
type = "school"
[variables.gender]
type = "categorical"
categories = ["F", "M", "X"]
labels.en = { F = "Women", M = "Men", X = "Other" }
labels.fr = { F = "Femmes", M = "Hommes", X = "Autre" }
[variables.pref_country]
type = "multi-select"
label = { en = "Preferred countries", fr = "Pays souhaités" }
options = ["benelux", "germany", "elsewhere"]
[variables.pref_country.labels.en]
benelux = "Belgium, Netherlands, Luxembourg"
germany = "Germany"
elsewhere = "Elsewhere"
[variables.pref_country.labels.fr]
benelux = "Belgique, Pays-Bas, Luxembourg"
germany = "Allemagne"
elsewhere = "Ailleurs"
[[sources]]
id = "forms"
platform = "google-forms"
[sources.columns]
"School" = "school"
"Gender" = "gender"
"Countries" = "pref_country"
"""


@pytest.fixture()
def codebook():
    return parse_codebook(CODEBOOK, "cb.toml")


def test_obs8_option_labels_in_the_codebook_object(codebook):
    var = codebook.variables["pref_country"]
    assert var.option_label("benelux", "fr") == "Belgique, Pays-Bas, Luxembourg"
    assert var.option_label("germany", "en") == "Germany"
    assert codebook.variables["gender"].option_label("X", "fr") == "Autre"
    assert codebook.option_labels("fr") == {
        "gender": {"F": "Femmes", "M": "Hommes", "X": "Autre"},
        "pref_country": {
            "benelux": "Belgique, Pays-Bas, Luxembourg",
            "germany": "Allemagne",
            "elsewhere": "Ailleurs",
        },
    }
    labels = codebook.report_labels()
    assert labels["en"]["options"]["pref_country"]["benelux"] == "Belgium, Netherlands, Luxembourg"
    assert labels["fr"]["variables"]["pref_country"] == "Pays souhaités"


def test_obs8_english_is_the_fallback_then_the_id():
    cb = parse_codebook(
        CODEBOOK.replace('labels.fr = { F = "Femmes", M = "Hommes", X = "Autre" }\n', ""), "cb"
    )
    assert cb.variables["gender"].option_label("F", "fr") == "Women"
    assert cb.variables["school"].option_label("imt_bs", "fr") == "imt_bs"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('germany = "Germany"\n', 'germany = "Germany"\ngermnay = "Typo"\n',
         r"cb.toml:\d+: variables.pref_country.labels.en.germnay: 'germnay' is not an option"),
        ('germany = "Allemagne"\n', "",
         r"cb.toml:\d+: variables.pref_country.labels.fr: no label for germany"),
        ('labels.en = { F = "Women", M = "Men", X = "Other" }',
         'labels.en = ["Women", "Men", "Other"]',
         r"variables.gender.labels.en: needs a table option id -> label"),
        ('[variables.school]\ntype = "school"',
         '[variables.school]\ntype = "school"\nlabels.en = { a = "A" }',
         r"variables.school.labels: 'labels' is only allowed for likert, multi-select"),
    ],
)  # fmt: skip
def test_obs8_option_label_errors_name_file_line_and_key(old, new, message):
    assert old in CODEBOOK
    with pytest.raises(CodebookError, match=message):
        parse_codebook(CODEBOOK.replace(old, new), "cb.toml")


def test_obs8_labels_are_answers_too(tmp_path, codebook):
    # a Google Forms export writes the option labels: they read as the options
    p = tmp_path / "forms.csv"
    rows = [
        ["Timestamp", "School", "Gender", "Countries"],
        ["8/21/2019 13:10:31", "imt_bs", "Women", "Germany, Belgium, Netherlands, Luxembourg"],
        ["8/21/2019 13:11:31", "imt_bs", "Hommes", "Ailleurs"],
    ]
    p.write_text(csv_text(rows), encoding="utf-8")
    res = read_survey_export(p, codebook, "forms", wave="2024", filters=FilterConfig(),
                             pseudonym_key="k")  # fmt: skip
    df = res.responses
    assert df["gender"].astype(str).tolist() == ["F", "M"]
    assert df["pref_country__benelux"].tolist() == [1.0, 0.0]
    assert df["pref_country__germany"].tolist() == [1.0, 0.0]
    assert df["pref_country__elsewhere"].tolist() == [0.0, 1.0]
    assert res.manifest["unknown_options"] == {}


def test_obs8_bundled_codebook_labels_every_option():
    cb = load_codebook(Path(__file__).resolve().parents[3] / "data" / "raw" / "codebook.toml")
    for lang in ("en", "fr"):
        options = cb.option_labels(lang)
        assert set(options["pref_region"]) == set(cb.variables["pref_region"].options)
        assert set(options["gender"]) == {"F", "M", "X"}
        assert all(lab != oid for lab_map in options.values() for oid, lab in lab_map.items())
