"""The study flow: raw exports -> tidy tables -> statistics -> report, as Prefect tasks.

Tasks are coarse (one per input file, one per statistics family, one for the outputs) and
exchange file paths or small result objects, never large frames: big intermediates are Parquet
files under ``<output>/.interim/`` named by their cache key. Cache keys are built from the
*content* of the inputs, the relevant config and the code digest, so a rerun with unchanged
inputs recomputes nothing and a changed survey file recomputes only what depends on it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner

from analysis.changes import changes_since
from analysis.config import StudyConfig
from analysis.disclosure import apply_disclosure_control
from analysis.ingest import load_codebook
from analysis.results import ResultSet
from analysis.sample import response_rate_table
from flows import provenance
from flows.config_io import load_config
from flows.loading import ReaderPool, load_mobility, load_survey, reference_tables
from flows.loading import load_enrolment as _load_enrolment
from flows.publish import RunPaths, discard, list_runs, new_run, previous_results, publish

CACHE_EXPIRATION = timedelta(days=90)
# reader processes of the running flow (none: the loading tasks read in their own thread)
READERS = ReaderPool()

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


def preload() -> None:
    for name in HEAVY_MODULES:
        importlib.import_module(name)


def _preload_in_background() -> None:
    threading.Thread(target=preload, name="preload-modules", daemon=True).start()


class StageFailure(RuntimeError):
    """A failed stage, with the file it was working on: printed as one line by the CLI."""

    def __init__(self, stage: str, file: str | None, reason: str):
        self.stage, self.file, self.reason = stage, file, reason
        where = f" [{file}]" if file else ""
        super().__init__(f"stage '{stage}' failed{where}: {reason}")


# --------------------------------------------------------------------------- cache keys
# The code each stage runs: a change there (or in this module) invalidates that stage only.
_SHARED_CODE = ("analysis/config.py", "analysis/schema.py", "flows/study.py")
SURVEY_INGEST_CODE = (*_SHARED_CODE, "analysis/ingest", "analysis/mobility/tables.py")
MOBILITY_INGEST_CODE = (*_SHARED_CODE, "analysis/mobility", "analysis/enrolment.py")
STATISTICS_CODE = ("analysis", "flows/study.py")


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:24]


def _file_sha(path: str | Path) -> str:
    p = Path(path).resolve()
    st = p.stat()
    return _sha_cached(str(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _sha_cached(path: str, mtime_ns: int, size: int) -> str:
    # keyed on (path, mtime, size) so that a file is hashed once per process, not per lookup
    return provenance.sha256_file(Path(path))


def hash_inputs(config: StudyConfig) -> None:
    """Hash every input file now (cached per process): the flow's content keys then cost
    nothing. A file that cannot be read is left for the flow to report."""
    paths = [
        *(s.path for s in config.surveys),
        *(m.path for m in config.mobility),
        config.enrolment,
        config.codebook,
        *(p for p in (config.schools_table, config.countries_table) if p is not None),
    ]
    for p in paths:
        try:
            _file_sha(p)
        except OSError:
            pass


def survey_key(path: str, source: str, wave: str, config: StudyConfig) -> str:
    return "survey-" + _digest(
        _file_sha(path),
        _file_sha(config.codebook),
        source,
        wave,
        vars(config.filters),
        hashlib.sha256(config.pseudonym_key.encode()).hexdigest(),
        _tables_digest(config),
        provenance.code_digest(*SURVEY_INGEST_CODE),
    )


def mobility_key(index: int, config: StudyConfig) -> str:
    m = config.mobility[index]
    return "mobility-" + _digest(
        _file_sha(m.path),
        m.format,
        m.school,
        dict(m.columns),
        _tables_digest(config),
        provenance.code_digest(*MOBILITY_INGEST_CODE),
    )


def enrolment_key(config: StudyConfig) -> str:
    return "enrolment-" + _digest(
        _file_sha(config.enrolment),
        _tables_digest(config),
        provenance.code_digest(*MOBILITY_INGEST_CODE),
    )


def _tables_digest(config: StudyConfig) -> list[str]:
    return [_file_sha(p) for p in (config.schools_table, config.countries_table) if p is not None]


def _interim_ready(interim: str, key: str) -> bool:
    return (Path(interim) / key / "done").is_file()


def _keyed(compute_key):
    """cache_key_fn from a content key: the key depends only on what the task reads."""

    def key_fn(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        return compute_key(parameters)

    return key_fn


def _fresh_if_missing(t, key: str, interim: str):
    """The cached result of a loading task points at interim files: if those are gone (a
    cleaned output folder), recompute instead of returning paths to nothing."""
    return t if _interim_ready(interim, key) else t.with_options(refresh_cache=True)


def _retry_on_io_error(task, task_run, state) -> bool:
    """Retry file reads on I/O errors (a network share hiccup, a file being copied), never
    on content errors: a malformed export fails at once with its file, row and column."""
    try:
        state.result()
    except OSError as exc:
        return not isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError)
    except Exception:
        return False
    return False


# --------------------------------------------------------------------------- tasks
@task(
    name="ingest-survey",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_on_io_error,
    persist_result=True,
    cache_key_fn=_keyed(lambda p: survey_key(p["path"], p["source"], p["wave"], p["config"])),
    cache_expiration=CACHE_EXPIRATION,
)
def ingest_survey(path: str, source: str, wave: str, config: StudyConfig, interim: str) -> dict:
    """Read one survey export through the codebook into the tidy response table."""
    log = get_run_logger()
    log.info("ingesting survey export %s (source %s, wave %s)", Path(path).name, source, wave)
    key = survey_key(path, source, wave, config)
    sha = _file_sha(path)
    size = Path(path).stat().st_size
    return READERS.run(
        load_survey, path, source, wave, config, interim, key, sha, nbytes=size, log=log
    )


@task(
    name="ingest-mobility",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_on_io_error,
    persist_result=True,
    cache_key_fn=_keyed(lambda p: mobility_key(p["index"], p["config"])),
    cache_expiration=CACHE_EXPIRATION,
)
def ingest_mobility(index: int, config: StudyConfig, interim: str) -> dict:
    """Read one mobility file (Erasmus+ release or a school's spreadsheet) into tidy records."""
    m = config.mobility[index]
    log = get_run_logger()
    log.info("ingesting mobility file %s (%s)", m.path.name, m.format)
    key = mobility_key(index, config)
    sha = _file_sha(m.path)
    size = m.path.stat().st_size
    return READERS.run(load_mobility, index, config, interim, key, sha, nbytes=size, log=log)


@task(
    name="load-enrolment",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_on_io_error,
    persist_result=True,
    cache_key_fn=_keyed(lambda p: enrolment_key(p["config"])),
    cache_expiration=CACHE_EXPIRATION,
)
def load_enrolment(config: StudyConfig, interim: str) -> dict:
    """Read enrolment per school, year and gender (the population of every rate)."""
    key = enrolment_key(config)
    return _load_enrolment(config, interim, key, _file_sha(config.enrolment))


def _stats_key(prefix: str, parameters: dict[str, Any]) -> str:
    keys = [r["key"] for r in parameters["inputs"]]
    cfg: StudyConfig = parameters["config"]
    return prefix + _digest(keys, cfg.to_dict(), provenance.code_digest(*STATISTICS_CODE))


@task(
    name="survey-statistics",
    persist_result=True,
    cache_key_fn=lambda ctx, p: _stats_key("survey-stats-", p),
    cache_expiration=CACHE_EXPIRATION,
)
def survey_statistics(inputs: list[dict], config: StudyConfig) -> list:
    """Weights, design-based estimates, comparisons and models for the survey."""

    surveys = [r for r in inputs if "responses" in r]
    enrol = next(r for r in inputs if "enrolment" in r)
    responses = pd.concat([pd.read_parquet(r["responses"]) for r in surveys], ignore_index=True)
    enrolment = pd.read_parquet(enrol["enrolment"])
    variables = load_codebook(config.codebook).variable_types()
    from analysis.survey.study import survey_result_tables

    tables, _weighted = survey_result_tables(responses, enrolment, config, variables)
    return [response_rate_table(responses, enrolment), *tables]


@task(
    name="mobility-statistics",
    persist_result=True,
    cache_key_fn=lambda ctx, p: _stats_key("mobility-stats-", p),
    cache_expiration=CACHE_EXPIRATION,
)
def mobility_statistics(inputs: list[dict], config: StudyConfig) -> list:
    """Outgoing-mobility indicators and trend models."""

    records = pd.concat(
        [pd.read_parquet(r["records"]) for r in inputs if "records" in r], ignore_index=True
    )
    enrolment = pd.read_parquet(next(r for r in inputs if "enrolment" in r)["enrolment"])
    from analysis.mobility.study import mobility_result_tables

    return list(mobility_result_tables(records, enrolment, config))


@task(name="write-outputs", retries=1, cache_policy=NO_CACHE)
def write_outputs(results: Any, lang: str, run_identity: dict, out_dir: str) -> dict:
    """Render the HTML report and write it with results.json, CSV/XLSX tables and the PDF."""

    from reports.outputs import write_outputs as _write
    from reports.render import render_report

    html = render_report(results, lang, run_identity)
    paths = _write(results, html, Path(out_dir), lang)
    return {k: str(v) for k, v in paths.items()}


# --------------------------------------------------------------------------- assembly (pure calls)
def _data_quality(survey_runs: list[dict], mobility_runs: list[dict], enrol: dict) -> dict:
    files = [r["meta"] for r in (*survey_runs, *mobility_runs, enrol)]
    quarantine_reasons: dict[str, int] = {}
    for r in (*survey_runs, *mobility_runs, enrol):
        q = pd.read_parquet(r["quarantine"])
        if len(q):
            for reason, n in q["reason"].value_counts().items():
                quarantine_reasons[str(reason)] = quarantine_reasons.get(str(reason), 0) + int(n)
    return {"files": files, "quarantine_reasons": quarantine_reasons}


@dataclass(frozen=True)
class StudyRun:
    report: Path
    run_dir: Path
    results_path: Path


def _stage(name: str, file: str | None = None):
    class _Ctx:
        def __enter__(self):
            get_run_logger().info("stage: %s%s", name, f" ({file})" if file else "")
            return self

        def __exit__(self, et, ev, tb):
            if ev is not None and not isinstance(ev, StageFailure):
                raise StageFailure(name, file, f"{type(ev).__name__}: {ev}") from ev
            return False

    return _Ctx()


def _task_runner() -> ThreadPoolTaskRunner:
    """As many threads as cores + 1, unless PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS says
    otherwise. The readers are mostly GIL-bound Python: with one thread per input file (the
    Prefect default, unbounded) nine readers fought for the GIL, the Erasmus+ read took 23 s
    instead of 8 s and every file's frames were in memory at once (measured at 10^6
    responses, 2 cores: ingest 24.4 s and 3.5 GB with 9 threads, 18.2 s and 2.4 GB with 2)."""
    configured = get_current_settings().tasks.runner.thread_pool_max_workers
    # + 1: with reader processes (big inputs, flows/loading.py) two threads wait on them and
    # the third reads the small files (school sheets, enrolment) meanwhile
    return ThreadPoolTaskRunner(max_workers=configured or max(2, os.cpu_count() or 2) + 1)


def _start_readers(workers: int, logger) -> None:
    if workers and not READERS.active:
        READERS.start(workers)
        logger.info("reading the big input files in %d reader processes", workers)


@contextmanager
def _reader_processes() -> Iterator[None]:
    """The reader processes live for the ingest stage only (and die with a failed run)."""
    try:
        yield
    finally:
        READERS.shutdown()


@flow(name="mobility-study", log_prints=False, task_runner=_task_runner())
def study_flow(
    config_path: str | None = None, output_root: str = "output", lang: str | None = None
) -> str:
    """Run the whole study; return the path of the published report."""
    logger = get_run_logger()
    with _stage("config", config_path):
        config = load_config(config_path)
    lang = lang or config.language
    root = Path(output_root).resolve()
    run_id = str(flow_run.id or "local")
    paths: RunPaths = new_run(root, run_id)
    interim = str(paths.interim)
    try:
        _preload_in_background()  # no-op if the CLI already imported them
        with _stage("ingest"), _reader_processes():
            files = [*(m.path for m in config.mobility), *(s.path for s in config.surveys)]
            if not any(Path(interim).glob("*/done")):  # nothing read yet in this output folder
                # spawned while the files are hashed
                _start_readers(ReaderPool.workers_for(files), logger)
            # Every content key first (hashing ~1 GB takes ~1.5 s alone, but ~15 s when done
            # between submissions, fighting the running readers for the GIL), then the big
            # Erasmus+ read first: it overlaps with the survey readers instead of following them.
            mob_keys = [mobility_key(i, config) for i in range(len(config.mobility))]
            survey_keys = [
                survey_key(str(s.path), s.source, s.wave, config) for s in config.surveys
            ]
            enrol_key = enrolment_key(config)
            keys = [*mob_keys, *survey_keys]
            unread = [f for f, k in zip(files, keys, strict=True) if not _interim_ready(interim, k)]
            if unread:  # a rerun: processes only for the files that changed
                _start_readers(ReaderPool.workers_for(unread), logger)
            mob_futs = [
                (
                    m.path.name,
                    _fresh_if_missing(ingest_mobility, key, interim).submit(i, config, interim),
                )
                for (i, m), key in zip(enumerate(config.mobility), mob_keys, strict=True)
            ]
            enrol_fut = (
                "enrolment",
                _fresh_if_missing(load_enrolment, enrol_key, interim).submit(config, interim),
            )
            # largest file first (the pool has as many threads as cores), results in config order
            by_size = sorted(
                range(len(config.surveys)), key=lambda i: -config.surveys[i].path.stat().st_size
            )
            submitted = {
                i: _fresh_if_missing(ingest_survey, survey_keys[i], interim).submit(
                    str(config.surveys[i].path),
                    config.surveys[i].source,
                    config.surveys[i].wave,
                    config,
                    interim,
                )
                for i in by_size
            }
            survey_futs = [(s.path.name, submitted[i]) for i, s in enumerate(config.surveys)]
            done: dict[str, list] = {"survey": [], "mobility": [], "enrol": []}
            for kind, futs in (
                ("survey", survey_futs),
                ("mobility", mob_futs),
                ("enrol", [enrol_fut]),
            ):
                for fname, fut in futs:
                    with _stage("ingest", fname):
                        done[kind].append(fut.result())
        enrol = done["enrol"][0]
        with _stage("survey statistics"):
            survey_fut = survey_statistics.submit([*done["survey"], enrol], config)
        with _stage("mobility statistics"):
            mobility_fut = mobility_statistics.submit([*done["mobility"], enrol], config)
            mobility_tables = mobility_fut.result()
        with _stage("survey statistics"):
            survey_tables = survey_fut.result()

        with _stage("assemble results"):
            results = assemble_results(
                config, survey_tables, mobility_tables, done, root, paths.name, run_id
            )
        with _stage("render report"):
            run_identity = {
                "flow_run_id": run_id,
                "generated_at": results.provenance["generated_at"],
                "run_name": paths.name,
            }
            write_outputs.submit(results, lang, run_identity, str(paths.staging)).result()
        with _stage("publish"):
            final = publish(paths)
            (root / "index.html").write_text(_index_html(root), encoding="utf-8")
    except BaseException:
        discard(paths)
        paths.log.parent.mkdir(parents=True, exist_ok=True)
        paths.log.write_text(traceback.format_exc(), encoding="utf-8")
        raise
    report = final / "report.html"
    _publish_artifacts(report, results)
    logger.info("report published: %s", report)
    return str(report)


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
    dq = _data_quality(done["survey"], done["mobility"], done["enrol"][0])
    files = [
        {"file": m.get("file"), "sha256": m.get("sha256"), "rows": m.get("rows_read")}
        for m in dq["files"]
    ]
    for p in (config.codebook, config.config_path):
        files.append({"file": p.name, "sha256": _file_sha(p), "rows": None})
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
    study = {
        "title": dict(config.title),
        "synthetic": config.synthetic,
        "data_cutoff": config.data_cutoff,
        "waves": sorted({s.wave for s in config.surveys}),
        "schools": _school_names(schools),
    }
    results = ResultSet(study, tuple([*survey_tables, *mobility_tables]), dq, prov)
    results, disclosure = apply_disclosure_control(
        results, min_count=config.disclosure.min_count, min_base=config.disclosure.min_base
    )
    changes = changes_since(previous_results(root), results.to_dict())
    return replace(
        results, data_quality={**results.data_quality, "disclosure": disclosure, "changes": changes}
    )


def _school_names(schools: pd.DataFrame) -> dict[str, str]:
    """Current display name per school id (the table's row whose entity is the school itself)."""
    current = schools[schools["entity"] == schools["school_id"]]
    return dict(zip(current["school_id"], current["name"], strict=True))


def _index_html(root: Path) -> str:

    from reports.history import render_index

    return render_index(list_runs(root))


def _publish_artifacts(report: Path, results) -> None:
    from reports.viewmodel import key_findings_markdown

    try:
        create_link_artifact(
            key="mobility-study-report",
            link=report.as_uri(),
            link_text="Open the study report",
            description="HTML report of the latest successful run",
        )
        create_markdown_artifact(
            key="mobility-study-findings",
            markdown=key_findings_markdown(results, "en"),
            description="Key findings of this run",
        )
    except Exception as exc:  # artifacts are a convenience: never fail a published run
        get_run_logger().warning("could not publish artifacts: %s", exc)
