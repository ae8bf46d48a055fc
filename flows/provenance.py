"""Provenance facts for the report's appendix: versions, git commit, input hashes, code digest."""

from __future__ import annotations

import hashlib
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "mobility-study",
    "prefect",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "svy",
    "polars",
    "jinja2",
    "matplotlib",
)
_CODE_DIRS = ("analysis", "reports", "flows")
REPO_ROOT = Path(__file__).resolve().parents[1]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(repo: Path = REPO_ROOT) -> str:
    try:
        res = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if res.returncode != 0:
        return "unknown"
    commit = res.stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return commit + ("+dirty" if dirty else "")


@cache
def code_digest(*parts: str) -> str:
    """sha256 over package sources (and templates/tables) under ``parts`` (folders or files
    relative to the repo; default: all of analysis/, reports/, flows/).

    Part of every cache key: a code change recomputes the stages whose code it touched and
    nothing else (a template edit does not re-read the survey exports).
    """
    h = hashlib.sha256()
    for part in parts or _CODE_DIRS:
        root = REPO_ROOT / part
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for p in files:
            if p.is_file() and p.suffix in {".py", ".html", ".j2", ".css", ".toml", ".csv"}:
                h.update(str(p.relative_to(REPO_ROOT)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]
