"""Observation 8 of issue 12 (report side): option ids (``benelux``, ``germany``) reached the
report.  The codebook's option labels travel in ``results.study["labels"]`` (written by
:func:`flows.assembly.assemble_results`) and the view model shows them instead of the ids.

Runs on the pipeline-produced results fixture whose ``pref_region`` options are renamed to
custom ids, as a study with its own codebook would have them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reports.viewmodel import build_view_model

RENAMED = {"euroregion": "benelux", "other_europe": "germany"}
LABELS = {
    "en": {"benelux": "Benelux countries", "germany": "Germany and Austria"},
    "fr": {"benelux": "Pays du Benelux", "germany": "Allemagne et Autriche"},
}


def _custom(results, with_labels: bool):
    tables = tuple(
        replace(
            t,
            estimates=tuple(
                replace(e, level=RENAMED.get(e.level, e.level))
                if e.variable == "pref_region"
                else e
                for e in t.estimates
            ),
        )
        for t in results.tables
    )
    study = dict(results.study)
    if with_labels:
        study["labels"] = {
            lang: {"variables": {}, "options": {"pref_region": labels}}
            for lang, labels in LABELS.items()
        }
    else:
        study.pop("labels", None)
    return replace(results, study=study, tables=tables)


def _texts(node: Any) -> list[str]:
    """Every displayed string of the view model (cell texts, captions, alt texts...); ids and
    anchors (``key``, ``id``, ``ref``, ``anchor``) are not shown."""
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in ("key", "id", "ref", "anchor", "keys")
                for s in _texts(v)]  # fmt: skip
    if isinstance(node, list | tuple):
        return [s for v in node for s in _texts(v)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_obs8_report_shows_codebook_option_labels(results, lang):
    vm = build_view_model(_custom(results, True), lang, {"run": "r"})
    texts = "\n".join(_texts(vm))
    for label in LABELS[lang].values():
        assert label in texts
    assert "benelux" not in texts and "germany" not in texts


def test_obs8_without_labels_the_ids_would_show(results):
    # the check above can fail: without the codebook labels the custom ids are what is shown
    vm = build_view_model(_custom(results, False), "en", {"run": "r"})
    assert "benelux" in "\n".join(_texts(vm))


def test_obs8_pipeline_results_carry_the_codebook_labels(results):
    labels = results.study["labels"]
    assert labels["fr"]["options"]["pref_region"]["asia"] == "Asie"
    assert labels["en"]["options"]["gender"]["X"] == "Other / not said"
