"""read_survey_export on every format, through the shared test codebook.

Expected values are written by hand from the fixture rows and the codebook (not computed by
the code under test); the pseudonym is recomputed with the standard library's hmac.
"""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.config import FilterConfig
from analysis.ingest import CodebookError, InputError, read_survey_export
from analysis.schema import Quarantine, Responses

from .conftest import (
    FIXTURES,
    KEY,
    LIME_HEADER,
    csv_text,
    lime_row,
    qualtrics_row,
    write_limesurvey,
    write_qualtrics,
    write_xlsx,
)
from .test_detect import write_insights

# same shape as analysis/tables/schools.csv: one row per entity, former schools included
SCHOOLS = pd.DataFrame(
    {
        "entity": ["imt_atlantique", "mines_nantes", "imt_nord_europe", "mines_douai",
                   "telecom_paris", "imt_mines_ales"],
        "school_id": ["imt_atlantique", "imt_atlantique", "imt_nord_europe", "imt_nord_europe",
                      "telecom_paris", "imt_mines_ales"],
        "name": ["IMT Atlantique", "Mines Nantes", "IMT Nord Europe", "Mines Douai",
                 "Télécom Paris", "IMT Mines Alès"],
        "status": ["school"] * 6,
        "aliases": ["IMT-Atlantique", "EMN|Ecole des Mines de Nantes", "IMT Lille Douai",
                    "EMD", "Télécom ParisTech|ENST", "École des Mines d'Alès|EMA"],
        "note": ["", "", "", "", "", "merger of Télécom Paris and nothing"],
    }
)  # fmt: skip


def read(path, codebook, source, wave, filters=None, schools=SCHOOLS):
    return read_survey_export(path, codebook, source, wave=wave, filters=filters or FilterConfig(),
                              pseudonym_key=KEY, schools=schools)  # fmt: skip


def accounted(m: dict) -> bool:
    return m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]


def by_row(res) -> pd.DataFrame:
    return res.responses.set_index(Responses.SOURCE_ROW)


# ----------------------------------------------------------------------------- Qualtrics
def qualtrics_file(tmp_path, choice_text=False):
    a = dict(Q1="1", Q2="1", Q3="3", Q4="1", Q5="4", Q6="5", Q7="1", Q8_1="1", Q8_2="", Q8_3="1",
             Q8_5="", Q9_TEXT="=HYPERLINK(\"http://x\")", Q10="1 200,50")  # fmt: skip
    rows = [
        qualtrics_row(1, a, email="jeanne@example.org"),  # kept
        qualtrics_row(
            2,
            a
            | {
                "Q1": "2",
                "Q6": "7",
                "Q9_TEXT": "<script>alert(1)</script>",
                "Q8_1": "",
                "Q8_3": "",
            },
        ),  # fmt: skip  # Likert 7: cell quarantined
        qualtrics_row(3, a, status="1"),  # preview
        qualtrics_row(4, a, status="8"),  # spam
        qualtrics_row(5, a, finished="0"),  # unfinished
        qualtrics_row(6, a | {"Q1": "9"}),  # unknown school -> row quarantined
        qualtrics_row(7, a, email="JEANNE@example.org"),  # duplicate e-mail of row 1
        qualtrics_row(8, a, duration="20"),  # speeder when min 60 s
        qualtrics_row(9, a | {"Q3": "99", "Q4": "2", "Q2": "3", "Q9_TEXT": "@SUM(A1)\x07"}),
    ]
    if choice_text:
        for r in rows:
            r["Status"] = {"0": "IP Address", "1": "Survey Preview", "8": "Spam"}[r["Status"]]
            r["Finished"] = {"1": "True", "0": "False"}[r["Finished"]]
    return write_qualtrics(tmp_path / "qualtrics.csv", rows)


