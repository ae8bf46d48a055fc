"""Content hashes for the cache keys: input files (hashed once per process) and key parts."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis.config import StudyConfig
from flows import provenance


def digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:24]


def file_sha(path: str | Path) -> str:
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
            file_sha(p)
        except OSError:
            pass
