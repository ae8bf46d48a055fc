"""Observation 6 of issue 12: a Qualtrics survey downloaded as SPSS ``.sav`` kept its survey
previews and unfinished responses (205 rows kept where 182 are real), and
``platform = "qualtrics"`` was refused for ``.sav``.

The ``.sav`` is written here with pyreadstat in the shape of Qualtrics' SPSS download
(the CSV export's metadata variables, SPSS-safe names such as ``Duration__in_seconds_``,
numeric ``Status``/``Finished`` with value labels).  Its rows are built from counts chosen
below, so the expected counts are those numbers.
"""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from analysis.config import FilterConfig
from analysis.ingest import inspect_path, parse_codebook, read_survey_export

REAL, PREVIEW, SPAM, UNFINISHED = 182, 12, 3, 8  # 205 rows in all

CODEBOOK = """
version = 1
[variables.school]
type = "school"
values = {{ "1" = "imt_atlantique", "2" = "telecom_paris" }}
[variables.intends_abroad]
type = "binary"
[[sources]]
id = "q"
platform = "{platform}"
[sources.columns]
Q1 = "school"
Q5 = "intends_abroad"
"""


def _write_sav(path):
    kinds = ["real"] * REAL + ["preview"] * PREVIEW + ["spam"] * SPAM + ["unfinished"] * UNFINISHED
    status = {"real": 0.0, "preview": 1.0, "spam": 8.0, "unfinished": 0.0}
    df = pd.DataFrame(
        {
            "StartDate": ["2023-03-01 10:00:00"] * len(kinds),
            "EndDate": ["2023-03-01 10:05:00"] * len(kinds),
            "Status": [status[k] for k in kinds],
            "IPAddress": ["192.0.2.1"] * len(kinds),
            "Progress": [40.0 if k == "unfinished" else 100.0 for k in kinds],
            "Duration__in_seconds_": [300.0] * len(kinds),
            "Finished": [0.0 if k == "unfinished" else 1.0 for k in kinds],
            "RecordedDate": ["2023-03-01 10:05:00"] * len(kinds),
            "ResponseId": [f"R_{i:05d}" for i in range(len(kinds))],
            "RecipientEmail": [""] * len(kinds),
            "Q1": [float(1 + i % 2) for i in range(len(kinds))],
            "Q5": [1.0] * len(kinds),
        }
    )
    pyreadstat.write_sav(
        df,
        str(path),
        column_labels={"Q1": "Your school", "Q5": "Do you intend to go abroad?"},
        variable_value_labels={
            "Status": {0.0: "IP Address", 1.0: "Survey Preview", 8.0: "Spam"},
            "Finished": {0.0: "False", 1.0: "True"},
            "Q1": {1.0: "IMT Atlantique", 2.0: "Télécom Paris"},
            "Q5": {1.0: "Yes", 2.0: "No"},
        },
    )
    return path


@pytest.fixture(scope="module")
def sav(tmp_path_factory):
    return _write_sav(tmp_path_factory.mktemp("sav") / "qualtrics_download.sav")


def test_obs6_inspect_says_qualtrics_sav(sav):
    info = inspect_path(sav)
    assert (info["format"], info["container"], info["rows"]) == ("qualtrics", "sav", 205)
    assert "IPAddress" in info["personal_data_columns"]


@pytest.mark.parametrize("platform", ["qualtrics", "spss"])
def test_obs6_qualtrics_filters_apply_to_sav(sav, platform):
    cb = parse_codebook(CODEBOOK.format(platform=platform), "cb.toml")
    res = read_survey_export(
        sav, cb, "q", wave="2023", filters=FilterConfig(), pseudonym_key="k", schools=None
    )
    m = res.manifest
    assert m["rows_read"] == 205
    assert m["rows_kept"] == REAL
    assert m["filtered"] == {
        "qualtrics_preview": PREVIEW,
        "qualtrics_test": 0,
        "qualtrics_spam": SPAM,
        "unfinished": UNFINISHED,
        "duplicate": 0,
    }
    assert m["quarantined"] == 0
    assert "IPAddress" in m["dropped_personal_columns"]
    assert "IPAddress" not in res.responses.columns
    # the kept rows are the real ones: schools alternate 1, 2 over the first 182 rows
    assert res.responses["school"].value_counts().to_dict() == {
        "imt_atlantique": 91,
        "telecom_paris": 91,
    }


def test_obs6_unfinished_kept_when_the_filter_is_off(sav):
    cb = parse_codebook(CODEBOOK.format(platform="qualtrics"), "cb.toml")
    res = read_survey_export(sav, cb, "q", wave="2023",
                             filters=FilterConfig(drop_unfinished=False), pseudonym_key="k")  # fmt: skip
    m = res.manifest
    assert m["rows_kept"] == REAL + UNFINISHED and "unfinished" not in m["filtered"]
    assert res.responses["finished"].value_counts().to_dict() == {1.0: REAL, 0.0: UNFINISHED}
