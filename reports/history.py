"""The run-history index page (``<output>/index.html``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def render_index(runs: Sequence[dict[str, Any]]) -> str:
    """HTML list of the published runs, newest first, the latest successful one marked."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("index.html").render(runs=list(runs))
