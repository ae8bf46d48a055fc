"""Issue 12, observations 1, 2, 4 and 5, reproduced on corpus shapes (tests/corpus) and on the
real command line (one run per path). Expected values come from the generator's facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .runner import report_text

REPO = Path(__file__).resolve().parents[2]


def _facts(corpus: Path, shape: str) -> dict:
    return json.loads((corpus / "shapes" / shape / "facts.json").read_text(encoding="utf-8"))


def _estimates(o) -> dict[str, dict]:
    return {e["key"]: e for e in o.results["estimates"]}


def test_obs1_year_without_mobility_records_is_no_data_not_zero(corpus, corpus_run):
    # enrolment 2014-2023, Erasmus+ release 2016-2021: the latest year (2023-24) has no
    # mobility source; it used to be 0.0 % and crashed the figure code ('xerr' negative)
    o = corpus_run("enrolment_wider")
    facts = _facts(corpus, "enrolment_wider")
    est = _estimates(o)
    for y in (2014, 2015, 2022, 2023):
        for s in facts["rates"]:
            e = est[f"mobility.outgoing_rate.{s}.{y}"]
            assert e["estimate"] is None and e["base"].startswith("no data")
        assert est[f"mobility.outgoing_rate_group.{y}"]["estimate"] is None
    # the trend model is fitted on the covered school-years only
    assert est["mobility.trend.model_choice"]["n_unweighted"] == facts["trend_cells"]
    text = report_text(o.html)
    assert "No mobility data for 2023-24" in text and "erasmus.csv: 2016-17 to 2021-22" in text
    assert "In 2021-22" in text  # the key finding quotes the latest year with data


def test_obs1_covid_years_without_mobility_records_give_no_fell_to_sentence(corpus_run):
    text = report_text(corpus_run("covid_years_missing").html)
    assert "fell to" not in text and "No mobility data for 2019-20" in text


def test_obs2_survey_only_study_has_survey_sections_only(corpus_run):
    o = corpus_run("survey_only")
    assert not [t for t in o.results["tables"] if t["id"].startswith("mobility.")]
    assert o.results["study"]["parts"]["mobility"] == {"present": False, "reason": "no_input"}
    assert 'id="sec-mobility"' not in o.html and 'id="sec-survey"' in o.html
    assert report_text(o.html).count("This study has no mobility input") == 1


def test_obs2_mobility_only_study_has_mobility_sections_only(corpus_run):
    o = corpus_run("mobility_only")
    assert not [t for t in o.results["tables"] if t["id"].startswith(("survey.", "sample."))]
    assert o.results["study"]["parts"]["survey"] == {"present": False, "reason": "no_input"}
    assert 'id="sec-survey"' not in o.html and 'id="sec-mobility"' in o.html
    assert report_text(o.html).count("This study has no survey input") == 1


def test_obs4_no_budget_in_config_means_no_budget_anywhere(corpus_run):
    o = corpus_run("no_budget")
    assert "mobility.budget" not in {t["id"] for t in o.results["tables"]}
    assert o.results["provenance"]["config"]["budget"] is None
    assert not [e for e in o.results["estimates"] if "budget" in e["key"]]
    text = report_text(o.html)
    assert "envelope" not in text and "90,000" not in text


def test_obs5_header_only_file_next_to_good_ones_is_named_and_its_wave_not_listed(
    corpus, corpus_run
):
    o = corpus_run("header_only")
    assert o.results["study"]["waves"] == ["2022", "2023"]  # not 2021 (header-only file)
    alerts = [a for a in o.results["data_quality"]["alerts"] if a["code"] == "survey_file_empty"]
    assert sorted(a["params"]["file"] for a in alerts) == [
        "survey_2021_ine.csv",
        "survey_2023_ine.csv",
    ]
    assert all("no data rows" in a["params"]["reason"] for a in alerts)
    text = report_text(o.html)
    # wave 2023 is Télécom Paris alone (IMT Nord Europe's export is empty): never "the group"
    assert "IMT group (all schools)" not in text
    assert "Every respondent is from one school, Télécom Paris" in text


def test_obs5_no_respondent_with_mobility_inputs_gives_a_mobility_only_report(corpus_run):
    o = corpus_run("all_empty_with_mobility")
    assert o.results["study"]["parts"]["survey"] == {"present": False, "reason": "no_respondent"}
    text = report_text(o.html)
    assert "No respondent in any survey file" in text and "survey_2023.csv" in text


@pytest.mark.slow
def test_obs5_no_respondent_left_is_a_one_line_error_exit_2(corpus):
    # the real command line: a temporary Prefect server, the flow, the CLI's error handling
    home = Path(tempfile.mkdtemp(prefix="corpus-cli-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "storage"),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    )
    shape = corpus / "shapes" / "all_empty"
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(shape / "study.toml"),
         "--output", str(corpus / "cli-out")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("mobility-study:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    for part in _facts(corpus, "all_empty")["error"]["contains"]:
        assert part in lines[0]
    assert "Traceback" not in proc.stderr
