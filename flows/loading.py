"""The bodies of the flow's loading tasks, and the processes that run them at scale.

No Prefect import here: a reader process imports this module (pandas, pyarrow and the
readers, ~2 s), not the whole flow. The tasks in :mod:`flows.study` keep everything Prefect
does (cache keys, retries, logs, states); only the reading itself may happen in another process.

Why processes: the readers are mostly GIL-bound Python and pandas. In threads, the survey
readers and the Erasmus+ reader take turns on one core (measured at 10^6 responses and 3.5 M
Erasmus+ rows on 2 cores: ingest 18 s with two threads); in two processes they use both.
Processes start only when the inputs are big (``auto``: at least ``PROCESS_MIN_BYTES`` in all,
more than one core), because starting one costs ~2 s; ``MOBILITY_STUDY_READERS`` = ``threads``
or ``processes`` forces the choice (the tests use ``processes`` on small files). The results are
the same either way: the same function runs on the same file and writes the same Parquet files.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from analysis.config import StudyConfig
from analysis.enrolment import read_enrolment
from analysis.ingest import load_codebook, read_survey_export
from analysis.mobility import read_mobility_file
from analysis.mobility.tables import default_table_path
from flows.provenance import sha256_file

READERS_ENV = "MOBILITY_STUDY_READERS"  # auto | processes | threads
PROCESS_MIN_BYTES = 64 << 20  # auto: reader processes when the inputs are at least this big
INLINE_MAX_BYTES = 16 << 20  # auto: a file smaller than this is read in its task's thread

T = TypeVar("T")
_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- bodies
def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def reference_tables(config: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    schools = config.schools_table or default_table_path("schools")
    countries = config.countries_table or default_table_path("countries")
    return read_table(Path(schools)), read_table(Path(countries))


def write_interim(interim: str, key: str, frames: Mapping[str, pd.DataFrame], meta: dict) -> dict:
    folder = Path(interim) / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "done").unlink(missing_ok=True)  # rewriting: not complete until the end
    out = {"key": key, "meta": meta}
    files = {}
    for name, df in frames.items():
        p = folder / f"{name}.parquet"
        df.to_parquet(p, index=False)
        out[name] = str(p)
        files[p.name] = {"size": p.stat().st_size, "sha256": sha256_file(p)}
    (folder / "meta.json").write_text(json.dumps(meta, default=str, indent=1), encoding="utf-8")
    # written last: the folder is complete, and a changed or missing file is detected on reuse
    done = {"key": key, "files": files}
    (folder / "done").write_text(json.dumps(done, indent=1), encoding="utf-8")
    return out


def load_survey(
    path: str, source: str, wave: str, config: StudyConfig, interim: str, key: str, sha: str
) -> dict:
    """One survey export through the codebook into interim Parquet files (paths + manifest)."""
    schools, _ = reference_tables(config)
    codebook = load_codebook(config.codebook)
    res = read_survey_export(
        Path(path),
        codebook,
        source,
        wave=wave,
        filters=config.filters,
        pseudonym_key=config.pseudonym_key,
        schools=schools,
    )
    manifest = {**res.manifest, "file": Path(path).name, "sha256": sha}
    responses = interim_responses(res.responses, codebook.variable_types())
    return write_interim(
        interim, key, {"responses": responses, "quarantine": res.quarantine}, manifest
    )


def interim_responses(responses: pd.DataFrame, variable_types: Mapping[str, str]) -> pd.DataFrame:
    """The response columns later stages use: free-text answers (comments, which may hold
    names or phone numbers) are for the reader's quality checks only and are not stored.
    ``source_row`` stays: the weighting names the file and row of a response it cannot use."""
    free = [n for n, t in variable_types.items() if t == "free-text" and n in responses.columns]
    return responses.drop(columns=free)


def load_mobility(index: int, config: StudyConfig, interim: str, key: str, sha: str) -> dict:
    """One mobility file (Erasmus+ release or a school's sheet) into interim Parquet files."""
    m = config.mobility[index]
    schools, countries = reference_tables(config)
    res = read_mobility_file(
        m.path, m.format, schools, countries, school=m.school, columns=dict(m.columns)
    )
    manifest = {
        **res.manifest,
        "file": m.path.name,
        "sha256": sha,
        "unknown_codes": dict(res.unknown_codes),
        "unknown_countries": dict(res.unknown_countries),
    }
    return write_interim(
        interim, key, {"records": res.records, "quarantine": res.quarantine}, manifest
    )


def load_enrolment(config: StudyConfig, interim: str, key: str, sha: str) -> dict:
    schools, _ = reference_tables(config)
    enrolment, quarantine, manifest = read_enrolment(config.enrolment, schools)
    manifest = {**manifest, "file": config.enrolment.name, "sha256": sha}
    return write_interim(interim, key, {"enrolment": enrolment, "quarantine": quarantine}, manifest)


# --------------------------------------------------------------------------- reader processes
def _warm_up() -> None:
    """Run in each new reader process: nothing to do, importing this module was the work."""


def _init_reader(parent: int) -> None:
    """A reader process exits when the flow's process (pid ``parent``) is gone (killed with
    SIGKILL, out of memory): nothing would ever send it work or stop it otherwise. The pid is
    passed, not read here: the flow may have died while this process was still starting."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


class ReaderPool:
    """Reader processes for one flow run; ``run`` calls a body there, or inline if none."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._inline_below = INLINE_MAX_BYTES
        self._lock = threading.Lock()

    def __reduce__(self):
        # Prefect and Dask may pickle the flow's module-level objects (a served flow run, Dask
        # tasks): a pool's processes belong to the process that started them, so it travels
        # as a new, empty pool
        return (type(self), ())

    @staticmethod
    def mode() -> str:
        mode = (os.environ.get(READERS_ENV) or "auto").strip().lower()
        if mode not in ("auto", "processes", "threads"):
            raise ValueError(f"{READERS_ENV} must be auto, processes or threads, not {mode!r}")
        return mode

    @classmethod
    def workers_for(cls, paths: Sequence[Path]) -> int:
        """How many reader processes the inputs call for (0: read in the flow's threads)."""
        mode = cls.mode()
        cores = os.cpu_count() or 1
        if mode == "threads" or multiprocessing.current_process().daemon:
            return 0  # (a daemon process, e.g. a Dask worker, cannot have children)
        if mode == "processes":
            return max(1, min(cores, len(paths)))
        sizes = [p.stat().st_size for p in paths]
        big = [s for s in sizes if s >= INLINE_MAX_BYTES]
        if cores < 2 or sum(sizes) < PROCESS_MIN_BYTES or not big:
            return 0
        return min(cores, len(big))

    def start(self, workers: int) -> None:
        if workers <= 0 or self._pool is not None:
            return
        self._inline_below = 0 if self.mode() == "processes" else INLINE_MAX_BYTES
        # spawn, not fork: the flow process runs threads (Prefect's, the API server's)
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_reader,
            initargs=(os.getpid(),),
        )
        for _ in range(workers):  # start them now: their imports overlap with the hashing
            self._pool.submit(_warm_up)

    @property
    def active(self) -> bool:
        return self._pool is not None

    def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        nbytes: int | None = None,
        log: logging.Logger | logging.LoggerAdapter | None = None,
    ) -> T:
        """``fn(*args)`` in a reader process; in this thread if there is none, or if the file
        (``nbytes``) is small: a process's turn is not worth a small file's wait.

        If the reader processes cannot start or one of them dies (killed, out of memory), the
        pool is broken: this and every later call read in the calling thread instead, with a
        warning on ``log``; the run goes on and gives the same results."""
        pool = self._pool
        if pool is None or (nbytes is not None and nbytes < self._inline_below):
            return fn(*args)
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool as exc:
            self._discard(pool)
            (log or _log).warning(
                "the reader processes stopped (%s): reading in the flow's threads instead", exc
            )
            return fn(*args)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
