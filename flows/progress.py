"""What a run shows on the terminal while it works: stages, input files, elapsed time.

The flow reports events to the current :class:`Progress` (``progress.current()``); the CLI picks
the kind: a live display on a terminal (:class:`LiveProgress`, with rich), nothing otherwise
(:class:`Progress`: cron jobs and pipes keep the plain log lines, ``--quiet`` keeps silence).
Events come from the flow's process only; a file read in a reader process is followed through
the position of its open file descriptor (``/proc/PID/fdinfo``), so the display shows how much
of each big file has been read so far without any change to the readers.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileState:
    name: str
    path: str
    size: int
    started: float = field(default_factory=time.monotonic)
    rows_read: int | None = None
    rows_kept: int | None = None
    done: bool = False
    failed: bool = False


@dataclass
class Totals:
    """What the final summary line says."""

    rows_read: int = 0
    rows_kept: int = 0
    files: int = 0
    failed_stage: str | None = None


class Progress:
    """The silent reporter: records the totals, shows nothing."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.stages: dict[str, str] = {}  # name -> "running" | "done" | "failed"
        self.files: dict[str, FileState] = {}
        self.totals = Totals()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ events
    def stage_started(self, name: str) -> None:
        with self._lock:
            if self.stages.get(name) != "running":
                self.stages[name] = "running"

    def stage_done(self, name: str) -> None:
        with self._lock:
            self.stages[name] = "done"

    def stage_failed(self, name: str) -> None:
        with self._lock:
            self.stages[name] = "failed"
            self.totals.failed_stage = self.totals.failed_stage or name

    def file_started(self, path: str | Path) -> None:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError:
            size = 0
        with self._lock:
            self.files.setdefault(p.name, FileState(p.name, str(p.resolve()), size))

    def file_done(self, name: str, meta: dict | None) -> None:
        meta = meta or {}
        with self._lock:
            f = self.files.setdefault(name, FileState(name, name, 0))
            f.done = True
            f.rows_read = _int(meta.get("rows_read"))
            f.rows_kept = _int(meta.get("rows_kept"))
            self.totals.files += 1
            self.totals.rows_read += f.rows_read or 0
            self.totals.rows_kept += f.rows_kept or 0

    def file_failed(self, name: str) -> None:
        with self._lock:
            if name in self.files:
                self.files[name].failed = True

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


_current: Progress = Progress()


def current() -> Progress:
    return _current


def use(progress: Progress) -> Progress:
    """Make ``progress`` the reporter of the events of this process; returns it."""
    global _current
    _current = progress
    return progress


# --------------------------------------------------------------------------- bytes read so far
def bytes_read(path: str, pids: list[int] | None = None) -> int | None:
    """How far into ``path`` any process of this process tree (``pids``, default: found now)
    has read (Linux ``/proc``), or None when no open descriptor on it is found (not started,
    finished, or not Linux)."""
    best = None
    for pid in pids if pids is not None else _tree_pids():
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) != path:
                    continue
                for line in Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines():
                    if line.startswith("pos:"):
                        pos = int(line.split()[1])
                        best = pos if best is None else max(best, pos)
            except (OSError, ValueError):
                continue
    return best


def _tree_pids() -> list[int]:
    """This process and its children (the reader processes), from ``/proc``."""
    me = os.getpid()
    pids = [me]
    try:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    ppid = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == me:
                    pids.append(int(entry.name))
    except OSError:
        pass
    return pids


# --------------------------------------------------------------------------- the live display
class LiveProgress(Progress):
    """A rich live display on the terminal (stderr), refreshed 4 times a second."""

    def __init__(self, title: str = "mobility-study") -> None:
        super().__init__()
        from rich.console import Console

        self.title = title
        self.console = Console(stderr=True)
        self._live = None

    def __enter__(self) -> LiveProgress:
        from rich.live import Live

        self._live = Live(
            get_renderable=self._render,
            console=self.console,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def _render(self):
        from rich.console import Group
        from rich.text import Text

        with self._lock:
            stages = dict(self.stages)
            files = list(self.files.values())
        lines = [Text(f"{self.title}: {self.elapsed:.1f} s", style="bold", no_wrap=True)]
        pids = _tree_pids() if any(not f.done for f in files) else []  # one /proc scan
        for name, state in stages.items():
            mark = {"running": "…", "done": "✓", "failed": "✗"}[state]
            lines.append(Text(f" {mark} {name}", no_wrap=True, overflow="ellipsis"))
            if name == "ingest":
                lines.extend(
                    Text(f"   {_file_line(f, pids)}", no_wrap=True, overflow="ellipsis")
                    for f in files
                )
        return Group(*lines)


def _file_line(f: FileState, pids: list[int]) -> str:
    if f.failed:
        return f"✗ {f.name}"
    if f.done:
        if f.rows_read is None:
            return f"✓ {f.name}"
        return f"✓ {f.name}: {f.rows_read:,} rows read, {f.rows_kept or 0:,} kept"
    pos = bytes_read(f.path, pids)
    if pos is None or not f.size:
        return f"… {f.name}: reading ({_size(f.size)})"
    return f"… {f.name}: {min(pos, f.size) / f.size:.0%} of {_size(f.size)} read"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def summary_line(progress: Progress, report: str | None, alerts: int | None) -> str:
    """The one line printed at the end of a run."""
    t = progress.totals
    parts = [f"{progress.elapsed:.1f} s"]
    if t.files:
        parts.append(f"{t.files} files, {t.rows_read:,} rows read, {t.rows_kept:,} kept")
    if alerts is not None:
        parts.append(f"{alerts} data-quality alert{'s' if alerts != 1 else ''}")
    head = "report written" if report else "run failed"
    return f"{head} in {', '.join(parts)}" + (f": {report}" if report else "")
