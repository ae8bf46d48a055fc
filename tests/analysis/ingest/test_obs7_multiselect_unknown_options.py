"""Observation 7 of issue 12: in a multi-select question, one answer outside the codebook's
options ("Other: Afrique") set the respondent's whole question aside: 14 of 142 Google Forms
respondents lost every region they ticked.

The export is built here like a Google Forms download (``", "``-joined choices from the
linked Sheet, ``";"``-joined from the Forms UI zip; input-formats §1.3); the expected values
are counted from the row pattern below, by hand.
"""

from __future__ import annotations

import pandas as pd

from analysis.config import FilterConfig
from analysis.ingest import read_survey_export

from .conftest import csv_text

N = 142
HEADER = ["Horodateur", "Adresse e-mail", "Votre école", "Genre", "Année d'études",
          "Envisagez-vous une mobilité ?", "Intérêt pour un double diplôme", "Régions préférées",
          "Budget mensuel (€)", "Commentaire"]  # fmt: skip


def _row(stamp: str, email: str, regions: str) -> list[str]:
    return [stamp, email, "Télécom Paris", "", "", "", "", regions, "", ""]


EURO = "Eurorégion (Belgique, Pays-Bas, Allemagne)"


def _answer(i: int) -> str:
    if i % 10 == 3:  # 14 rows (3, 13, ..., 133): Asia ticked + a free "other" answer
        return "Asie, Other: Afrique"
    if i % 10 == 7:  # 14 rows (7, ..., 137): two options joined with ";" (Forms UI download)
        return f"{EURO};Amérique du Nord"
    return "Autre Europe"  # the 114 others


def _export(tmp_path):
    rows = [
        _row(f"21/08/2019 13:{i // 60:02d}:{i % 60:02d}", f"p{i}@x.fr", _answer(i))
        for i in range(N)
    ]
    p = tmp_path / "forms.csv"
    p.write_text(csv_text([HEADER, *rows], eol="\r\n"), encoding="utf-8", newline="")
    return p


def _read(tmp_path, codebook):
    return read_survey_export(
        _export(tmp_path),
        codebook,
        "forms_2022",
        wave="2022",
        filters=FilterConfig(),
        pseudonym_key="k",
        schools=None,
    )


def test_obs7_known_options_kept_next_to_an_unknown_answer(tmp_path, codebook):
    res = _read(tmp_path, codebook)
    m, df = res.manifest, res.responses
    assert (m["rows_read"], m["rows_kept"], m["quarantined"]) == (N, N, 0)
    # nobody loses their answer: every respondent has 0/1 for every option
    regions = df[[c for c in df.columns if c.startswith("pref_region__")]]
    assert not regions.isna().any().any()
    assert regions.sum().to_dict() == {
        "pref_region__euroregion": 14,
        "pref_region__other_europe": 114,
        "pref_region__north_america": 14,
        "pref_region__latin_america": 0,
        "pref_region__asia": 14,
        "pref_region__africa": 0,  # "Other: Afrique" is not the option "Afrique"
        "pref_region__oceania": 0,
    }


def test_obs7_unknown_answers_are_counted_never_output(tmp_path, codebook):
    res = _read(tmp_path, codebook)
    m = res.manifest
    assert m["unknown_options"] == {"pref_region": 14}
    assert m["unknown_option_respondents"] == {"pref_region": 14}
    assert len(res.quarantine) == 0
    outputs = res.responses.astype(str).to_csv() + res.quarantine.to_csv() + str(m)
    assert "Afrique" not in outputs and "Other" not in outputs


def test_obs7_data_quality_alert_in_the_report(tmp_path, codebook):
    from analysis.results import ResultSet
    from reports.viewmodel import _Ctx, _data_quality, load_labels

    m = _read(tmp_path, codebook).manifest
    results = ResultSet({"schools": {}}, (), {"files": [m], "quarantine_reasons": {}}, {})
    for lang, words in (("en", "outside the codebook's options"), ("fr", "hors des options")):
        ctx = _Ctx(results, lang, load_labels(lang))
        entries = _data_quality(ctx)[0]["entries"]
        hits = [n for text, n in entries if words in text]
        assert hits == ["14"]


def test_obs7_all_unknown_is_an_answer_with_no_known_option(tmp_path, codebook):
    p = tmp_path / "one.csv"
    p.write_text(
        csv_text([HEADER, _row("21/08/2019 13:10:31", "a@x.fr", "Mars; Lune")]),
        encoding="utf-8",
    )
    res = read_survey_export(p, codebook, "forms_2022", wave="2022", filters=FilterConfig(),
                             pseudonym_key="k", schools=None)  # fmt: skip
    row = res.responses.iloc[0]
    assert row["pref_region__asia"] == 0 and not pd.isna(row["pref_region__oceania"])
    assert res.manifest["unknown_options"] == {"pref_region": 2}
    assert res.manifest["unknown_option_respondents"] == {"pref_region": 1}
