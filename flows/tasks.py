"""The study's Prefect tasks: one per input file, one per statistics family, one for the outputs.

Tasks are coarse and exchange file paths or small result objects, never large frames: big
intermediates are Parquet files under ``<output>/.interim/`` named by their cache key (see
:mod:`flows.cache`). The loading bodies live in :mod:`flows.loading` (no Prefect there: they
may run in reader processes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from analysis.config import StudyConfig
from analysis.ingest import load_codebook
from analysis.sample import response_rate_table
from flows.cache import (
    CACHE_EXPIRATION,
    enrolment_key,
    keyed,
    mobility_key,
    retry_on_io_error,
    stats_key,
    survey_key,
)
from flows.hashing import file_sha
from flows.loading import ReaderPool, load_mobility, load_survey
from flows.loading import load_enrolment as _load_enrolment

# reader processes of the running flow (none: the loading tasks read in their own thread)
READERS = ReaderPool()


def _file_run_name() -> str:
    """``ingest-survey[survey_2023_qualtrics.csv]``: the task run named after its input file."""
    from prefect.runtime import task_run

    params = task_run.parameters or {}
    name = task_run.task_name or "task"
    if "path" in params:
        return f"{name}[{Path(params['path']).name}]"
    config = params.get("config")
    if "index" in params and config is not None:
        return f"{name}[{config.mobility[params['index']].path.name}]"
    if config is not None:
        return f"{name}[{config.enrolment.name}]"
    return name


@task(
    name="ingest-survey",
    task_run_name=_file_run_name,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_io_error,
    persist_result=True,
    cache_key_fn=keyed(
        lambda p: survey_key(p["path"], p["source"], p["wave"], p["config"], p["interim"])
    ),
    cache_expiration=CACHE_EXPIRATION,
)
def ingest_survey(path: str, source: str, wave: str, config: StudyConfig, interim: str) -> dict:
    """Read one survey export through the codebook into the tidy response table."""
    log = get_run_logger()
    log.info("ingesting survey export %s (source %s, wave %s)", Path(path).name, source, wave)
    key = survey_key(path, source, wave, config, interim)
    sha = file_sha(path)
    size = Path(path).stat().st_size
    return READERS.run(
        load_survey, path, source, wave, config, interim, key, sha, nbytes=size, log=log
    )


@task(
    name="ingest-mobility",
    task_run_name=_file_run_name,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_io_error,
    persist_result=True,
    cache_key_fn=keyed(lambda p: mobility_key(p["index"], p["config"], p["interim"])),
    cache_expiration=CACHE_EXPIRATION,
)
def ingest_mobility(index: int, config: StudyConfig, interim: str) -> dict:
    """Read one mobility file (Erasmus+ release or a school's spreadsheet) into tidy records."""
    m = config.mobility[index]
    log = get_run_logger()
    log.info("ingesting mobility file %s (%s)", m.path.name, m.format)
    key = mobility_key(index, config, interim)
    sha = file_sha(m.path)
    size = m.path.stat().st_size
    return READERS.run(load_mobility, index, config, interim, key, sha, nbytes=size, log=log)


@task(
    name="load-enrolment",
    task_run_name=_file_run_name,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_io_error,
    persist_result=True,
    cache_key_fn=keyed(lambda p: enrolment_key(p["config"], p["interim"])),
    cache_expiration=CACHE_EXPIRATION,
)
def load_enrolment(config: StudyConfig, interim: str) -> dict:
    """Read enrolment per school, year and gender (the population of every rate)."""
    key = enrolment_key(config, interim)
    return _load_enrolment(config, interim, key, file_sha(config.enrolment))


@task(
    name="survey-statistics",
    task_run_name="survey-statistics",
    persist_result=True,
    cache_key_fn=lambda ctx, p: stats_key("survey_statistics", p),
    cache_expiration=CACHE_EXPIRATION,
)
def survey_statistics(inputs: list[dict], config: StudyConfig) -> list:
    """Weights, design-based estimates, comparisons and models for the survey."""

    from analysis.empty_inputs import check_respondents

    surveys = [r for r in inputs if "responses" in r]
    if not surveys or not check_respondents([r["meta"] for r in surveys], bool(config.mobility)):
        return []  # no survey input, or no respondent in a study with mobility: no survey part
    surveys = [r for r in surveys if r["meta"].get("rows_kept")]  # empty files: alerts only
    enrol = next(r for r in inputs if "enrolment" in r)
    responses = pd.concat([pd.read_parquet(r["responses"]) for r in surveys], ignore_index=True)
    enrolment = pd.read_parquet(enrol["enrolment"])
    variables = load_codebook(config.codebook).variable_types()
    from analysis.survey.study import survey_result_tables

    tables, _weighted = survey_result_tables(responses, enrolment, config, variables)
    rates = response_rate_table(responses, enrolment, config.weighting.reference_year)
    return [rates, *tables]


@task(
    name="mobility-statistics",
    task_run_name="mobility-statistics",
    persist_result=True,
    cache_key_fn=lambda ctx, p: stats_key("mobility_statistics", p),
    cache_expiration=CACHE_EXPIRATION,
)
def mobility_statistics(inputs: list[dict], config: StudyConfig) -> list:
    """Outgoing-mobility indicators and trend models."""

    if not any("records" in r for r in inputs):
        return []  # no [[inputs.mobility]]: a survey-only study
    records = pd.concat(
        [pd.read_parquet(r["records"]) for r in inputs if "records" in r], ignore_index=True
    )
    enrolment = pd.read_parquet(next(r for r in inputs if "enrolment" in r)["enrolment"])
    from analysis.mobility.study import mobility_result_tables

    return list(mobility_result_tables(records, enrolment, config))


@task(name="write-outputs", task_run_name="write-outputs[{lang}]", retries=1, cache_policy=NO_CACHE)
def write_outputs(
    results: Any, lang: str, run_identity: dict, out_dir: str, scratch: str | None = None
) -> dict:
    """Render the HTML report and write it with results.json, CSV/XLSX tables and the PDF
    (the PDF printer's browser profile in ``scratch``, removed with the run)."""

    from reports.outputs import write_outputs as _write
    from reports.render import render_report

    html = render_report(results, lang, run_identity)
    paths = _write(results, html, Path(out_dir), lang, scratch=Path(scratch) if scratch else None)
    return {k: str(v) for k, v in paths.items()}
