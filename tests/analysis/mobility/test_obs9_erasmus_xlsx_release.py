"""Observation 9 of issue 12: the Erasmus+ KA1 XLSX release was not recognised.

``inspect`` said plain ``xlsx`` and read the first sheet only (150 of 243 rows over two
sheets); ``format = "erasmus-ka1"`` failed with a ``UnicodeDecodeError``; only the internal
name ``erasmus-xlsx`` worked.  The fixture is written by ``make_erasmus_xlsx.py`` (same
folder); every expected count below follows from the row kinds its docstring lists.
"""

from __future__ import annotations

import shutil

import pytest

from analysis.ingest.inspect import inspect_path
from analysis.mobility.readers import read_mobility_file
from analysis.schema import Mobility

from .conftest import FIXTURES

XLSX = FIXTURES / "Erasmus-KA1-Mobility-Data-2021.xlsx"


def test_obs9_inspect_recognises_the_release_and_reads_every_sheet():
    info = inspect_path(XLSX)
    assert (info["format"], info["container"]) == ("erasmus-ka1", "xlsx")
    assert info["rows"] == 243
    assert info["sheets"] == {"2014-2020": 150, "2021-2027": 93}


def test_obs9_fixture_script_writes_the_committed_workbook(tmp_path):
    from tests.fixtures.mobility.make_erasmus_xlsx import main

    fresh = inspect_path(main(tmp_path))
    assert fresh == {**inspect_path(XLSX), "file": fresh["file"]}


@pytest.mark.parametrize("fmt", ["erasmus-ka1", "auto", "erasmus-xlsx"])
def test_obs9_format_erasmus_ka1_reads_the_workbook(fmt, schools, countries):
    m = read_mobility_file(XLSX, fmt, schools, countries).manifest
    assert (m["format"], m["container"]) == ("erasmus-ka1", "xlsx")
    assert m["rows_read"] == 243
    # sheet 1: kinds 0 and 1 kept (30 + 30), 2-4 filtered (30 each); sheet 2: kind 0 kept
    # (31), kind 1 filtered (31), kind 2 quarantined (31)
    assert m["rows_kept"] == 91
    assert m["filtered"] == {
        "not_student_activity": 31,
        "sender_not_imt": 30,
        "sender_not_in_france": 30,
        "staff_profile": 30,
    }
    assert m["quarantined"] == 31
    assert m["participants_kept"] == 30 * 2 + 30 * 1 + 31 * 1


def test_obs9_records_of_both_programmes(schools, countries):
    r = read_mobility_file(XLSX, "erasmus-ka1", schools, countries).records
    got = r.groupby([Mobility.SCHOOL, Mobility.COUNTRY, Mobility.ACTIVITY])[
        Mobility.PARTICIPANTS
    ].sum()
    assert got.to_dict() == {
        ("imt_mines_albi", "DE", "traineeship"): 30,
        ("imt_nord_europe", "BE", "study"): 60,
        ("telecom_sudparis", "TR", "study"): 31,
    }
    # start 2021-10 -> 2021-22; the typed date 2022-02-01 -> 2021-22 too
    assert set(r[Mobility.ACADEMIC_YEAR]) == {2021}


def test_obs9_a_workbook_named_csv_is_still_a_workbook(tmp_path, schools, countries):
    p = tmp_path / "release.csv"  # content decides, not the name
    shutil.copy(XLSX, p)
    m = read_mobility_file(p, "erasmus-ka1", schools, countries).manifest
    assert (m["container"], m["rows_read"]) == ("xlsx", 243)


def test_obs9_sheets_with_columns_in_another_order(tmp_path, schools, countries):
    import openpyxl

    from tests.fixtures.mobility.make_erasmus_xlsx import HEADER, SHEETS

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    first = wb.create_sheet("2014-2020")
    for r in SHEETS["2014-2020"][:11]:  # header + rows 0-9: kinds 0, 1 kept twice each
        first.append(r)
    second = wb.create_sheet("2021-2027")
    order = list(reversed(range(len(HEADER))))
    for r in SHEETS["2021-2027"][1:5]:  # header + rows 0-2: kind 0 kept once
        second.append([r[i] for i in order])
    p = tmp_path / "reordered.xlsx"
    wb.save(p)
    info = inspect_path(p)
    assert (info["format"], info["rows"], info["sheets"]) == (
        "erasmus-ka1", 13, {"2014-2020": 10, "2021-2027": 3})  # fmt: skip
    m = read_mobility_file(p, "erasmus-ka1", schools, countries).manifest
    assert (m["rows_read"], m["rows_kept"], m["quarantined"]) == (13, 4 + 1, 1)
