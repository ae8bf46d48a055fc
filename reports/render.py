"""The jinja2 environment and the report entry point.

Templates live in ``reports/templates`` (StrictUndefined, autoescape on, macros for tables
and figures) and loop over the view model of :mod:`reports.viewmodel`: no statistics here.
The output is deterministic except for one block between ``<!-- run-identity:begin -->``
and ``<!-- run-identity:end -->`` (generation time, Prefect flow-run id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import jinja2

from analysis.results import ResultSet
from reports.viewmodel import (
    RUN_IDENTITY_BEGIN,
    RUN_IDENTITY_END,
    TEMPLATES,
    build_view_model,
)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )


def render_report(results: ResultSet, lang: str, run_identity: Mapping[str, str]) -> str:
    """The whole study report as one self-contained HTML document in ``lang`` ("en"/"fr")."""
    vm = build_view_model(results, lang, run_identity)
    return environment().get_template("report.html.j2").render(vm=vm)


def strip_run_identity(html: str) -> str:
    """The HTML without its run-identity block (what must be identical between runs)."""
    pattern = re.escape(RUN_IDENTITY_BEGIN) + r".*?" + re.escape(RUN_IDENTITY_END)
    out, n = re.subn(pattern, RUN_IDENTITY_BEGIN + RUN_IDENTITY_END, html, flags=re.S)
    if n != 1:
        raise ValueError(f"expected one run-identity block, found {n}")
    return out
