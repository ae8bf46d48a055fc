"""The study flow: raw exports -> tidy tables -> statistics -> report.

The flow only names the stages and passes their results on. The tasks are in
:mod:`flows.tasks`, their cache keys in :mod:`flows.cache`, the ingest stage in
:mod:`flows.stages`, result assembly in :mod:`flows.assembly`, run folders and publishing in
:mod:`flows.publish` and the Prefect artifacts in :mod:`flows.artifacts`.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import hashing
from flows.artifacts import publish_artifacts, run_name_for
from flows.assembly import assemble_results
from flows.cache import warm_code_digests
from flows.config_io import load_config
from flows.publish import publish, write_index
from flows.stages import StageFailure, ingest, output_run, stage, task_runner
from flows.tasks import (
    READERS,
    ingest_mobility,
    ingest_survey,
    load_enrolment,
    mobility_statistics,
    survey_statistics,
    write_outputs,
)

__all__ = [
    "READERS",
    "StageFailure",
    "assemble_results",
    "hash_inputs",
    "ingest_mobility",
    "ingest_survey",
    "load_enrolment",
    "mobility_statistics",
    "preload",
    "study_flow",
    "survey_statistics",
    "write_outputs",
]

# The statistics and report modules (svy, polars, statsmodels, matplotlib, jinja2: ~5 s of
# imports). Imported by preload(): by the CLI while a temporary Prefect server starts, else in
# the background during the ingest stage, when this process mostly waits for the readers.
HEAVY_MODULES = (
    "analysis.survey.study",
    "analysis.mobility.study",
    "reports.render",
    "reports.outputs",
    "reports.history",
)


def hash_inputs(config) -> None:
    """The content keys' parts, computed ahead (by the CLI while a temporary server starts):
    every input file's hash and every task's code digest."""
    hashing.hash_inputs(config)
    warm_code_digests()


def preload() -> None:
    for name in HEAVY_MODULES:
        importlib.import_module(name)


def _flow_run_name() -> str:
    """``imt-group-study-waves-2021-2023``: the study's title and survey waves, not a random
    pair of words (falls back to Prefect's default when the config cannot be read)."""
    from prefect.runtime import flow_run as current

    from analysis.config import ConfigError

    try:
        config = load_config((current.parameters or {}).get("config_path"))
    except (ConfigError, OSError):
        return "mobility-study"
    return run_name_for(config)


@flow(
    name="mobility-study",
    flow_run_name=_flow_run_name,
    log_prints=False,
    task_runner=task_runner(),
)
def study_flow(
    config_path: str | None = None, output_root: str = "output", lang: str | None = None
) -> str:
    """Run the whole study; return the path of the published report."""
    with stage("config", config_path):
        config = load_config(config_path)
    lang = lang or config.language
    root = Path(output_root).resolve()
    run_id = str(flow_run.id or "local")
    warm_code_digests()  # before the run starts threads
    with output_run(root, run_id) as paths:  # the run's folders; a failure keeps `latest`
        threading.Thread(target=preload, name="preload-modules", daemon=True).start()
        done = ingest(config, str(paths.interim))
        inputs = {kind: [*done[kind], *done["enrol"]] for kind in ("survey", "mobility")}
        with stage("survey statistics"):
            survey_fut = survey_statistics.submit(inputs["survey"], config)
        with stage("mobility statistics"):
            mobility_tables = mobility_statistics.submit(inputs["mobility"], config).result()
        with stage("survey statistics"):
            survey_tables = survey_fut.result()
        with stage("assemble results"):
            results = assemble_results(
                config, survey_tables, mobility_tables, done, root, paths.name, run_id
            )
        with stage("render report"):
            identity = {
                "flow_run_id": run_id,
                "generated_at": results.provenance["generated_at"],
                "run_name": paths.name,
            }
            staging, scratch = str(paths.staging), str(paths.scratch)
            write_outputs.submit(results, lang, identity, staging, scratch=scratch).result()
        with stage("publish"):
            final = publish(paths)
            write_index(root)
    report = final / "report.html"
    publish_artifacts(report, results, config)
    get_run_logger().info("report published: %s", report)
    return str(report)
