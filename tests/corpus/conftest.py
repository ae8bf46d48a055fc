"""The corpus, generated once per session into a temporary folder, and its runs (one per shape,
cached for the session: every fact of a shape is checked against the same run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .generate_corpus import write_corpus
from .runner import Outcome, run_study

_RUNS: dict[str, Outcome | BaseException] = {}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root / "shapes")
    return root


@pytest.fixture(scope="session")
def corpus_run(corpus: Path) -> Callable[[str], Outcome | BaseException]:
    """``corpus_run(shape)``: the shape's run (its Outcome, or the exception it stopped with)."""

    def run(name: str) -> Outcome | BaseException:
        if name not in _RUNS:
            try:
                _RUNS[name] = run_study(
                    corpus / "shapes" / name / "study.toml", corpus / "out" / name
                )
            except Exception as exc:  # an expected error is a fact of its own (facts["error"])
                _RUNS[name] = exc
        return _RUNS[name]

    return run
