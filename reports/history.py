"""The list of published runs (``index.html`` at the output root)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reports.render import environment


def render_index(runs: Sequence[Mapping[str, Any]], lang: str = "en") -> str:
    """An HTML page listing the runs (newest first, as given), linking to each report.

    Each run mapping has ``name``, ``report`` (relative link), ``generated``, ``flow_run_id``,
    ``commit``, ``estimates`` and ``latest`` (see ``flows.publish.list_runs``).
    """
    rows = [
        {
            "name": str(r.get("name", "")),
            "report": str(r.get("report", "")),
            "generated": str(r.get("generated", "")),
            "flow_run_id": str(r.get("flow_run_id", "")),
            "commit": str(r.get("commit", ""))[:12],
            "estimates": str(r.get("estimates", "")),
            "latest": bool(r.get("latest")),
        }
        for r in runs
    ]
    return environment().get_template("index.html.j2").render(runs=rows, lang=lang)
