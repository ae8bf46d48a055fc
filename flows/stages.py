"""The stages of the study flow that need more than one call: errors named by stage and file,
the task runner, and the ingest stage (every input file read by its cached loading task)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect import get_run_logger
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner

from analysis.config import StudyConfig
from flows import progress
from flows.cache import enrolment_key, fresh_if_missing, interim_ready, mobility_key, survey_key
from flows.loading import ReaderPool
from flows.tasks import READERS, ingest_mobility, ingest_survey, load_enrolment


class StageFailure(RuntimeError):
    """A failed stage, with the file it was working on: printed as one line by the CLI."""

    def __init__(self, stage: str, file: str | None, reason: str):
        self.stage, self.file, self.reason = stage, file, reason
        where = f" [{file}]" if file else ""
        super().__init__(f"stage '{stage}' failed{where}: {reason}")


def stage(name: str, file: str | None = None):
    """A stage of the flow (``file``: one input of it): logged when it starts, shown on the
    progress display, and any error in it re-raised as a :class:`StageFailure`."""

    class _Ctx:
        def __enter__(self):
            get_run_logger().info("stage: %s%s", name, f" ({file})" if file else "")
            if file is None:
                progress.current().stage_started(name)
            return self

        def __exit__(self, et, ev, tb):
            if ev is not None:
                progress.current().stage_failed(name)
                if file is not None:
                    progress.current().file_failed(file)
            elif file is None:
                progress.current().stage_done(name)
            if ev is not None and not isinstance(ev, StageFailure):
                raise StageFailure(name, file, f"{type(ev).__name__}: {ev}") from ev
            return False

    return _Ctx()


def task_runner() -> ThreadPoolTaskRunner:
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
def reader_processes() -> Iterator[None]:
    """The reader processes live for the ingest stage only (and die with a failed run)."""
    try:
        yield
    finally:
        READERS.shutdown()


def ingest(config: StudyConfig, interim: str) -> dict[str, list[dict]]:
    """Every input file through its loading task; ``{"survey", "mobility", "enrol"}`` results."""
    logger = get_run_logger()
    with stage("ingest"), reader_processes():
        files = [*(m.path for m in config.mobility), *(s.path for s in config.surveys)]
        if not any(Path(interim).glob("*/done")):  # nothing read yet in this output folder
            # spawned while the files are hashed
            _start_readers(ReaderPool.workers_for(files), logger)
        # Every content key first (hashing ~1 GB takes ~1.5 s alone, but ~15 s when done
        # between submissions, fighting the running readers for the GIL), then the big
        # Erasmus+ read first: it overlaps with the survey readers instead of following them.
        mob_keys = [mobility_key(i, config) for i in range(len(config.mobility))]
        survey_keys = [survey_key(str(s.path), s.source, s.wave, config) for s in config.surveys]
        enrol_key = enrolment_key(config)
        keys = [*mob_keys, *survey_keys]
        unread = [f for f, k in zip(files, keys, strict=True) if not interim_ready(interim, k)]
        if unread:  # a rerun: processes only for the files that changed
            _start_readers(ReaderPool.workers_for(unread), logger)
        for path in files:
            progress.current().file_started(path)
        progress.current().file_started(config.enrolment)
        mob_futs = [
            (
                m.path.name,
                fresh_if_missing(ingest_mobility, key, interim).submit(i, config, interim),
            )
            for (i, m), key in zip(enumerate(config.mobility), mob_keys, strict=True)
        ]
        enrol_fut = (
            config.enrolment.name,
            fresh_if_missing(load_enrolment, enrol_key, interim).submit(config, interim),
        )
        # largest file first (the pool has as many threads as cores), results in config order
        by_size = sorted(
            range(len(config.surveys)), key=lambda i: -config.surveys[i].path.stat().st_size
        )
        submitted = {
            i: fresh_if_missing(ingest_survey, survey_keys[i], interim).submit(
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
        for kind, futs in (("survey", survey_futs), ("mobility", mob_futs), ("enrol", [enrol_fut])):
            for fname, fut in futs:
                with stage("ingest", fname):
                    done[kind].append(fut.result())
                progress.current().file_done(fname, done[kind][-1].get("meta"))
    return done