@pytest.mark.parametrize("choice_text", [False, True])
def test_qualtrics_filters_quarantine_and_values(tmp_path, codebook, choice_text):
    res = read(qualtrics_file(tmp_path, choice_text), codebook, "qualtrics_2023", "2023",
               FilterConfig(min_duration_seconds=60))  # fmt: skip
    m = res.manifest
    assert m["variant"] == ("choice-text" if choice_text else "numeric-values")
    assert m["rows_read"] == 9 and m["rows_kept"] == 3 and m["quarantined"] == 1
    assert m["filtered"] == {"qualtrics_preview": 1, "qualtrics_test": 0, "qualtrics_spam": 1,
                             "unfinished": 1, "speeder": 1, "duplicate": 1}  # fmt: skip
    assert accounted(m)
    df = by_row(res)
    assert list(df.index) == [1, 2, 9]
    assert list(df["school"]) == ["imt_atlantique", "imt_nord_europe", "imt_atlantique"]
    assert list(df["gender"]) == ["F", "F", "X"]
    assert df.loc[1, "study_year"] == 3 and math.isnan(
        df.loc[9, "study_year"]
    )  # 99 declared missing
    assert list(df["intends_abroad"]) == [1.0, 1.0, 0.0]
    assert df.loc[1, "barrier_finance"] == 5 and math.isnan(df.loc[2, "barrier_finance"])
    assert df.loc[1, "barrier_language"] == 5  # descending: source 1 -> 5
    assert df.loc[1, "budget_eur"] == 1200.5  # "1 200,50"
    # split multi-select: Q8_4 (latin_america) not asked -> NaN; nothing ticked -> NaN
    assert df.loc[1, "pref_region__euroregion"] == 1 and df.loc[1, "pref_region__other_europe"] == 0
    assert df.loc[1, "pref_region__north_america"] == 1
    assert math.isnan(df.loc[1, "pref_region__latin_america"])
    assert math.isnan(df.loc[2, "pref_region__euroregion"])
    # free text neutralised
    assert df.loc[1, "comment"].startswith("'=HYPERLINK")
    assert "<script" not in df.loc[2, "comment"] and "&lt;script&gt;" in df.loc[2, "comment"]
    assert df.loc[9, "comment"] == "'@SUM(A1)"
    # quarantine: the Likert cell and the unknown-school row
    q = res.quarantine
    cells = q[q["scope"] == "cell"]
    assert cells[[Quarantine.SOURCE_ROW, Quarantine.COLUMN, Quarantine.VALUE, Quarantine.REASON]].values.tolist() == [
        [2, "Q6", "7", "out_of_range"]]  # fmt: skip
    rows_q = q[q["scope"] == "row"]
    assert rows_q[[Quarantine.SOURCE_ROW, Quarantine.COLUMN, Quarantine.VALUE, Quarantine.REASON]].values.tolist() == [
        [6, "Q1", "9", "unknown_school"]]  # fmt: skip
    assert (q[Quarantine.SOURCE_FILE] == "qualtrics.csv").all()


def test_qualtrics_personal_data_never_in_output(tmp_path, codebook):
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023")
    dropped = set(res.manifest["dropped_personal_columns"])
    assert {"IPAddress", "RecipientEmail", "RecipientLastName", "RecipientFirstName",
            "LocationLatitude", "LocationLongitude", "ExternalReference", "ResponseId"} <= dropped  # fmt: skip
    blob = res.responses.astype(str).to_csv() + res.quarantine.to_csv()
    for secret in ("192.0.2.", "jeanne@example.org", "Dupont", "Jeanne", "48.3582", "R_test"):
        assert secret not in blob


def test_respondent_id_is_keyed_hmac(tmp_path, codebook):
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023")
    expected = hmac.new(KEY.encode(), b"qualtrics_2023|R_test0001", hashlib.sha256).hexdigest()[:32]
    assert by_row(res).loc[1, Responses.RESPONDENT_ID] == expected
    other = read_survey_export(qualtrics_file(tmp_path), codebook, "qualtrics_2023", wave="2023",
                               filters=FilterConfig(), pseudonym_key="another-key", schools=SCHOOLS)  # fmt: skip
    assert by_row(other).loc[1, Responses.RESPONDENT_ID] != expected


def test_filters_are_configurable(tmp_path, codebook):
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023",
               FilterConfig(drop_unfinished=False, drop_duplicates=False))  # fmt: skip
    m = res.manifest
    assert m["filtered"] == {"qualtrics_preview": 1, "qualtrics_test": 0, "qualtrics_spam": 1}
    assert m["rows_kept"] == 6 and accounted(m)
    assert res.responses.loc[res.responses.source_row == 5, "finished"].item() == 0.0


