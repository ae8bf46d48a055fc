"""Observation 8 of issue 12 (variable side): 61 raw variable ids (``intends_abroad``,
``barrier_finance``...) were visible in the English report of the bundled study.

Renders the pipeline-produced results fixture in both languages and looks for every variable
id of the bundled codebook, and every school id, as a whole word of the visible text. Two places
may name them on purpose and are left out: the provenance block that prints the run's config
verbatim, and text the codebook's author wrote (a break-in-series note).
"""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.render import render_report

REPO = Path(__file__).resolve().parents[2]
RUN = {"flow_run_id": "test", "generated_at": "2026-01-01T00:00:00Z", "run_name": "test"}


class _Visible(HTMLParser):
    """Visible text, without scripts, styles and <pre> blocks (the verbatim config)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "pre"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _ids() -> set[str]:
    codebook = tomllib.loads((REPO / "data/raw/codebook.toml").read_text(encoding="utf-8"))
    schools = (REPO / "analysis/tables/schools.csv").read_text(encoding="utf-8")
    school_ids = {line.split(",")[0] for line in schools.splitlines()[1:] if "_" in line}
    return {v for v in codebook["variables"] if "_" in v} | {s for s in school_ids if "_" in s}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_obs8_no_variable_or_school_id_in_the_visible_report(results, lang):
    p = _Visible()
    p.feed(render_report(results, lang, RUN))
    text = "\n".join(p.parts)
    text = re.sub(r"Break in series for [^\n]*|Rupture de série[^\n]*", "", text)
    ids = _ids()
    assert "intends_abroad" in ids and "imt_nord_europe" in ids
    found = sorted({t for t in re.findall(r"(?<![\w.])[a-z]+(?:_[a-z0-9]+)+(?![\w.])", text)} & ids)
    assert not found, f"ids visible in the {lang} report: {found}"
