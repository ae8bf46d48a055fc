"""`mobility-study inspect PATH [--json]` as a subprocess on each export format.

All commands are started at once (module fixture) so the interpreter start-up costs are paid
in parallel.  Exit 0 with one JSON object on stdout; exit 2 with a one-line message naming the
file for unreadable input (the InputError message).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "fixtures" / "surveys"


def _exe() -> list[str]:
    near = Path(sys.executable).parent / "mobility-study"
    if near.exists():
        return [str(near)]
    found = shutil.which("mobility-study")
    if found:
        return [found]
    pytest.skip("the mobility-study console script is not installed (pip install -e .)")


def _write_files(d: Path) -> dict[str, Path]:
    import openpyxl

    files = {
        "qualtrics": REAL / "qualtrics_modern_sample.csv",
        "limesurvey": REAL / "limesurvey_remotecontrol_code_semicolon.csv",
        "spss": REAL / "spss_value_labels_sample.sav",
    }
    p = d / "forms.csv"
    p.write_text(
        "Horodateur,Votre école\r\n21/08/2019 13:10:31,IMT Atlantique\r\n", encoding="utf-8"
    )
    files["google-forms"] = p
    p = d / "monkey.csv"
    p.write_text(
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,School\n"
        ",,,,,Response\n1,2,2020-01-01,2020-01-01,198.51.100.1,IMT Atlantique\n",
        encoding="utf-8",
    )
    files["surveymonkey"] = p
    p = d / "erasmus.csv"
    p.write_text(
        "Project Reference;Academic Year;Mobility Start Month;Participants\n"
        "2019-1-FR01-KA103-061234;2019-2020;2019-09;1\n",
        encoding="utf-8",
    )
    files["erasmus-ka1"] = p
    wb = openpyxl.Workbook()
    for row in (
        ["Année universitaire", "Destination", "Type de mobilité"],
        ["2019-2020", "Belgique", "Stage"],
    ):
        wb.active.append(row)
    wb.save(d / "school.xlsx")
    files["school-mobility"] = d / "school.xlsx"
    wb = openpyxl.Workbook()
    for row in (
        ["id", "submitdate", "lastpage", "startlanguage", "G01Q01"],
        [1, "2021-01-01 10:00:00", 2, "fr", "A1"],
    ):
        wb.active.append(row)
    wb.save(d / "lime.xlsx")
    files["limesurvey-xlsx"] = d / "lime.xlsx"
    (d / "empty.csv").write_bytes(b"")
    files["error-empty"] = d / "empty.csv"
    (d / "cut.csv").write_text('Timestamp,Comment\n2019-01-01,"never closed\n', encoding="utf-8")
    files["error-truncated"] = d / "cut.csv"
    return files


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    exe = _exe()
    files = _write_files(tmp_path_factory.mktemp("cli-inspect"))
    procs = {
        k: subprocess.Popen(
            [*exe, "inspect", str(p), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )  # fmt: skip
        for k, p in files.items()
    }
    out = {}
    for k, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[k] = (proc.returncode, stdout, stderr, files[k])
    return out


@pytest.mark.parametrize(
    ("key", "fmt", "variant"),
    [
        ("qualtrics", "qualtrics", "numeric-values"),
        ("limesurvey", "limesurvey", "code-headings"),
        ("limesurvey-xlsx", "limesurvey", "code-headings"),
        ("spss", "spss", "value-labels"),
        ("google-forms", "google-forms", None),
        ("surveymonkey", "surveymonkey", None),
        ("erasmus-ka1", "erasmus-ka1", None),
        ("school-mobility", "school-mobility", None),
    ],
)
def test_inspect_json_each_format(results, key, fmt, variant):
    rc, stdout, stderr, path = results[key]
    assert rc == 0, stderr
    info = json.loads(stdout)
    assert (info["format"], info["variant"], info["file"]) == (fmt, variant, path.name)
    assert info["rows"] >= 1 and isinstance(info["personal_data_columns"], list)


@pytest.mark.parametrize(
    ("key", "words"),
    [("error-empty", "empty file"), ("error-truncated", "truncated inside a quoted cell")],
)
def test_inspect_unreadable_exits_2_with_one_line(results, key, words):
    rc, stdout, stderr, path = results[key]
    assert rc == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0] and words in lines[0]
