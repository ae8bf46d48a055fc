"""Builders for survey-export test files, written byte for byte like the platforms do
(see /work/shared/input-formats.md §1), plus the shared test codebook."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from analysis.config import FilterConfig
from analysis.ingest import load_codebook

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "surveys"
KEY = "test-pseudonym-key"

QUALTRICS_META = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel",
    "UserLanguage",
]  # fmt: skip
QUALTRICS_Q = [
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Q5",
    "Q6",
    "Q7",
    "Q8_1",
    "Q8_2",
    "Q8_3",
    "Q8_5",
    "Q9_TEXT",
    "Q10",
]


def csv_text(rows: Sequence[Sequence[str]], delimiter: str = ",", quote_all: bool = False,
             eol: str = "\n") -> str:  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=eol,
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)  # fmt: skip
    w.writerows(rows)
    return buf.getvalue()


def qualtrics_row(i: int, answers: dict[str, str], *, status: str = "0", finished: str = "1",
                  duration: str = "300", email: str = "", rid: str | None = None) -> dict[str, str]:  # fmt: skip
    base = {
        "StartDate": "2023-03-01 10:00:00", "EndDate": "2023-03-01 10:05:00", "Status": status,
        "IPAddress": f"192.0.2.{i}", "Progress": "100", "Duration (in seconds)": duration,
        "Finished": finished, "RecordedDate": "2023-03-01 10:05:00",
        "ResponseId": rid or f"R_test{i:04d}", "RecipientLastName": "Dupont",
        "RecipientFirstName": "Jeanne", "RecipientEmail": email, "ExternalReference": "",
        "LocationLatitude": "48.3582", "LocationLongitude": "-4.5700",
        "DistributionChannel": "email", "UserLanguage": "EN",
    }  # fmt: skip
    return base | answers


def write_qualtrics(path: Path, rows: list[dict[str, str]], *, questions=QUALTRICS_Q,
                    trailing_comma: bool = False) -> Path:  # fmt: skip
    """Modern export: column ids / labels / {"ImportId": ...} JSON, LF, no BOM."""
    cols = QUALTRICS_META + list(questions)
    labels = [c.replace("Q", "Question ") for c in cols]
    iids = [f'{{"ImportId":"{c.replace("Q", "QID")}"}}' for c in cols]
    body = [[r.get(c, "") for c in cols] for r in rows]
    text = csv_text([cols, labels, iids, *body])
    if trailing_comma:
        lines = text.split("\n")
        text = "\n".join(line + "," if i >= 3 and line else line for i, line in enumerate(lines))
    path.write_text(text, encoding="utf-8", newline="")
    return path


def write_limesurvey(path: Path, header: list[str], rows: list[list[str]], *, delimiter=";",
                     bom: bool = True) -> Path:  # fmt: skip
    """LimeSurvey CSV writer: BOM, every field quoted, CRLF, a final empty line."""
    text = csv_text([header, *rows], delimiter=delimiter, quote_all=True, eol="\r\n") + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


LIME_HEADER = ["id", "token", "submitdate", "lastpage", "startlanguage", "seed", "startdate",
               "datestamp", "ipaddr", "refurl", "G01Q01", "G01Q02", "G01Q03", "G01Q04", "G01Q05",
               "G02Q06[SQ001]", "G03Q07[SQ001]", "G03Q07[SQ002]", "G03Q07[SQ003]", "G04Q08",
               "interviewtime"]  # fmt: skip


def lime_row(i: int, answers: list[str], *, submit: str = "2021-05-03 12:00:00", token: str = "",
             time: str = "400") -> list[str]:  # fmt: skip
    return [str(i), token, submit, "4", "fr", "123", "2021-05-03 11:50:00", "2021-05-03 12:00:00",
            "203.0.113.9", "https://example.org/invite", *answers, time]  # fmt: skip


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture(scope="session")
def codebook():
    return load_codebook(FIXTURES / "codebook_test.toml")


@pytest.fixture
def filters() -> FilterConfig:
    return FilterConfig()
