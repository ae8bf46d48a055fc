"""Format detection from content (not file names) and inspect_path, on real and generated files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis.ingest import InputError, inspect_path

from .conftest import (
    FIXTURES,
    LIME_HEADER,
    csv_text,
    lime_row,
    qualtrics_row,
    write_limesurvey,
    write_qualtrics,
    write_xlsx,
)


# ----------------------------------------------------------------------------- real samples
def test_real_qualtrics_modern_sample():
    info = inspect_path(FIXTURES / "qualtrics_modern_sample.csv")
    assert (info["format"], info["variant"]) == ("qualtrics", "numeric-values")
    assert (info["encoding"], info["delimiter"], info["header_rows"], info["rows"]) == (
        "utf-8",
        ",",
        3,
        1,
    )
    assert info["columns"][:3] == ["StartDate", "EndDate", "Status"]
    assert {"IPAddress", "RecipientEmail", "LocationLatitude", "LocationLongitude",
            "RecipientLastName", "ExternalReference"} <= set(info["personal_data_columns"])  # fmt: skip
    assert "Q1" not in info["personal_data_columns"]


def test_real_limesurvey_remotecontrol_sample():
    info = inspect_path(FIXTURES / "limesurvey_remotecontrol_code_semicolon.csv")
    assert (info["format"], info["variant"]) == ("limesurvey", "code-headings")
    # BOM, ';', CRLF and the trailing blank line: one data row, first id without BOM
    assert (info["encoding"], info["delimiter"], info["rows"]) == ("utf-8-sig", ";", 1)
    assert info["columns"][0] == "id" and info["columns"][-1] == "q10[wor7]"
    assert len(info["columns"]) == 9 + 10 * 7  # id..MinistryRole + q1..q10 x 7


def test_real_spss_sample():
    info = inspect_path(FIXTURES / "spss_value_labels_sample.sav")
    assert (info["format"], info["container"], info["encoding"], info["rows"]) == (
        "spss", "sav", "windows-1252", 5)  # fmt: skip
    assert info["value_labels"] == ["mylabl", "myord"]
    assert info["variable_labels"]["mylabl"] == "labeled"  # variable label stored in the file


def test_detection_ignores_file_name(tmp_path):
    p = tmp_path / "survey.xlsx.txt"  # misleading name: content decides
    shutil.copy(FIXTURES / "qualtrics_modern_sample.csv", p)
    assert inspect_path(p)["format"] == "qualtrics"


# ----------------------------------------------------------------------------- Qualtrics variants
def test_qualtrics_choice_text_variant(tmp_path):
    rows = [qualtrics_row(1, {"Q1": "IMT Atlantique"}, status="IP Address", finished="True")]
    info = inspect_path(write_qualtrics(tmp_path / "a.csv", rows))
    assert (info["format"], info["variant"], info["rows"]) == ("qualtrics", "choice-text", 1)


def test_qualtrics_trailing_comma_rows(tmp_path):
    rows = [qualtrics_row(i, {"Q1": "1"}) for i in range(3)]
    info = inspect_path(write_qualtrics(tmp_path / "a.csv", rows, trailing_comma=True))
    assert info["rows"] == 3 and info["variant"] == "numeric-values"


def test_qualtrics_legacy(tmp_path):
    text = (
        "\ufeffV1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1,Q2,LocationLatitude,LocationLongitude,LocationAccuracy,\n"
        "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,"
        "EndDate,Finished,Your school,Abroad?,LocationLatitude,LocationLongitude,LocationAccuracy,\n"
        "R_1,Default Response Set,Anonymous,,,130.92.34.66,0,2016-03-01 10:00:00,2016-03-01 10:05:00,1,1,1,47.1,7.2,-1,\n"
        "R_2,Default Response Set,Anonymous,,,130.92.34.67,0,2016-03-01 11:00:00,2016-03-01 11:05:00,1,2,2,47.1,7.2,-1,\n"
    )  # fmt: skip
    p = tmp_path / "legacy.csv"
    p.write_text(text, encoding="utf-8", newline="")
    info = inspect_path(p)
    assert (info["format"], info["variant"], info["header_rows"], info["rows"]) == (
        "qualtrics",
        "legacy",
        2,
        2,
    )
    assert info["encoding"] == "utf-8-sig"
    # V1..V10 are renamed from the second header row
    assert info["columns"][:3] == ["ResponseID", "ResponseSet", "Name"]
    assert {"EmailAddress", "IPAddress", "ResponseID", "Name"} <= set(info["personal_data_columns"])


def write_insights(path: Path) -> Path:
    cols = ["ResponseID", "ResponseSet", "IPAddress", "StartDate", "EndDate", "RecipientLastName",
            "RecipientFirstName", "RecipientEmail", "ExternalDataReference", "Finished", "Status",
            "Q1", "Q2", "Q3_1", "Q3_2"]  # fmt: skip
    labels = cols[:11] + ["School", "Abroad?", "Regions - Euroregion", "Regions - Asia"]
    iids = [f"{{'ImportId': '{c}'}}" for c in cols[:11]] + [
        "{'ImportId': 'QID1'}", "{'ImportId': 'QID2'}", "{'ImportId': 'QID3-1'}", "{'ImportId': 'QID3-2'}"]  # fmt: skip
    rows = [
        ["R_a", "Default", "198.51.100.1", "2017-04-01 09:00:00", "2017-04-01 09:04:00", "", "", "",
         "", "1", "0", "1", "1", "1", ""],
        ["R_b", "Default", "198.51.100.2", "2017-04-01 09:00:00", "2017-04-01 09:04:00", "", "", "",
         "", "1", "0", "2", "2", "", ""],
    ]  # fmt: skip
    path.write_text(csv_text([cols, labels, iids, *rows]), encoding="utf-8", newline="")
    return path


def test_qualtrics_insights(tmp_path):
    info = inspect_path(write_insights(tmp_path / "insights.csv"))
    assert (info["format"], info["variant"], info["header_rows"], info["rows"]) == (
        "qualtrics",
        "insights",
        3,
        2,
    )


# ----------------------------------------------------------------------------- LimeSurvey
def test_limesurvey_code_headings_comma_no_bom(tmp_path):
    p = write_limesurvey(
        tmp_path / "l.csv", LIME_HEADER, [lime_row(1, ["A1"] * 10)], delimiter=",", bom=False
    )
    info = inspect_path(p)
    assert (info["format"], info["variant"], info["delimiter"], info["encoding"]) == (
        "limesurvey", "code-headings", ",", "utf-8")  # fmt: skip
    assert {"token", "ipaddr", "refurl", "id"} <= set(info["personal_data_columns"])


def test_limesurvey_full_headings(tmp_path):
    header = ["Response ID", "Date submitted", "Last page", "Start language", "Seed", "Date started",
              "Date last action", "École", "Genre"]  # fmt: skip
    p = write_limesurvey(
        tmp_path / "full.csv", header, [["1", "", "2", "fr", "1", "", "", "A1", "A2"]]
    )
    info = inspect_path(p)
    assert (info["format"], info["variant"], info["rows"]) == ("limesurvey", "full-headings", 1)


def test_limesurvey_xlsx_is_limesurvey(tmp_path):
    p = write_xlsx(
        tmp_path / "export.xlsx", [LIME_HEADER, lime_row(1, ["A1"] * 10), lime_row(2, ["A2"] * 10)]
    )
    info = inspect_path(p)
    assert (info["format"], info["variant"], info["container"], info["rows"]) == (
        "limesurvey", "code-headings", "xlsx", 2)  # fmt: skip


# ----------------------------------------------------------------------------- Forms, Monkey, SPSS
@pytest.mark.parametrize("first", ["Timestamp", "Horodateur"])
def test_google_forms(tmp_path, first):
    text = csv_text([[first, "Votre école", "Régions préférées"],
                     ["21/08/2019 13:10:31", "IMT Atlantique", "Asie, Autre Europe"]], eol="\r\n")  # fmt: skip
    p = tmp_path / "forms.csv"
    p.write_text(text, encoding="utf-8", newline="")
    info = inspect_path(p)
    assert (info["format"], info["rows"]) == ("google-forms", 1)


def test_surveymonkey_two_header_rows(tmp_path):
    rows = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
         "First Name", "Last Name", "Custom Data 1", "Which school are you in?", "Preferred regions", ""],
        ["", "", "", "", "", "", "", "", "", "Response", "Asia", "Other Europe"],
        ["11", "9", "11/23/2020 10:10:10 AM", "11/23/2020 10:20:10 AM", "198.51.100.7",
         "a@example.org", "Ann", "Lee", "", "IMT Atlantique", "Asia", ""],
    ]  # fmt: skip
    p = tmp_path / "monkey.csv"
    p.write_text(csv_text(rows), encoding="utf-8", newline="")
    info = inspect_path(p)
    assert (info["format"], info["header_rows"], info["rows"]) == ("surveymonkey", 2, 1)
    assert info["columns"][9:] == ["Which school are you in?", "Preferred regions [Asia]",
                                   "Preferred regions [Other Europe]"]  # fmt: skip
    assert {"IP Address", "Email Address", "First Name", "Last Name", "Custom Data 1",
            "Respondent ID"} <= set(info["personal_data_columns"])  # fmt: skip


def test_spss_generated_with_user_missing(tmp_path):
    df = pd.DataFrame({"school": [1.0, 2.0, 99.0], "sex": [1.0, 2.0, 1.0]})
    p = tmp_path / "s.sav"
    pyreadstat.write_sav(df, str(p), variable_value_labels={"school": {1.0: "IMT Atlantique", 2.0: "IMT Nord Europe", 99.0: "No answer"}},
                         missing_ranges={"school": [99.0]})  # fmt: skip
    info = inspect_path(p)
    assert (info["format"], info["rows"]) == ("spss", 3)
    assert info["user_missing"] == {"school": [[99.0, 99.0]]}


# ----------------------------------------------------------------------------- generic + mobility
def test_generic_csv_cp1252_semicolon_decimal_comma(tmp_path):
    p = tmp_path / "g.csv"
    p.write_bytes(
        "ecole;budget;date\r\nTélécom Paris;1\u00a0234,50;03/04/2022\r\n".encode("cp1252")
    )
    info = inspect_path(p)
    assert (info["format"], info["encoding"], info["delimiter"], info["decimal_comma"]) == (
        "csv",
        "cp1252",
        ";",
        True,
    )


def test_generic_xlsx(tmp_path):
    info = inspect_path(
        write_xlsx(tmp_path / "g.xlsx", [["ecole", "budget"], ["IMT Atlantique", 12.5]])
    )
    assert (info["format"], info["container"], info["rows"]) == ("xlsx", "xlsx", 1)


def test_erasmus_ka1_by_header(tmp_path):
    header = ("Project Reference;Academic Year;Mobility Start Month;Mobility End Month;Mobility Duration;"
              "Activity (mob);Field of Education;Participant Nationality;Education Level;Participant Gender;"
              "Participant Profile;Special Needs;Fewer Opportunities;GroupLeader;Participant Age;"
              "Sending Country Code;Sending City;Sending Organization;Sending Organisation Erasmus Code;"
              "Receiving Country Code;Receiving City;Receiving Organization;Receiving Organisation Erasmus Code;"
              "Participants")  # fmt: skip
    row = ("2019-1-FR01-KA103-061234;2019-2020;2019-09;2020-01;150;Student mobility for studies between "
           "Programme Countries;Engineering;FR;ISCED-7;Female;Learner;No;No;No;22;FR;Douai;IMT;F\u00a0 LILLE91;"
           "BE;Mons;UMONS;B  MONS21;1")  # fmt: skip
    p = tmp_path / "anything.csv"
    p.write_text(header + "\n" + row + "\n", encoding="utf-8")
    info = inspect_path(p)
    assert (info["format"], info["delimiter"], info["rows"]) == ("erasmus-ka1", ";", 1)


@pytest.mark.parametrize(
    "header",
    [["Année universitaire", "Destination", "Type de mobilité", "Durée (mois)"],
     ["Academic year", "Destination country", "Mobility type", "Months"]],
)  # fmt: skip
def test_school_mobility_spreadsheet(tmp_path, header):
    p = write_xlsx(tmp_path / "m.xlsx", [["Mobilités sortantes IMT Nord Europe"], header,
                                         ["2019-2020", "Belgique", "Double diplôme", 12]])  # fmt: skip
    info = inspect_path(p)
    assert (info["format"], info["header_rows"], info["rows"]) == ("school-mobility", 2, 1)


# ----------------------------------------------------------------------------- hostile input
def _raises(path: Path, *fragments: str) -> str:
    with pytest.raises(InputError) as exc:
        inspect_path(path)
    msg = str(exc.value)
    assert "\n" not in msg and path.name in msg
    for f in fragments:
        assert f in msg
    return msg


def test_empty_and_blank_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    _raises(tmp_path / "empty.csv", "empty file")
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf\r\n \r\n")
    _raises(tmp_path / "blank.csv", "empty file")


def test_binary_file(tmp_path):
    p = tmp_path / "export.csv"
    p.write_bytes(bytes(range(256)) * 4)
    _raises(p, "binary")


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile

    p = tmp_path / "x.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    _raises(p, "not an XLSX")


def test_truncated_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "g.xlsx", [["a", "b"], [1, 2]])
    p = tmp_path / "cut.xlsx"
    p.write_bytes(good.read_bytes()[:300])
    _raises(p, "XLSX")


def test_truncated_inside_quoted_cell(tmp_path):
    p = write_limesurvey(
        tmp_path / "cut.csv", LIME_HEADER, [lime_row(1, ["A1"] * 10), lime_row(2, ["A1"] * 10)]
    )
    data = p.read_bytes()
    p.write_bytes(data[: data.rindex(b'"A1"') + 2])  # cut after the opening quote + 1 char
    _raises(p, "truncated inside a quoted cell")


def test_truncated_mid_row_is_reported_not_fatal(tmp_path):
    rows = [qualtrics_row(i, {"Q1": "1"}) for i in range(3)]
    p = write_qualtrics(tmp_path / "q.csv", rows)
    text = p.read_text(encoding="utf-8")
    p.write_text(
        text[: text.rindex("R_test0002") + 4], encoding="utf-8"
    )  # last line cut, no quote open
    info = inspect_path(p)
    assert info["rows"] == 3 and info["short_rows"] == 1


def test_header_only(tmp_path):
    p = write_qualtrics(tmp_path / "q.csv", [])
    info = inspect_path(p)
    assert (info["format"], info["rows"]) == ("qualtrics", 0)


def test_qualtrics_header_truncated(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        "StartDate,EndDate,Status,ResponseId,Q1\nStart Date,End Date,Status,Response ID,School\n"
    )
    _raises(p, "truncated in its 3 header rows")


def test_mixed_utf8_and_cp1252_bytes(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_bytes(b"ecole;commentaire\n" + "Télécom Paris;déjà\n".encode()
                  + "IMT Mines Alès;très bien\n".encode("cp1252"))  # fmt: skip
    info = inspect_path(p)
    assert (info["encoding"], info["rows"]) == ("mixed", 2)


def test_xls_legacy_workbook(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    _raises(p, ".xls")


def test_unquoted_delimiter_in_cell_names_line(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("Timestamp,School,Comment\n2019-01-01,IMT,ok\n2019-01-02,IMT,a,b,c\n")
    _raises(p, "line 3", "5 fields")
