"""Run folders, atomic publishing and the run history.

Layout under the output root::

    runs/<YYYYmmddTHHMMSSZ>-<short run id>/   one folder per successful run
    latest -> runs/<...>                       symlink to the last successful run
    index.html                                 the list of runs
    .staging/<run name>/                       where a run writes before it is published
    logs/<run name>.log                        tracebacks of failed runs

A run writes into its own staging folder; only when every output is written is the folder
renamed into ``runs/`` (an atomic rename on one filesystem) and ``latest`` switched (atomic
``os.replace`` of a symlink). A failed or killed run never touches the published reports.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class RunPaths:
    root: Path
    name: str

    @property
    def staging(self) -> Path:
        return self.root / ".staging" / self.name

    @property
    def scratch(self) -> Path:
        """Temporary files of the run (the PDF printer's browser profile); removed at its end,
        or at the next start if the run is killed (flows/housekeeping.py)."""
        return self.root / ".staging" / f"{self.name}.scratch"

    @property
    def owner(self) -> Path:
        """Which flow run owns the staging folder (flows/housekeeping.py)."""
        return self.root / ".staging" / f"{self.name}.owner.json"

    @property
    def final(self) -> Path:
        return self.root / "runs" / self.name

    @property
    def latest(self) -> Path:
        return self.root / "latest"

    @property
    def interim(self) -> Path:
        """Cached intermediate files (content-addressed, shared by all runs)."""
        return self.root / ".interim"

    @property
    def log(self) -> Path:
        return self.root / "logs" / f"{self.name}.log"


def new_run(root: Path, run_id: str, now: datetime | None = None) -> RunPaths:
    now = now or datetime.now(UTC)
    name = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{run_id.replace('-', '')[:8]}"
    paths = RunPaths(root.resolve(), name)
    if paths.final.exists() or paths.staging.exists():
        raise FileExistsError(f"run folder {paths.final} already exists")
    paths.staging.mkdir(parents=True)
    return paths


def previous_results(root: Path) -> dict | None:
    """results.json of the last successful run, if any."""
    p = root / "latest" / "results.json"
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8"))
    return None


def publish(paths: RunPaths) -> Path:
    """Move the staging folder into runs/ and point ``latest`` at it."""
    paths.final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(paths.staging, paths.final)
    tmp_link = paths.root / f".latest-{paths.name}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(Path("runs") / paths.name, tmp_link)
    os.replace(tmp_link, paths.latest)
    return paths.final


def discard(paths: RunPaths) -> None:
    """Remove a failed run's staging folder (the published runs are untouched)."""
    shutil.rmtree(paths.staging, ignore_errors=True)
    finish(paths)


def finish(paths: RunPaths) -> None:
    """Remove the run's scratch folder and owner record (at its end, failed or not)."""
    shutil.rmtree(paths.scratch, ignore_errors=True)
    paths.owner.unlink(missing_ok=True)


def write_index(root: Path) -> None:
    """Rewrite ``index.html``, the list of published runs."""
    from reports.history import render_index

    (root / "index.html").write_text(render_index(list_runs(root)), encoding="utf-8")


def list_runs(root: Path) -> list[dict]:
    """Published runs, newest first, with what their results.json says about them."""
    runs = []
    latest = (root / "latest").resolve() if (root / "latest").exists() else None
    for d in sorted((root / "runs").glob("*"), reverse=True):
        res = d / "results.json"
        if not res.is_file():
            continue
        data = json.loads(res.read_text(encoding="utf-8"))
        prov = data.get("provenance", {})
        runs.append(
            {
                "name": d.name,
                "report": f"runs/{d.name}/report.html",
                "generated": prov.get("generated_at", ""),
                "flow_run_id": prov.get("flow_run_id", ""),
                "commit": prov.get("git_commit", ""),
                "estimates": len(data.get("estimates", [])),
                "latest": latest is not None and d.resolve() == latest,
            }
        )
    return runs