def test_schema_columns_and_dtypes(tmp_path, codebook):
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023")
    df = res.responses
    assert not Responses.SCHEMA.missing(df) and not Quarantine.SCHEMA.missing(res.quarantine)
    for c in (
        "barrier_finance",
        "study_year",
        "intends_abroad",
        "pref_region__asia",
        "duration_seconds",
    ):
        assert df[c].dtype == np.float64
    assert isinstance(df["school"].dtype, pd.CategoricalDtype)
    assert list(df["gender"].cat.categories) == ["F", "M", "X"]
    assert set(df[Responses.WAVE]) == {"2023"} and set(df[Responses.SOURCE_ID]) == {
        "qualtrics_2023"
    }
    assert set(df[Responses.SOURCE_FILE]) == {"qualtrics.csv"}
    assert df.loc[df.source_row == 1, "duration_seconds"].item() == 300.0
    # a variable this source does not map is present and empty
    assert df["answered_on"].isna().all()


def test_breaks_in_manifest(tmp_path, codebook):
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023")
    assert [b["variable"] for b in res.manifest["breaks"]] == ["interest_dual_degree"]
    res = read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2025")
    assert res.manifest["breaks"] == []


def test_qualtrics_legacy_and_insights(tmp_path, codebook):
    text = (
        "\ufeffV1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1,Q2,LocationLatitude,LocationLongitude,LocationAccuracy,\n"
        "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,"
        "EndDate,Finished,Your school,Abroad?,LocationLatitude,LocationLongitude,LocationAccuracy,\n"
        "R_1,Default,Anonymous,,,130.92.34.66,0,2016-03-01 10:00:00,2016-03-01 10:05:00,1,1,1,47.1,7.2,-1,\n"
        "R_2,Default,Anonymous,,,130.92.34.67,1,2016-03-01 11:00:00,2016-03-01 11:05:00,1,2,2,47.1,7.2,-1,\n"
        "R_3,Default,Anonymous,,,130.92.34.68,0,2016-03-01 11:00:00,2016-03-01 11:05:00,1,2,2,47.1,7.2,-1,\n"
    )  # fmt: skip
    p = tmp_path / "legacy.csv"
    p.write_text(text, encoding="utf-8", newline="")
    res = read(p, codebook, "qualtrics_legacy_2016", "2016")
    assert res.manifest["filtered"]["qualtrics_preview"] == 1
    df = by_row(res)
    assert list(df.index) == [1, 3] and list(df["school"]) == ["imt_atlantique", "imt_nord_europe"]
    assert list(df["intends_abroad"]) == [1.0, 0.0]
    assert {"EmailAddress", "IPAddress", "Name"} <= set(res.manifest["dropped_personal_columns"])

    res = read(write_insights(tmp_path / "ins.csv"), codebook, "qualtrics_insights_2017", "2017")
    df = by_row(res)  # columns mapped by ImportId QID3-1 / QID3-2
    assert list(df["pref_region__euroregion"].fillna(-1)) == [1.0, -1]
    assert list(df["pref_region__asia"].fillna(-1)) == [0.0, -1]


# ----------------------------------------------------------------------------- LimeSurvey
def lime_file(tmp_path, xlsx=False):
    rows = [
        lime_row(1, ["A1", "A1", "2", "Y", "4", "Fortement", "Y", "", "Y", "Très bien"], token="tok1"),
        lime_row(2, ["A2", "A2", "4", "N", "Très fortement", "6", "", "", "", ""], submit="1980-01-01 00:00:00"),
        lime_row(3, ["A1", "A1", "1", "Y", "2", "1", "", "", "", ""], submit=""),  # incomplete
        lime_row(4, ["A3", "A2", "5", "Y", "NSP", "2", "", "Y", "", ""], token="tok1"),  # duplicate token
        lime_row(5, ["A3", "A9", "5", "peut-être", "3", "2", "", "", "", ""]),
    ]  # fmt: skip
    if xlsx:
        return write_xlsx(tmp_path / "lime.xlsx", [LIME_HEADER, *rows])
    return write_limesurvey(tmp_path / "lime.csv", LIME_HEADER, rows)


