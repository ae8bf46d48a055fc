"""Run one study folder end to end through the flow's own functions, without a Prefect server.

The same steps as :func:`flows.study.study_flow`, in the same order: the loading-task bodies
of :mod:`flows.loading`, the statistics tasks' bodies (``task.fn``),
:func:`flows.study.assemble_results` and the report (results.json and report.html; no
CSV/XLSX/PDF copies). What the flow adds around them (cache keys, retries, thread pool,
publishing) has its own tests (tests/flows); this path costs about a second of CPU a study.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.results import ResultSet
from flows import loading
from flows import study as flow_study
from flows.config_io import load_config


@dataclass(frozen=True)
class Outcome:
    results: dict  # results.json
    html: str  # report.html
    out_dir: Path


def run_study(config_path: Path, out_dir: Path, lang: str | None = None) -> Outcome:
    """The study of ``config_path`` into ``out_dir`` (results.json, report.html, tables)."""
    from reports.outputs import results_json
    from reports.render import render_report

    config = load_config(config_path)
    lang = lang or config.language
    interim = out_dir / ".interim"
    interim.mkdir(parents=True, exist_ok=True)
    done: dict[str, list] = {"survey": [], "mobility": [], "enrol": []}
    for i, s in enumerate(config.surveys):
        done["survey"].append(
            loading.load_survey(
                str(s.path), s.source, s.wave, config, str(interim), f"survey-{i}", "-"
            )
        )
    for i in range(len(config.mobility)):
        done["mobility"].append(
            loading.load_mobility(i, config, str(interim), f"mobility-{i}", "-")
        )
    enrol = loading.load_enrolment(config, str(interim), "enrolment", "-")
    done["enrol"].append(enrol)
    survey_tables = flow_study.survey_statistics.fn([*done["survey"], enrol], config)
    mobility_tables = flow_study.mobility_statistics.fn([*done["mobility"], enrol], config)
    results: ResultSet = flow_study.assemble_results(
        config, survey_tables, mobility_tables, done, out_dir, "corpus", "corpus"
    )
    identity = {"flow_run_id": "corpus", "generated_at": "-", "run_name": "corpus"}
    html = render_report(results, lang, identity)
    # results.json and report.html as reports.outputs writes them; the CSV/XLSX/PDF copies
    # (tested in tests/reports) would cost ~1 s a shape and carry no fact of their own
    text = results_json(results)
    (out_dir / "results.json").write_text(text, encoding="utf-8")
    (out_dir / "report.html").write_text(html, encoding="utf-8")
    return Outcome(json.loads(text), html, out_dir)


def report_text(html: str) -> str:
    """The report's visible text (no scripts, styles or SVG), whitespace collapsed."""
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body)))
