"""Cache policy of the study's tasks: content keys, expiry, and when a cached result is usable.

A key is built from the *content* of what a task reads (input files, the relevant config) and
the code it runs, so a rerun with unchanged inputs recomputes nothing and a changed survey file
recomputes only what depends on it.
"""

from __future__ import annotations

import errno
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext

from analysis.config import StudyConfig
from flows.codegraph import task_code_digest
from flows.hashing import digest, file_sha

CACHE_EXPIRATION = timedelta(days=90)
TASKS_MODULE = "flows.tasks"  # where the tasks whose code the keys digest are defined


CACHED_TASKS = (
    "ingest_survey",
    "ingest_mobility",
    "load_enrolment",
    "survey_statistics",
    "mobility_statistics",
)


def warm_code_digests() -> None:
    """Compute every task's code digest now, in this thread, before the run starts threads
    (a key computed in a task thread while another thread imports modules once failed with
    a SystemError, intermittently: the task then ran uncached)."""
    for name in CACHED_TASKS:
        task_code(name)


def task_code(name: str) -> str:
    """The code part of a key: the task function and every project module it imports
    (:mod:`flows.codegraph`), not a hand-kept list of paths."""
    return task_code_digest(TASKS_MODULE, name)


def _owner(interim: str) -> str:
    # interim files belong to one output folder: its own keys, never another folder's files
    return str(Path(interim).resolve())


def survey_key(path: str, source: str, wave: str, config: StudyConfig, interim: str) -> str:
    return "survey-" + digest(
        file_sha(path),
        file_sha(config.codebook),
        source,
        wave,
        vars(config.filters),
        hashlib.sha256(config.pseudonym_key.encode()).hexdigest(),
        tables_digest(config),
        _owner(interim),
        task_code("ingest_survey"),
    )


def mobility_key(index: int, config: StudyConfig, interim: str) -> str:
    m = config.mobility[index]
    return "mobility-" + digest(
        file_sha(m.path),
        m.format,
        m.school,
        dict(m.columns),
        tables_digest(config),
        _owner(interim),
        task_code("ingest_mobility"),
    )


def enrolment_key(config: StudyConfig, interim: str) -> str:
    return "enrolment-" + digest(
        file_sha(config.enrolment),
        tables_digest(config),
        _owner(interim),
        task_code("load_enrolment"),
    )


def tables_digest(config: StudyConfig) -> list[str]:
    return [file_sha(p) for p in (config.schools_table, config.countries_table) if p is not None]


def stats_key(task_name: str, parameters: dict[str, Any]) -> str:
    keys = [r["key"] for r in parameters["inputs"]]
    cfg: StudyConfig = parameters["config"]
    prefix = task_name.replace("_", "-") + "-"
    return prefix + digest(keys, cfg.to_dict(), task_code(task_name))


def interim_ready(interim: str, key: str) -> bool:
    """True if ``<interim>/<key>/`` holds every file its ``done`` manifest lists, unchanged
    (size and sha256). A missing, partial or foreign folder is not ready: recompute."""
    folder = Path(interim) / key
    try:
        done = json.loads((folder / "done").read_text(encoding="utf-8"))
        if not isinstance(done, dict) or done.get("key") != key or not done.get("files"):
            return False
        for name, want in done["files"].items():
            p = folder / name
            if p.stat().st_size != want["size"] or file_sha(p) != want["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def result_usable(result: Any, interim: str) -> bool:
    """A loading task's (cached) result may be used: every file it points to is in this output
    folder's ``<interim>/<key>/`` and that folder is :func:`interim_ready`."""
    if not isinstance(result, dict) or "key" not in result:
        return False
    folder = (Path(interim) / result["key"]).resolve()
    for name, value in result.items():
        if name in ("key", "meta"):
            continue
        if not isinstance(value, str) or Path(value).resolve().parent != folder:
            return False
    return interim_ready(interim, result["key"])


def keyed(compute_key):
    """cache_key_fn from a content key: the key depends only on what the task reads."""

    def key_fn(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        return compute_key(parameters)

    return key_fn


def fresh_if_missing(t, key: str, interim: str):
    """The cached result of a loading task points at interim files: if those are gone or
    changed (a cleaned output folder), recompute instead of returning paths to nothing."""
    return t if interim_ready(interim, key) else t.with_options(refresh_cache=True)


def retry_on_io_error(task, task_run, state) -> bool:
    """Retry file reads on I/O errors (a network share hiccup, a file being copied), never
    on content errors: a malformed export fails at once with its file, row and column."""
    try:
        state.result()
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            return False  # waiting does not free the disk
        return not isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError)
    except Exception:
        return False
    return False