@pytest.mark.parametrize("xlsx", [False, True])
def test_limesurvey_code_headings(tmp_path, codebook, xlsx):
    res = read(lime_file(tmp_path, xlsx), codebook, "limesurvey_2021", "2021")
    m = res.manifest
    assert (m["format"], m["container"]) == ("limesurvey", "xlsx" if xlsx else "csv")
    assert m["filtered"] == {"incomplete": 1, "duplicate": 1} and m["quarantined"] == 0
    assert m["rows_kept"] == 3 and accounted(m)
    df = by_row(res)
    assert list(df.index) == [1, 2, 5]
    assert list(df["school"]) == [
        "imt_atlantique",
        "imt_nord_europe",
        "telecom_paris",
    ]  # source map
    assert list(df["gender"].astype(object).fillna("?")) == ["F", "M", "?"]  # A9 unknown -> cell
    assert list(df["intends_abroad"].fillna(-1)) == [1.0, 0.0, -1]
    assert list(df["interest_dual_degree"]) == [4.0, 5.0, 3.0]  # "Très fortement" = 5 (fr label)
    assert df.loc[1, "barrier_finance"] == 4.0 and math.isnan(df.loc[2, "barrier_finance"])
    assert df.loc[1, "pref_region__euroregion"] == 1 and df.loc[1, "pref_region__asia"] == 1
    assert df.loc[1, "pref_region__other_europe"] == 0
    assert math.isnan(df.loc[2, "pref_region__euroregion"])
    assert df.loc[2, "finished"] == 1.0  # 1980 placeholder = submitted without date
    assert df.loc[1, "duration_seconds"] == 400.0
    q = res.quarantine.sort_values([Quarantine.SOURCE_ROW, Quarantine.COLUMN])
    assert q[[Quarantine.SOURCE_ROW, Quarantine.COLUMN, Quarantine.REASON]].values.tolist() == [
        [2, "G02Q06[SQ001]", "out_of_range"],
        [5, "G01Q02", "unknown_code"],
        [5, "G01Q04", "unknown_code"],
    ]
    assert {"token", "ipaddr", "refurl", "id"} <= set(m["dropped_personal_columns"])
    blob = res.responses.astype(str).to_csv()
    assert "tok1" not in blob and "203.0.113.9" not in blob and "example.org" not in blob


def test_limesurvey_real_sample_placeholder_date(codebook):
    from analysis.ingest import parse_codebook

    cb = parse_codebook(
        'version = 1\n[variables.school]\ntype = "school"\nvalues = { "4" = "imt_bs" }\n'
        '[[sources]]\nid = "pulse"\nplatform = "limesurvey"\n[sources.columns]\nAgeGroup = "school"\n',
        "cb.toml",
    )
    res = read(
        FIXTURES / "limesurvey_remotecontrol_code_semicolon.csv", cb, "pulse", "2014", schools=None
    )
    m = res.manifest
    assert (m["rows_read"], m["rows_kept"], m["filtered"]["incomplete"]) == (1, 1, 0)
    assert res.responses["finished"].tolist() == [1.0]
    assert res.responses["school"].tolist() == ["imt_bs"]


def test_limesurvey_full_headings_comma_crlf(tmp_path, codebook):
    header = ["Response ID", "Date submitted", "Last page", "Start language", "Seed", "Date started",
              "Date last action", "École", "Genre", "Année d'études", "Envisagez-vous une mobilité ?",
              "Intérêt pour un double diplôme", "[Financier] Freins à la mobilité", "Commentaire"]  # fmt: skip
    rows = [["7", "2021-05-03 12:00:00", "3", "fr", "1", "", "", "IMT Lille Douai", "Femme", "2", "Oui",
             "Moyennement", "Pas du tout", "Bien\r\nmerci"],
            ["8", "2021-05-03 12:00:00", "3", "fr", "1", "", "", "Mines Nantes", "Homme", "NSP", "Non",
             "Un peu", "Un peu", ""]]  # fmt: skip
    p = write_limesurvey(tmp_path / "full.csv", header, rows, delimiter=",")
    res = read(p, codebook, "limesurvey_2021_full", "2021")
    df = by_row(res)
    assert list(df["school"]) == ["imt_nord_europe", "imt_atlantique"]  # former names via aliases
    assert list(df["gender"]) == ["F", "M"]
    assert df.loc[1, "study_year"] == 2 and math.isnan(df.loc[2, "study_year"])  # global NSP
    assert list(df["interest_dual_degree"]) == [3.0, 2.0] and list(df["barrier_finance"]) == [
        1.0,
        2.0,
    ]
    assert df.loc[1, "comment"] == "Bien\nmerci"


