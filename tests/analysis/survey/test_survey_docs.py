"""The documented notebook example runs as written (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_docs_example_runs(capsys):
    text = (REPO / "docs" / "survey-statistics.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "no python example in docs/survey-statistics.md"
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        ns: dict = {}
        exec(compile(blocks[0], "survey-statistics.md", "exec"), ns)  # noqa: S102
    finally:
        os.chdir(cwd)
    # the example's numbers are R's (reference_R.json: went_abroad.S.overall.mean, rake W_tight)
    assert abs(ns["overall"]["estimate"].iloc[0] - 0.2747007971142727) < 1e-12
    assert abs(ns["gap"]["t"] - (-2.7100912719778605)) < 1e-9
    assert ns["raked"].converged
    assert len(ns["model"]) == 13 and (ns["model"]["odds_ratio"] > 0).all()
    assert capsys.readouterr().out  # the example prints its tables
