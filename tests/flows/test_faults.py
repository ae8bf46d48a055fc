"""Faults give one line and keep the last report (issue 13.4).

Observed before: a read-only output folder, an output path that is a file and a full disk ended
in tracebacks (128 lines for the full disk: writing the log failed too). Each fault here: exit
status 2 (user error) or 1 (environment fault), one line on stderr naming the path, no
traceback, and ``latest`` still points at the previous report.

The checks of the output folder and of the inputs run before Prefect starts: these tests run
the real CLI in a subprocess and take a few seconds each. Permission denied is real: the CLI
runs without CAP_DAC_OVERRIDE (``setpriv``), so root obeys the file modes too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.faults import ENVIRONMENT_FAULT, USER_ERROR, describe_failure

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "data" / "raw"
DROP_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip


def _cli(args: list[str], cwd: Path, drop_dac: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PYTHONPATH=str(REPO), PREFECT_HOME=str(cwd / "prefect-home"))
    prefix = DROP_DAC if drop_dac else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "flows.cli", "run", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _one_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr[-3000:]
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def _previous_report(out: Path) -> Path:
    """An output folder with a published run (what `latest` must keep pointing at)."""
    run = out / "runs" / "20250101T000000Z-previous"
    run.mkdir(parents=True)
    (run / "report.html").write_text("<html>previous</html>", encoding="utf-8")
    os.symlink(Path("runs") / run.name, out / "latest")
    return run


def _can_drop_dac() -> bool:
    if os.geteuid() != 0:
        return True  # not root: file modes apply anyway
    return shutil.which("setpriv") is not None


def test_an_output_path_that_is_a_file_is_one_line_and_status_2(tmp_path):
    out = tmp_path / "out.html"
    out.write_text("not a folder", encoding="utf-8")
    proc = _cli(["--output", str(out)], tmp_path)
    assert proc.returncode == USER_ERROR
    _one_line(proc, str(out), "is a file")
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_a_missing_output_parent_is_one_line_and_status_2(tmp_path):
    out = tmp_path / "no-such-folder" / "out"
    proc = _cli(["--output", str(out)], tmp_path)
    assert proc.returncode == USER_ERROR
    _one_line(proc, str(out.parent), "does not exist")
    assert not out.parent.exists()


@pytest.mark.skipif(not _can_drop_dac(), reason="needs setpriv to run without CAP_DAC_OVERRIDE")
def test_a_read_only_output_folder_is_one_line_and_keeps_the_last_report(tmp_path):
    out = tmp_path / "out"
    previous = _previous_report(out)
    (tmp_path / "prefect-home").mkdir()
    out.chmod(0o555)
    try:
        proc = _cli(["--output", str(out)], tmp_path, drop_dac=True)
    finally:
        out.chmod(0o755)
    assert proc.returncode == USER_ERROR
    _one_line(proc, str(out), "not writable")
    assert (out / "latest").resolve() == previous.resolve()
    assert sorted(p.name for p in out.iterdir()) == ["latest", "runs"]


@pytest.mark.skipif(not _can_drop_dac(), reason="needs setpriv to run without CAP_DAC_OVERRIDE")
def test_permission_denied_on_an_input_is_one_line_naming_it(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(RAW, data)
    out = tmp_path / "out"
    previous = _previous_report(out)
    survey = data / "survey_2023_qualtrics.csv"
    survey.chmod(0o000)
    proc = _cli(["--config", str(data / "study.toml"), "--output", str(out)], tmp_path, True)
    assert proc.returncode == USER_ERROR
    _one_line(proc, str(survey), "Permission denied")
    assert (out / "latest").resolve() == previous.resolve()


def test_an_input_deleted_during_the_run_is_an_environment_fault_naming_it(
    prefect_harness, tmp_path
):
    """The config was checked (the file existed), then the file went away before it was read:
    the ingest stage fails naming it, and the CLI says so in one line with status 1."""
    from prefect import flow

    from flows.config_io import load_config
    from flows.stages import StageFailure, ingest

    data = tmp_path / "data"
    shutil.copytree(RAW, data)
    config = load_config(data / "study.toml")
    gone = data / "school_mobility_imt_nord_europe.csv"

    @flow(name="ingest-after-delete")
    def ingest_after_delete() -> None:
        gone.unlink()
        ingest(config, str(tmp_path / "out" / ".interim"))

    with pytest.raises(StageFailure) as info:
        ingest_after_delete()
    failure = describe_failure(info.value, tmp_path / "out")
    assert failure.status == ENVIRONMENT_FAULT
    assert str(gone) in str(failure) and "disappeared during the run" in str(failure)
    assert "\n" not in str(failure)


def test_a_full_disk_in_any_stage_is_an_environment_fault_naming_the_output(tmp_path):
    """The classification the CLI prints, for the ENOSPC a writer raises (the real full disk
    is in test_end_to_end.py, where a tmpfs can be mounted)."""
    import errno

    from flows.stages import StageFailure

    for cause in (
        OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".interim" / "x")),
        OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"),
    ):
        try:
            try:
                raise cause
            except OSError as exc:
                raise StageFailure("ingest", "survey.csv", f"OSError: {exc}") from exc
        except StageFailure as failure:
            got = describe_failure(failure, tmp_path)
        assert got.status == ENVIRONMENT_FAULT
        assert "no space left on device" in str(got) and str(tmp_path) in str(got)
        assert "\n" not in str(got)