# ----------------------------------------------------------------------------- Google Forms
def test_google_forms_french(tmp_path, codebook):
    header = ["Horodateur", "Adresse e-mail", "Votre école", "Genre", "Année d'études",
              "Envisagez-vous une mobilité ?", "Intérêt pour un double diplôme", "Régions préférées",
              "Budget mensuel (€)", "Commentaire"]  # fmt: skip
    rows = [
        ["21/08/2019 13:10:31", "a@x.fr", "Télécom Paris", "Femme", "3", "Oui", "Fortement",
         "Eurorégion (Belgique, Pays-Bas, Allemagne), Asie", "1\u202f200,5", "Très bien"],
        ["21/08/2019 13:11:00", "b@x.fr", "IMT Mines Ales", "Homme", "4", "Non", "Pas du tout",
         "Autre Europe", "800", "=1+1"],
        ["21/08/2019 13:12:00", "A@X.FR", "Telecom Paris", "Femme", "3", "Oui", "Fortement", "", "", ""],
        ["21/08/2019 13:13:00", "c@x.fr", "Mines Nantes", "Femme", "3", "Oui", "Fortement", "Asie, Lune", "#N/A", ""],
        ["21/08/2019 13:14:00", "d@x.fr", "Université de Mons", "Femme", "3", "Oui", "Fortement", "", "", ""],
    ]  # fmt: skip
    p = tmp_path / "forms.csv"
    p.write_text(csv_text([header, *rows], eol="\r\n"), encoding="utf-8", newline="")
    res = read(p, codebook, "forms_2022", "2022")
    m = res.manifest
    assert m["filtered"] == {"duplicate": 1} and m["quarantined"] == 1 and m["rows_kept"] == 3
    df = by_row(res)
    assert list(df["school"]) == ["telecom_paris", "imt_mines_ales", "imt_atlantique"]
    assert math.isnan(df.loc[4, "budget_eur"])
    assert df.loc[1, "pref_region__euroregion"] == 1 and df.loc[1, "pref_region__asia"] == 1
    assert df.loc[1, "pref_region__other_europe"] == 0
    assert df.loc[2, "pref_region__other_europe"] == 1
    assert df.loc[1, "budget_eur"] == 1200.5 and df.loc[2, "budget_eur"] == 800
    assert df.loc[1, "interest_dual_degree"] == 4 and df.loc[2, "interest_dual_degree"] == 1
    assert df.loc[2, "comment"] == "'=1+1"
    assert (df["finished"] == 1).all()
    q = res.quarantine
    # "Asie, Lune": Asia stays ticked, "Lune" is counted, not quarantined (obs. 7)
    assert df.loc[4, "pref_region__asia"] == 1 and df.loc[4, "pref_region__africa"] == 0
    assert m["unknown_options"] == {"pref_region": 1}
    assert sorted(q[[Quarantine.SOURCE_ROW, Quarantine.REASON, "scope"]].values.tolist()) == [
        [5, "unknown_school", "row"]]  # fmt: skip
    assert "Adresse e-mail" in m["dropped_personal_columns"]
    assert "x.fr" not in res.responses.astype(str).to_csv()


# ----------------------------------------------------------------------------- SurveyMonkey
def test_surveymonkey(tmp_path, codebook):
    rows = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
         "First Name", "Last Name", "Custom Data 1", "Which school are you in?", "Gender",
         "Do you intend to go abroad?", "Preferred regions", "", "Any comment?"],
        ["", "", "", "", "", "", "", "", "", "Response", "Response", "Response", "Asia",
         "Other Europe", "Open-Ended Response"],
        ["11", "9", "11/23/2020 10:10:10 AM", "11/23/2020 10:20:10 AM", "198.51.100.7",
         "ann@example.org", "Ann", "Lee", "", "IMT Atlantique", "Female", "Yes", "Asia", "", "ok"],
        ["12", "9", "11/23/2020 10:10:10 AM", "11/23/2020 10:10:30 AM", "198.51.100.8",
         "bob@example.org", "Bob", "Ray", "", "IMT Nord Europe", "Male", "No", "", "Other Europe", ""],
    ]  # fmt: skip
    p = tmp_path / "monkey.csv"
    p.write_text(csv_text(rows), encoding="utf-8", newline="")
    res = read(p, codebook, "monkey_2020", "2020", FilterConfig(min_duration_seconds=60))
    m = res.manifest
    assert m["filtered"] == {"speeder": 1, "duplicate": 0}  # row 2 took 20 s (end - start)
    df = by_row(res)
    assert list(df.index) == [1] and df.loc[1, "school"] == "imt_atlantique"
    assert df.loc[1, "pref_region__asia"] == 1 and df.loc[1, "pref_region__other_europe"] == 0
    assert df.loc[1, "duration_seconds"] == 600.0
    assert "Ann" not in res.responses.astype(str).to_csv()


