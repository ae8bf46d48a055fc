"""Limits on hostile input files (issue 13.5): refused at once, with the file named.

Observed: an XLSX of 5.3 MB that inflates to 1.5 GB hung the run (killed after 400 s). The
bombs here are generated small (the limit lowered through its environment variable where
inflating to the default limit would take the test too long) and must be refused in well
under a second, by the readers the flow calls.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from analysis.enrolment import read_enrolment
from analysis.ingest.source import open_table
from analysis.limits import ENV, LimitError, check_input_file
from analysis.mobility import read_mobility_file
from analysis.mobility.tables import default_table_path

SHEET = "xl/worksheets/sheet1.xml"


def _rewrite_sheet(path: Path, write_sheet) -> None:
    """A real workbook (openpyxl) whose first sheet's XML is replaced by ``write_sheet(fh)``."""
    wb = Workbook()
    wb.active.append(["Sending Country", "Receiving Country", "Participants"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename == SHEET:
                with out.open(SHEET, "w", force_zip64=True) as fh:
                    write_sheet(fh)
            else:
                out.writestr(info, src.read(info))


def _bomb(path: Path, inflated: int) -> Path:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    row = b'<row><c t="inlineStr"><is><t>FR</t></is></c><c t="inlineStr"><is><t>DE</t></is></c><c><v>1</v></c></row>'
    block = row * (65536 // len(row))

    def write(fh):
        fh.write(head)
        for _ in range(inflated // len(block) + 1):
            fh.write(block)
        fh.write(b"</sheetData></worksheet>")

    _rewrite_sheet(path, write)
    return path


def _tables():
    import pandas as pd

    read = lambda n: pd.read_csv(default_table_path(n), dtype=str, keep_default_na=False)  # noqa: E731
    return read("schools"), read("countries")


def test_an_xlsx_that_inflates_past_the_limit_is_refused_before_openpyxl(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV["xlsx_uncompressed_bytes"], str(4 << 20))
    bomb = _bomb(tmp_path / "erasmus.xlsx", 8 << 20)
    assert bomb.stat().st_size < 200_000  # small on disk, 8 MB inflated: a 40x+ bomb
    schools, countries = _tables()
    t0 = time.perf_counter()
    with pytest.raises(LimitError, match=r"erasmus\.xlsx: the workbook inflates to [\d,]+ bytes"):
        read_mobility_file(bomb, "erasmus-xlsx", schools, countries)
    with pytest.raises(LimitError, match="erasmus.xlsx"):
        open_table(bomb)  # the survey readers' entry point
    assert time.perf_counter() - t0 < 2


def test_an_xlsx_declaring_a_whole_sheet_of_cells_is_refused(tmp_path):
    """Default limits: a tiny sheet whose dimension claims 16384 x 1048576 cells (openpyxl's
    read-only rows are padded to the declared width)."""

    def write(fh):
        fh.write(
            b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>'
            b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
        )

    path = tmp_path / "survey.xlsx"
    _rewrite_sheet(path, write)
    with pytest.raises(LimitError, match=r"survey\.xlsx: sheet .* declares 16,384 columns"):
        open_table(path)


def test_an_xlsx_with_more_cells_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV["xlsx_cells"], "10000")
    bomb = _bomb(tmp_path / "cells.xlsx", 1 << 20)
    with pytest.raises(LimitError, match=r"cells\.xlsx: the sheets hold over [\d,]+ cells"):
        check_input_file(bomb)


def test_a_csv_with_a_giant_line_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(b"ResponseId,Q1\nR_1," + b"x" * (5 << 20) + b"\nR_2,y\n")
    with pytest.raises(LimitError, match=r"survey\.csv: line 2 is too long"):
        open_table(path)


def test_a_line_without_any_newline_is_refused(tmp_path):
    path = tmp_path / "enrolment.csv"
    path.write_bytes(b"school;" + b"9" * (5 << 20))
    with pytest.raises(LimitError, match=r"enrolment\.csv: line 1 is too long"):
        read_enrolment(path, _tables()[0])


def test_a_header_with_too_many_columns_is_refused(tmp_path):
    path = tmp_path / "mobility.csv"
    path.write_text(";".join(f"c{i}" for i in range(6000)) + "\n" + ";" * 5999 + "\n")
    schools, countries = _tables()
    with pytest.raises(LimitError, match=r"mobility\.csv: the header line has 6,000 fields"):
        read_mobility_file(path, "auto", schools, countries)


def test_the_bundled_inputs_are_within_the_limits():
    raw = Path(__file__).resolve().parents[2] / "data" / "raw"
    for p in raw.glob("*.csv"):
        check_input_file(p)


def test_a_bad_limit_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV["line_bytes"], "lots")
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LimitError, match="MOBILITY_STUDY_MAX_LINE_BYTES='lots'"):
        check_input_file(path)
