"""docs/config.md is the schema of study.toml: generated from the models, and its examples valid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from analysis.config_schema import StudyFile
from analysis.tomlschema import key_lines
from flows.config_doc import DOC_PATH, render_config_doc

REPO = Path(__file__).resolve().parents[2]


def test_config_doc_is_the_generated_page():
    assert DOC_PATH.read_text(encoding="utf-8") == render_config_doc(), (
        "docs/config.md is stale: run python -m flows.config_doc"
    )


def test_the_doc_examples_together_are_a_valid_study_toml():
    blocks = re.findall(r"```toml\n(.*?)```", DOC_PATH.read_text(encoding="utf-8"), re.S)
    text = "\n".join(blocks)
    model = StudyFile.model_validate(tomllib.loads(text))
    assert model.budget is not None and model.inputs.mobility[0].format == "school-mobility"


def test_every_key_of_the_bundled_config_is_documented():
    doc = DOC_PATH.read_text(encoding="utf-8")
    bundled = (REPO / "data" / "raw" / "study.toml").read_text(encoding="utf-8")
    keys = {
        part
        for k in key_lines(bundled)
        for part in (k[:4] if k[:4] == ("inputs", "mobility", 1, "columns") else k)
        if isinstance(part, str)
    }  # every table and key name but the sheet's column headers
    assert {"drop_unfinished", "columns", "school", "envelope_eur", "surveys"} <= keys
    undocumented = sorted(k for k in keys if f"| `{k}` |" not in doc and f"## `[{k}]`" not in doc)
    assert undocumented == []
    for name in ("erasmus-ka1", "erasmus-xlsx", "school-mobility", "schools_table", "[budget]"):
        assert name in doc, name
