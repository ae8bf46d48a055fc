"""The stages of the study flow that need more than one call: errors named by stage and file,
the task runner, and the ingest stage (every input file read by its cached loading task)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner

from analysis.config import StudyConfig
from flows import progress
from flows.cache import (
    enrolment_key,
    fresh_if_missing,
    interim_ready,
    mobility_key,
    result_usable,
    survey_key,
)
from flows.console import run_log
from flows.housekeeping import claim_output, mark_crashed, mark_used, write_owner
from flows.loading import ReaderPool
from flows.publish import RunPaths, discard, finish, new_run
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
def output_run(root: Path, run_id: str) -> Iterator[RunPaths]:
    """The run's folders under the output ``root``, for the ``with`` block: the output
    folder's run lock is held (what killed runs left is cleaned first, flows/housekeeping.py);
    a failure discards the staging folder and logs the traceback, never touching ``latest``."""
    logger = get_run_logger()
    with ExitStack() as claim:
        with stage("prepare output", str(root)):
            cleaned = claim.enter_context(claim_output(root))
            paths = new_run(root, run_id)
            write_owner(paths.owner, run_id)
        claim.enter_context(run_log(paths.log))  # every log record of the run, in logs/
        if cleaned.staging or cleaned.interim:
            logger.info(
                "cleaned %d left-over(s) of killed runs and %d unused cache entr(ies)",
                len(cleaned.staging),
                len(cleaned.interim),
            )
        mark_crashed(cleaned.dead_flow_runs, logger)
        try:
            yield paths
        except BaseException:
            discard(paths)
            # the traceback, in the run log (a log that cannot be written is skipped)
            logger.error("run failed", exc_info=True)
            raise
        finally:
            finish(paths)


@contextmanager
def reader_processes() -> Iterator[None]:
    """The reader processes live for the ingest stage only (and die with a failed run)."""
    try:
        yield
    finally:
        READERS.shutdown()


@dataclass(frozen=True, eq=False)
class _Read:
    """One input file's loading task, its arguments and content key."""

    kind: str  # survey | mobility | enrol
    index: int
    path: Path
    task: Any
    args: tuple
    key: str


def _reads(config: StudyConfig, interim: str) -> list[_Read]:
    """Every input's read, in submission order: the big Erasmus+ read first (it overlaps with
    the survey readers instead of following them), the surveys largest first."""
    reads = [
        _Read("mobility", i, m.path, ingest_mobility, (i, config, interim),
              mobility_key(i, config, interim))
        for i, m in enumerate(config.mobility)
    ]  # fmt: skip
    reads.append(
        _Read("enrol", 0, config.enrolment, load_enrolment, (config, interim),
              enrolment_key(config, interim))
    )  # fmt: skip
    by_size = sorted(enumerate(config.surveys), key=lambda t: -t[1].path.stat().st_size)
    reads += [
        _Read("survey", i, s.path, ingest_survey, (str(s.path), s.source, s.wave, config, interim),
              survey_key(str(s.path), s.source, s.wave, config, interim))
        for i, s in by_size
    ]  # fmt: skip
    return reads


def ingest(config: StudyConfig, interim: str) -> dict[str, list[dict]]:
    """Every input file through its loading task; ``{"survey", "mobility", "enrol"}`` results
    in config order.

    A cached result is used only if every file it points to is in this output folder and
    unchanged (:func:`flows.cache.result_usable`); otherwise the task runs again."""
    logger = get_run_logger()
    with stage("ingest"), reader_processes():
        if not any(Path(interim).glob("*/done")):  # nothing read yet in this output folder
            # spawned while the files are hashed
            files = [*(m.path for m in config.mobility), *(s.path for s in config.surveys)]
            _start_readers(ReaderPool.workers_for(files), logger)
        # Every content key first (hashing ~1 GB takes ~1.5 s alone, but ~15 s when done
        # between submissions, fighting the running readers for the GIL)
        reads = _reads(config, interim)
        unread = [r.path for r in reads if r.kind != "enrol" and not interim_ready(interim, r.key)]
        if unread:  # a rerun: processes only for the files that changed
            _start_readers(ReaderPool.workers_for(unread), logger)
        for path in [*(m.path for m in config.mobility), *(s.path for s in config.surveys)]:
            progress.current().file_started(path)
        progress.current().file_started(config.enrolment)
        futures = [fresh_if_missing(r.task, r.key, interim).submit(*r.args) for r in reads]
        submitted = sorted(zip(reads, futures, strict=True), key=lambda rf: rf[0].index)
        done: dict[str, list[dict]] = {"survey": [], "mobility": [], "enrol": []}
        for kind in done:  # the surveys' errors first, as before
            for r, fut in (rf for rf in submitted if rf[0].kind == kind):
                with stage("ingest", r.path.name):
                    res = fut.result()
                    if result_usable(res, interim):
                        mark_used(interim, res["key"])
                    else:  # points at files gone or changed
                        logger.warning(
                            "cached result for %s unusable: reading it again", r.path.name
                        )
                        res = r.task.with_options(refresh_cache=True).submit(*r.args).result()
                    done[kind].append(res)
                progress.current().file_done(r.path.name, res.get("meta"))
    return done
