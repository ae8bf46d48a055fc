"""Left-overs of killed runs and old cache entries, cleaned when a run starts.

A run killed with SIGKILL (or out of memory) cannot clean up after itself. It leaves, under its
output folder, ``.staging/<run>/`` (a half-written report), its scratch folder
``.staging/<run>.scratch/`` (the Chromium profile of the PDF printer), partial
``.interim/<key>/`` folders (no ``done`` manifest), and, in Prefect's database, a flow run
that stays RUNNING forever.

Every run holds a *shared* lock on ``<output>/.run.lock`` while it runs (the kernel releases it
when the process dies, however it dies). At its start, a run that can take the lock
*exclusively* knows that no other run is using the folder, so that everything in ``.staging/``
belongs to dead runs; it then removes it, removes partial interim folders and interim entries
not used for :func:`retention_days` days, and marks the dead runs' flow runs CRASHED (their
ids are in ``.staging/<run>.owner.json``). If another run is active, nothing is cleaned.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

RETENTION_ENV = "MOBILITY_STUDY_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90
LOCK_NAME = ".run.lock"


def retention_days() -> float:
    """Days an unused ``.interim/`` entry is kept (``MOBILITY_STUDY_RETENTION_DAYS``)."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV}={raw!r}: not a number of days") from None
    if days < 0:
        raise ValueError(f"{RETENTION_ENV}={raw!r}: must be 0 or more")
    return days


@dataclass
class Cleaned:
    """What the start of a run removed (for the log and the tests)."""

    alone: bool = False
    staging: list[str] = field(default_factory=list)
    interim: list[str] = field(default_factory=list)
    dead_flow_runs: list[str] = field(default_factory=list)


def write_owner(owner: Path, flow_run_id: str) -> None:
    """Record which flow run owns a staging folder (read back if the run is killed)."""
    owner.parent.mkdir(parents=True, exist_ok=True)
    owner.write_text(json.dumps({"flow_run_id": flow_run_id, "pid": os.getpid()}), "utf-8")


def mark_used(interim: str | Path, key: str) -> None:
    """A cached interim entry was used now: its retention starts again."""
    try:
        os.utime(Path(interim) / key / "done")
    except OSError:
        pass


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean(root: Path, now: float | None = None) -> Cleaned:
    """Remove what dead runs left and expired interim entries (call only when alone)."""
    now = time.time() if now is None else now
    out = Cleaned(alone=True)
    staging = root / ".staging"
    if staging.is_dir():
        for entry in sorted(staging.iterdir()):
            if entry.name.endswith(".owner.json"):
                try:
                    owner = json.loads(entry.read_text(encoding="utf-8"))
                    if owner.get("flow_run_id"):
                        out.dead_flow_runs.append(str(owner["flow_run_id"]))
                except (OSError, ValueError):
                    pass
            _remove(entry)
            out.staging.append(entry.name)
    for entry in root.glob(".latest-*"):  # a publish killed between its two renames
        _remove(entry)
    interim = root / ".interim"
    if interim.is_dir():
        limit = retention_days() * 86400
        for entry in sorted(interim.iterdir()):
            done = entry / "done"
            try:
                expired = now - done.stat().st_mtime > limit
            except OSError:
                expired = True  # partial: its run died before writing the manifest
            if expired:
                _remove(entry)
                out.interim.append(entry.name)
    return out


@contextmanager
def claim_output(root: Path) -> Iterator[Cleaned]:
    """Hold the output folder's shared run lock for the ``with`` block; clean first if no
    other run holds it (see the module docstring)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            cleaned = Cleaned(alone=False)
        else:
            cleaned = clean(root)
        fcntl.flock(fd, fcntl.LOCK_SH)  # other runs may start now, and must not clean
        yield cleaned
    finally:
        os.close(fd)


def mark_crashed(flow_run_ids: list[str], logger=None) -> list[str]:
    """Set the dead runs' flow runs still RUNNING (or PENDING) to CRASHED; return their ids.
    Uses Prefect's public client; a failure here only warns: the study goes on."""
    if not flow_run_ids:
        return []
    from prefect import get_client
    from prefect.states import Crashed

    marked = []
    try:
        with get_client(sync_client=True) as client:
            for run_id in flow_run_ids:
                try:
                    run = client.read_flow_run(UUID(run_id))
                except Exception:  # noqa: BLE001 - not an id, or unknown here: nothing to do
                    continue
                if run.state is None or run.state.is_final():
                    continue
                client.set_flow_run_state(
                    run_id,
                    Crashed(message="its process was killed; marked at the next run's start"),
                    force=True,
                )
                marked.append(run_id)
    except Exception as exc:  # noqa: BLE001 - housekeeping never fails a run
        if logger is not None:
            logger.warning("could not mark killed flow runs as crashed: %s", exc)
    if marked and logger is not None:
        logger.warning("flow run(s) of killed runs marked CRASHED: %s", ", ".join(marked))
    return marked
