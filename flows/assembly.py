"""Result assembly: the statistics tables, data quality, provenance, disclosure control and the
changes since the last published run, as one :class:`ResultSet` (plain calls, no Prefect)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.changes import changes_since
from analysis.config import StudyConfig
from analysis.disclosure import apply_disclosure_control
from analysis.empty_inputs import empty_file_alerts, waves_with_respondents
from analysis.ingest import load_codebook
from analysis.mobility.coverage import no_data_alerts
from analysis.parts import study_parts
from analysis.results import ResultSet
from flows import provenance
from flows.hashing import file_sha
from flows.loading import reference_tables
from flows.publish import previous_results


def data_quality(survey_runs: list[dict], mobility_runs: list[dict], enrol: dict) -> dict:
    files = [r["meta"] for r in (*survey_runs, *mobility_runs, enrol)]
    quarantine_reasons: dict[str, int] = {}
    for r in (*survey_runs, *mobility_runs, enrol):
        q = pd.read_parquet(r["quarantine"])
        if len(q):
            for reason, n in q["reason"].value_counts().items():
                quarantine_reasons[str(reason)] = quarantine_reasons.get(str(reason), 0) + int(n)
    return {"files": files, "quarantine_reasons": quarantine_reasons}


def assemble_results(
    config: StudyConfig,
    survey_tables: list,
    mobility_tables: list,
    done: dict,
    root: Path,
    run_name: str,
    run_id: str,
):

    schools, _ = reference_tables(config)
    dq = data_quality(done["survey"], done["mobility"], done["enrol"][0])
    files = [
        {"file": m.get("file"), "sha256": m.get("sha256"), "rows": m.get("rows_read")}
        for m in dq["files"]
    ]
    for p in (config.codebook, config.config_path):
        files.append({"file": p.name, "sha256": file_sha(p), "rows": None})
    prov = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "flow_run_id": run_id,
        "run_name": run_name,
        "git_commit": provenance.git_commit(),
        "code_digest": provenance.code_digest(),
        "versions": provenance.package_versions(),
        "inputs": files,
        "config": config.to_dict(),
    }
    survey_meta = [r["meta"] for r in done["survey"]]
    study = {
        "title": dict(config.title),
        "synthetic": config.synthetic,
        "data_cutoff": config.data_cutoff,
        "waves": waves_with_respondents(survey_meta),  # a wave of empty files is not listed
        "schools": school_names(schools),
        # codebook labels of variables and options (docs/codebook.md): the report shows them
        "labels": load_codebook(config.codebook).report_labels(),
        "parts": study_parts(config, survey_tables, mobility_tables),
    }
    dq = {
        **dq,
        "alerts": [
            *dq.get("alerts", []),
            *empty_file_alerts(survey_meta),
            *no_data_alerts(mobility_tables, [r["meta"] for r in done["mobility"]]),
        ],
    }
    results = ResultSet(study, tuple([*survey_tables, *mobility_tables]), dq, prov)
    results, disclosure = apply_disclosure_control(
        results, min_count=config.disclosure.min_count, min_base=config.disclosure.min_base
    )
    changes = changes_since(previous_results(root), results.to_dict())
    return replace(
        results, data_quality={**results.data_quality, "disclosure": disclosure, "changes": changes}
    )


def school_names(schools: pd.DataFrame) -> dict[str, str]:
    """Current display name per school id (the table's row whose entity is the school itself)."""
    current = schools[schools["entity"] == schools["school_id"]]
    return dict(zip(current["school_id"], current["name"], strict=True))