# ----------------------------------------------------------------------------- SPSS
def test_spss_value_labels_and_user_missing(tmp_path, codebook):
    df = pd.DataFrame({"school": [1.0, 2.0, 99.0, 3.0], "sex": [1.0, 2.0, 1.0, 1.0],
                       "year": [1.0, 2.0, 3.0, 9.0], "intend": [1.0, 0.0, 1.0, 1.0],
                       "finance": [5.0, -1.0, 3.0, 2.0]})  # fmt: skip
    p = tmp_path / "s.sav"
    pyreadstat.write_sav(
        df, str(p),
        variable_value_labels={
            "school": {1.0: "IMT Atlantique", 2.0: "Mines Douai", 3.0: "EMA", 99.0: "No answer"},
            "sex": {1.0: "Female", 2.0: "Male"},
            "intend": {1.0: "Yes", 0.0: "No"},
            "finance": {-1.0: "Undetermined"},
        },
        missing_ranges={"school": [99.0], "finance": [-1.0]},
    )  # fmt: skip
    res = read(p, codebook, "spss_2019", "2019")
    m = res.manifest
    assert (m["format"], m["encoding"]) == ("spss", "UTF-8")
    out = by_row(res)
    # school "3" is telecom_paris in the variable's value map (code before label)
    assert list(out["school"]) == ["imt_atlantique", "imt_nord_europe", "telecom_paris"]
    assert list(out["gender"]) == ["F", "M", "F"]
    assert list(out["intends_abroad"]) == [1.0, 0.0, 1.0]
    assert out.loc[1, "barrier_finance"] == 5 and math.isnan(out.loc[2, "barrier_finance"])
    assert math.isnan(out.loc[4, "study_year"])  # 9 outside range [1, 5] -> cell quarantined
    q = res.quarantine
    assert q[[Quarantine.SOURCE_ROW, Quarantine.REASON, "scope"]].values.tolist() == [
        [3, "missing_school", "row"], [4, "out_of_range", "cell"]]  # fmt: skip


# ----------------------------------------------------------------------------- generic & hostile
def test_generic_cp1252_decimal_comma_and_dates(tmp_path, codebook):
    p = tmp_path / "g.csv"
    p.write_bytes("ecole;budget;date\r\nTélécom Paris;1\u00a0234,50;03/04/2022\r\n"
                  "IMT Mines Alès;-;31/12/2021\r\nIMT Atlantique;abc;32/13/2021\r\n".encode("cp1252"))  # fmt: skip
    res = read(p, codebook, "generic_csv", "2022")
    df = by_row(res)
    assert df.loc[1, "budget_eur"] == 1234.5 and math.isnan(df.loc[2, "budget_eur"])
    assert df.loc[1, "answered_on"] == pd.Timestamp("2022-04-03")  # French source: day first
    assert df.loc[2, "school"] == "imt_mines_ales"
    q = res.quarantine
    assert sorted(q[Quarantine.REASON]) == ["unparseable_date", "unparseable_number"]


def test_truncated_last_row_quarantined(tmp_path, codebook):
    rows = [qualtrics_row(i, {"Q1": "1"}) for i in range(1, 4)]
    p = write_qualtrics(tmp_path / "q.csv", rows)
    text = p.read_text(encoding="utf-8")
    p.write_text(text[: text.rindex("R_test0003") + 4], encoding="utf-8")
    res = read(p, codebook, "qualtrics_2023", "2023")
    m = res.manifest
    assert (m["rows_read"], m["rows_kept"], m["quarantined"]) == (3, 2, 1) and accounted(m)
    q = res.quarantine
    assert q[[Quarantine.SOURCE_ROW, Quarantine.REASON]].values.tolist() == [[3, "short_row"]]


def test_header_only_gives_empty_tables(tmp_path, codebook):
    res = read(write_qualtrics(tmp_path / "q.csv", []), codebook, "qualtrics_2023", "2023")
    assert len(res.responses) == 0 and len(res.quarantine) == 0
    assert res.manifest["rows_read"] == 0 and not Responses.SCHEMA.missing(res.responses)


