"""Cache policy of the study's tasks: content keys, expiry, and when a cached result is usable.

A key is built from the *content* of what a task reads (input files, the relevant config) and
the code it runs, so a rerun with unchanged inputs recomputes nothing and a changed survey file
recomputes only what depends on it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.context import TaskRunContext

from analysis.config import StudyConfig
from flows import provenance
from flows.hashing import digest, file_sha

CACHE_EXPIRATION = timedelta(days=90)

# The code each stage runs: a change there (or in this module) invalidates that stage only.
_SHARED_CODE = (
    "analysis/config.py",
    "analysis/schema.py",
    "flows/cache.py",
    "flows/tasks.py",
    "flows/loading.py",
)
SURVEY_INGEST_CODE = (*_SHARED_CODE, "analysis/ingest", "analysis/mobility/tables.py")
MOBILITY_INGEST_CODE = (*_SHARED_CODE, "analysis/mobility", "analysis/enrolment.py")
STATISTICS_CODE = ("analysis", "flows/cache.py", "flows/tasks.py")


def survey_key(path: str, source: str, wave: str, config: StudyConfig) -> str:
    return "survey-" + digest(
        file_sha(path),
        file_sha(config.codebook),
        source,
        wave,
        vars(config.filters),
        hashlib.sha256(config.pseudonym_key.encode()).hexdigest(),
        tables_digest(config),
        provenance.code_digest(*SURVEY_INGEST_CODE),
    )


def mobility_key(index: int, config: StudyConfig) -> str:
    m = config.mobility[index]
    return "mobility-" + digest(
        file_sha(m.path),
        m.format,
        m.school,
        dict(m.columns),
        tables_digest(config),
        provenance.code_digest(*MOBILITY_INGEST_CODE),
    )


def enrolment_key(config: StudyConfig) -> str:
    return "enrolment-" + digest(
        file_sha(config.enrolment),
        tables_digest(config),
        provenance.code_digest(*MOBILITY_INGEST_CODE),
    )


def tables_digest(config: StudyConfig) -> list[str]:
    return [file_sha(p) for p in (config.schools_table, config.countries_table) if p is not None]


def stats_key(prefix: str, parameters: dict[str, Any]) -> str:
    keys = [r["key"] for r in parameters["inputs"]]
    cfg: StudyConfig = parameters["config"]
    return prefix + digest(keys, cfg.to_dict(), provenance.code_digest(*STATISTICS_CODE))


def interim_ready(interim: str, key: str) -> bool:
    return (Path(interim) / key / "done").is_file()


def keyed(compute_key):
    """cache_key_fn from a content key: the key depends only on what the task reads."""

    def key_fn(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        return compute_key(parameters)

    return key_fn


def fresh_if_missing(t, key: str, interim: str):
    """The cached result of a loading task points at interim files: if those are gone (a
    cleaned output folder), recompute instead of returning paths to nothing."""
    return t if interim_ready(interim, key) else t.with_options(refresh_cache=True)


def retry_on_io_error(task, task_run, state) -> bool:
    """Retry file reads on I/O errors (a network share hiccup, a file being copied), never
    on content errors: a malformed export fails at once with its file, row and column."""
    try:
        state.result()
    except OSError as exc:
        return not isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError)
    except Exception:
        return False
    return False
