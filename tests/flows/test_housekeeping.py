"""Privacy of stores and left-overs (issue 13.6).

Observed: raw free-text comments (one with a phone number) stayed in
``.interim/*/responses.parquet`` forever; a killed run left ``.staging/<run>/``, Chromium
profiles in the temp folder and flow runs stuck as RUNNING in Prefect's database.
"""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from flows.housekeeping import LOCK_NAME, RETENTION_ENV, claim_output, write_owner
from flows.loading import load_survey, write_interim
from flows.publish import RunPaths

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "data" / "raw"


def _comments() -> list[str]:
    """The free-text answers of the bundled Qualtrics export, read from the raw file."""
    with (RAW / "survey_2023_qualtrics.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[3:]
    cols = [i for i, h in enumerate(header) if h.lower().startswith(("comment", "q_comment"))]
    cols += [i for i, h in enumerate(header) if h.endswith("_TEXT")]
    return [r[i] for r in data for i in cols if i < len(r) and len(r[i]) >= 12]


def test_interim_survey_files_hold_no_free_text(tmp_path):
    from flows.config_io import load_config

    config = load_config(RAW / "study.toml")
    s = next(s for s in config.surveys if s.path.name == "survey_2023_qualtrics.csv")
    comments = _comments()
    assert len(comments) > 10  # the sample does hold free text
    res = load_survey(str(s.path), s.source, s.wave, config, str(tmp_path), "survey-k", "sha")
    responses = pd.read_parquet(res["responses"])
    assert "comment" not in responses.columns
    stored = "\n".join(
        pd.read_parquet(p).astype(str).to_csv(index=False)
        for p in (res["responses"], res["quarantine"])
    ) + (tmp_path / "survey-k" / "meta.json").read_text(encoding="utf-8")
    assert [c for c in comments if c in stored] == []
    # source_row stays: the weighting names the file and row of a response it cannot use
    assert "source_row" in responses.columns


def _killed_run(root: Path, name: str) -> RunPaths:
    """What a run killed with SIGKILL leaves: staging, scratch (browser profile), owner."""
    paths = RunPaths(root, name)
    (paths.staging / "tables").mkdir(parents=True)
    (paths.staging / "report.html").write_text("half", encoding="utf-8")
    (paths.scratch / "mobility-study-chromium-x" / "Default").mkdir(parents=True)
    write_owner(paths.owner, "0b4c3f7e-0000-4000-8000-000000000000")
    return paths


def _interim_entry(interim: Path, key: str, age_days: float, complete: bool = True) -> Path:
    if complete:
        write_interim(str(interim), key, {"records": pd.DataFrame({"a": [1]})}, {})
    else:
        (interim / key).mkdir(parents=True)
        (interim / key / "records.parquet").write_bytes(b"PAR1 half")
    t = time.time() - age_days * 86400
    for p in (interim / key).iterdir():
        os.utime(p, (t, t))
    return interim / key


def test_the_next_start_cleans_what_killed_runs_left_and_expired_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(RETENTION_ENV, "30")
    root = tmp_path / "out"
    killed = _killed_run(root, "20250101T000000Z-killed01")
    interim = root / ".interim"
    fresh = _interim_entry(interim, "survey-fresh", 2)
    old = _interim_entry(interim, "survey-old", 45)
    partial = _interim_entry(interim, "mobility-partial", 0, complete=False)
    with claim_output(root) as cleaned:
        assert cleaned.alone
        assert not killed.staging.exists() and not killed.scratch.exists()
        assert not killed.owner.exists()
        assert cleaned.dead_flow_runs == ["0b4c3f7e-0000-4000-8000-000000000000"]
        assert fresh.exists() and not old.exists() and not partial.exists()


def test_nothing_is_cleaned_while_another_run_uses_the_folder(tmp_path):
    root = tmp_path / "out"
    running = _killed_run(root, "20250101T000000Z-running1")  # alive: it holds the lock
    partial = _interim_entry(root / ".interim", "survey-being-written", 0, complete=False)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        with claim_output(root) as cleaned:
            assert not cleaned.alone
            assert running.staging.exists() and running.scratch.exists() and partial.exists()
    finally:
        os.close(fd)


def test_the_pdf_printer_profile_lives_in_the_run_scratch_folder(tmp_path):
    from reports.outputs import find_chromium, print_pdf

    if find_chromium() is None:
        pytest.skip("no chromium installed")
    html = tmp_path / "r.html"
    html.write_text("<html><body>x</body></html>", encoding="utf-8")
    before = {
        p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("mobility-study-chromium-*")
    }
    scratch = tmp_path / "scratch"
    seen = []
    import tempfile

    real = tempfile.TemporaryDirectory

    class Spy(real):  # records where the profile was created (the real class does the work)
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            seen.append(Path(self.name))

    tempfile.TemporaryDirectory = Spy
    try:
        print_pdf(html, tmp_path / "r.pdf", scratch=scratch)
    finally:
        tempfile.TemporaryDirectory = real
    assert seen and all(p.parent == scratch for p in seen)
    after = {
        p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("mobility-study-chromium-*")
    }
    assert after <= before
    shutil.rmtree(scratch)