def test_mixed_encoding_file_reads_both(tmp_path, codebook):
    p = tmp_path / "mixed.csv"
    p.write_bytes(b"ecole;budget;date\n" + "Télécom Paris;1;01/01/2022\n".encode()
                  + "IMT Mines Alès;2;01/01/2022\n".encode("cp1252"))  # fmt: skip
    res = read(p, codebook, "generic_csv", "2022")
    assert res.manifest["encoding"] == "mixed"
    assert list(res.responses["school"]) == ["telecom_paris", "imt_mines_ales"]


def test_without_school_table_accepts_ids(tmp_path, codebook):
    p = tmp_path / "g.csv"
    p.write_text("ecole;budget;date\nimt_nord_europe;1;\nMines Douai;1;\n", encoding="utf-8")
    res = read(p, codebook, "generic_csv", "2022", schools=None)
    assert list(res.responses["school"]) == ["imt_nord_europe"]
    assert res.quarantine[Quarantine.REASON].tolist() == ["unknown_school"]


def test_platform_mismatch_and_missing_columns(tmp_path, codebook):
    with pytest.raises(
        InputError, match="limesurvey_2021.*limesurvey export but the file is qualtrics"
    ):
        read(qualtrics_file(tmp_path), codebook, "limesurvey_2021", "2021")
    p = write_qualtrics(
        tmp_path / "few.csv", [qualtrics_row(1, {"Q1": "1"})], questions=["Q1", "Q2"]
    )
    with pytest.raises(InputError, match=r"few\.csv: column\(s\) 'Q3'"):
        read(p, codebook, "qualtrics_2023", "2023")
    with pytest.raises(CodebookError, match="no \\[\\[sources\\]\\] entry with id = 'nope'"):
        read(qualtrics_file(tmp_path), codebook, "nope", "2023")


def test_mobility_file_is_not_a_survey(tmp_path, codebook):
    p = write_xlsx(tmp_path / "m.xlsx", [["Année universitaire", "Destination", "Type de mobilité"],
                                         ["2019-2020", "Belgique", "Stage"]])  # fmt: skip
    with pytest.raises(InputError, match="school-mobility mobility file, not a survey export"):
        read(p, codebook, "generic_csv", "2022")


def test_input_frame_untouched_and_key_required(tmp_path, codebook):
    schools = SCHOOLS.copy()
    read(qualtrics_file(tmp_path), codebook, "qualtrics_2023", "2023", schools=schools)
    pd.testing.assert_frame_equal(schools, SCHOOLS)
    with pytest.raises(ValueError, match="pseudonym_key"):
        read_survey_export(qualtrics_file(tmp_path), codebook, "qualtrics_2023", wave="2023",
                           filters=FilterConfig(), pseudonym_key="")  # fmt: skip


def test_school_table_with_id_column(tmp_path, codebook):
    p = tmp_path / "g.csv"
    p.write_text("ecole;budget;date\nEMA;1;\nimt_mines_ales;2;\n", encoding="utf-8")
    table = pd.DataFrame({"id": ["imt_mines_ales"], "name": ["IMT Mines Alès"], "aliases": ["EMA"]})
    res = read(p, codebook, "generic_csv", "2022", schools=table)
    assert list(res.responses["school"]) == ["imt_mines_ales", "imt_mines_ales"]


def test_identifier_variable_is_hashed_and_personal_columns_guarded(tmp_path):
    from analysis.ingest import parse_codebook

    text = (
        'version = 1\n[variables.school]\ntype = "school"\nvalues = { "1" = "imt_atlantique" }\n'
        '[variables.student]\ntype = "{t}"\n'
        '[[sources]]\nid = "s"\nplatform = "qualtrics"\n[sources.columns]\nQ1 = "school"\nRecipientEmail = "student"\n'
    )
    p = write_qualtrics(
        tmp_path / "q.csv", [qualtrics_row(1, {"Q1": "1"}, email="ann@example.org")]
    )
    res = read(p, parse_codebook(text.replace("{t}", "identifier"), "cb.toml"), "s", "2023")
    expected = hmac.new(KEY.encode(), b"s#value|ann@example.org", hashlib.sha256).hexdigest()[:32]
    assert res.responses["student"].tolist() == [expected]
    with pytest.raises(CodebookError, match="personal-data column 'RecipientEmail'"):
        read(p, parse_codebook(text.replace("{t}", "free-text"), "cb.toml"), "s", "2023")
