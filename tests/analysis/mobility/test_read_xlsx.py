"""Yearly Erasmus+ XLSX releases: header drift, country names, two sheets from 2021.

Workbooks are written here with openpyxl, copying the drift documented in input-formats §2.1.
"""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from analysis.mobility.readers import MobilityFormatError, read_mobility_file
from analysis.schema import Mobility

HEADER_2021 = [
    "Project Reference",
    "Mobility Start Year/Month",
    "Mobility End Year/Month",
    "Mobility Duration - calendar days",
    "Activity (mob)",
    "Field",
    "Participant Gender",
    "Participant Profile",
    "Sending Country",
    "Sending Organisation",
    "Sending Organisation Erasmus Code",
    "Receiving Country",
    "Receiving Organisation",
    "Actual Participants (Contracted Projects)",
]
STUDY = "Student mobility for studies between Programme Countries"
TRAIN = "Student mobility for traineeships between Programme Countries"


def _r(start, days, act, profile, sc, code, rc, part, gender="Female", name="IMT"):
    return ["2021-1-FR01-KA131-1", start, "", days, act, "Higher Education", gender, profile, sc,
            name, code, rc, "Host", part]  # fmt: skip


def _workbook(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


@pytest.fixture()
def xlsx_2021(tmp_path):
    sheet_old = [
        HEADER_2021,
        # 1 kept: IMT Nord Europe -> Türkiye (name), 2 participants, int cells
        _r("2021-09", 120, STUDY, "Learner", "France", "F\u00a0 LILLE91", "Türkiye", 2),
        # 2 kept: a datetime start cell (2022-02 -> 2021-22), Czech Republic
        _r(
            dt.datetime(2022, 2, 1),
            150,
            TRAIN,
            "Learner",
            "France",
            "F  ALBI05",
            "Czech Republic",
            1,
        ),
        # 3 filtered: staff
        _r(
            "2021-10",
            5,
            "Staff mobility for teaching",
            "Staff",
            "France",
            "F  ALBI05",
            "Czechia",
            1,
        ),
        # 4 filtered: incoming from Germany (country name)
        _r("2021-10", 100, STUDY, "Learner", "Germany", "D  BERLIN01", "France", 3),
    ]
    sheet_new = [
        ["Erasmus+ 2021-2027"],  # a title row above the header
        HEADER_2021,
        # 1 kept: Kosovo * UN resolution, 3 participants
        _r("2022-03", "90", STUDY, "Learner", "France", "F  EVRY12", "Kosovo * UN resolution", 3),
        # 2 kept: The Republic of North Macedonia
        _r(
            "2021-11",
            60,
            STUDY,
            "Learner",
            "France",
            "F  CANNES09",
            "The Republic of North Macedonia",
            1,
        ),
        # 3 quarantined: participants 0
        _r("2021-11", 60, STUDY, "Learner", "France", "F  CANNES09", "Czechia", 0),
        [None] * len(HEADER_2021),  # blank row: skipped, not counted
    ]
    return _workbook(
        tmp_path / "Erasmus-KA1-Mobility-Data-2021.xlsx",
        {"2014-2020": sheet_old, "2021-2027": sheet_new, "Notes": [["free text"]]},
    )


def test_two_sheets_with_drifted_header(xlsx_2021, schools, countries):
    ing = read_mobility_file(xlsx_2021, "auto", schools, countries)
    m = ing.manifest
    assert (m["format"], m["container"]) == ("erasmus-ka1", "xlsx")
    assert m["rows_read"] == 7  # 4 + 3 data rows, the blank row and the Notes sheet ignored
    assert m["rows_kept"] == 4
    assert m["filtered"]["staff_profile"] == 1
    assert m["filtered"]["sender_not_in_france"] == 1
    assert m["quarantined"] == 1
    assert m["rows_read"] == m["rows_kept"] + sum(m["filtered"].values()) + m["quarantined"]
    r = ing.records
    assert list(r[Mobility.COUNTRY]) == ["TR", "CZ", "XK", "MK"]
    assert list(r[Mobility.SCHOOL]) == ["imt_nord_europe", "imt_mines_albi", "imt_bs", "eurecom"]
    assert list(r[Mobility.ACADEMIC_YEAR]) == [2021, 2021, 2021, 2021]
    assert list(r[Mobility.PARTICIPANTS]) == [2, 1, 3, 1]
    assert list(r[Mobility.DURATION_DAYS]) == [120, 150, 90, 60]
    # the sheet is named in the source file, rows numbered within their sheet
    assert list(r[Mobility.SOURCE_FILE].str.extract(r"\[(.*)\]")[0]) == [
        "2014-2020", "2014-2020", "2021-2027", "2021-2027"]  # fmt: skip
    assert list(r[Mobility.SOURCE_ROW]) == [1, 2, 1, 2]
    q = ing.quarantine
    assert list(q["reason"]) == ["bad_participants"]
    assert q["source_file"].iloc[0].endswith("[2021-2027]") and q["source_row"].iloc[0] == 3


def test_2018_header_with_codes_and_start_month(tmp_path, schools, countries):
    header = ["Project Reference", "Academic Year", "Mobility Start Month", "Mobility Duration",
              "Activity (mob)", "Participant Profile", "Sending Country Code",
              "Sending Organization", "Sending Organisation Erasmus Code",
              "Receiving Country Code", "Participants"]  # fmt: skip
    rows = [
        header,
        ["x", "2018-19", "2018-09", 100, STUDY, "Learner", "FR", "Mines", "F  ALES02", "EL", 2],
    ]
    p = _workbook(tmp_path / "Erasmus-KA1-Mobility-Data-2018.xlsx", {"Data": rows})
    ing = read_mobility_file(p, "erasmus-xlsx", schools, countries)
    assert ing.records[Mobility.COUNTRY].tolist() == ["GR"]
    assert ing.records[Mobility.ACADEMIC_YEAR].tolist() == [2018]


def test_workbook_without_erasmus_header_is_an_error(tmp_path, schools, countries):
    p = _workbook(tmp_path / "other.xlsx", {"S": [["a", "b"], [1, 2]]})
    with pytest.raises(MobilityFormatError, match="other.xlsx: row 1"):
        read_mobility_file(p, "erasmus-xlsx", schools, countries)
    with pytest.raises(MobilityFormatError, match="other.xlsx"):
        read_mobility_file(p, "auto", schools, countries)


def test_damaged_workbook_is_an_error(tmp_path, schools, countries):
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MobilityFormatError, match="broken.xlsx"):
        read_mobility_file(p, "erasmus-xlsx", schools, countries)


def test_records_frame_is_typed(xlsx_2021, schools, countries):
    r = read_mobility_file(xlsx_2021, "auto", schools, countries).records
    assert pd.api.types.is_integer_dtype(r[Mobility.ACADEMIC_YEAR])
    assert pd.api.types.is_integer_dtype(r[Mobility.PARTICIPANTS])
