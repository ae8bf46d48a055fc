"""The whole path, as a user runs it: `mobility-study run` on (a copy of) the bundled data.

Runs the real CLI in subprocesses with a private PREFECT_HOME (a temporary Prefect server starts
each time), checks the report against results.json, that no personal data leaks, that a rerun is
served from the cache, that a changed survey file recomputes only what depends on it, and that a
failing run names the stage and file in one line and leaves the published report untouched.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "data" / "raw"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "storage"),
    )
    return env


def _run(args: list[str], home: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={**_env(home), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Copy the bundled inputs, run the study once; yield what the tests need."""
    base = tmp_path_factory.mktemp("e2e")
    data = base / "data"
    shutil.copytree(RAW, data)
    home = Path(tempfile.mkdtemp(prefix="e2e-prefect-home-"))
    out = base / "out"
    first = _run(["run", "--config", str(data / "study.toml"), "--output", str(out)], home, base)
    assert first.returncode == 0, first.stderr[-4000:]
    return {"base": base, "data": data, "home": home, "out": out, "first": first}


def _task_names(logs: str, state: str) -> set[str]:
    """Tasks (``ingest-survey[file.csv]`` -> ``ingest-survey``) that finished in ``state``."""
    return set(
        re.findall(rf"Task run '([a-z-]+)(?:\[[^\]]*\])?' - Finished in state {state}", logs)
    )


def _report_path(proc: subprocess.CompletedProcess) -> Path:
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return Path(lines[-1])


def test_last_line_is_the_report_and_outputs_exist(study):
    report = _report_path(study["first"])
    assert report.name == "report.html" and report.is_file()
    run_dir = report.parent
    assert (study["out"] / "latest").resolve() == run_dir.resolve()
    assert (study["out"] / "index.html").is_file()
    assert (run_dir / "results.json").is_file()
    assert list(run_dir.glob("**/*.csv")), "tables as CSV"
    html = report.read_text(encoding="utf-8")
    assert re.search(r"<html[^>]*\blang=\"en\"", html)
    assert not re.search(r"""(src|href)=["']https?://""", html), "nothing fetched from the network"


def test_every_number_in_the_report_comes_from_results_json(study):
    report = _report_path(study["first"])
    results = json.loads((report.parent / "results.json").read_text(encoding="utf-8"))
    keys = {e["key"] for e in results["estimates"]}
    html = report.read_text(encoding="utf-8")
    cited = re.findall(r'data-key="([^"]+)"', html)
    assert len(cited) >= 20
    assert set(cited) <= keys
    for e in results["estimates"]:
        assert {
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "ci_method",
            "n_unweighted",
            "domain",
        } <= set(e)
    # the survey estimates carry design-based uncertainty
    survey = [
        e
        for e in results["estimates"]
        if e["table"] == "survey.experience"
        and e["estimate"] is not None
        and not e.get("suppressed")
    ]
    assert survey and all(
        e["se"] is not None and e["ci_low"] <= e["estimate"] <= e["ci_high"] for e in survey
    )


def _personal_values() -> set[str]:
    path = RAW / "survey_2023_qualtrics.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[3:]
    cols = [
        i
        for i, h in enumerate(header)
        if h
        in {
            "IPAddress",
            "RecipientEmail",
            "RecipientLastName",
            "RecipientFirstName",
            "LocationLatitude",
            "LocationLongitude",
            "ExternalReference",
            "ResponseId",
        }
    ]
    text_cols = [i for i, h in enumerate(header) if h.endswith("_TEXT")]
    values = {r[i] for r in data for i in cols if i < len(r) and len(r[i]) >= 6}
    values |= {r[i] for r in data for i in text_cols if i < len(r) and len(r[i]) >= 12}
    return values


def test_no_personal_data_or_free_text_in_any_output(study):
    run_dir = _report_path(study["first"]).parent
    values = _personal_values()
    assert len(values) > 100  # the sample does contain them
    blobs = []
    for p in run_dir.rglob("*"):
        if p.suffix in {".html", ".json", ".csv"}:
            blobs.append(p.read_text(encoding="utf-8", errors="replace"))
        elif p.suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(p, read_only=True)
            blobs.append(
                "\n".join(
                    str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row
                )
            )
    text = "\n".join(blobs)
    leaked = [v for v in values if v in text]
    assert leaked == []
    assert not re.search(r"[\w.+-]+@example\.(org|com|net)", text)


def test_small_cell_protection_resists_the_attacker_on_every_table_of_the_bundled_study(study):
    """Observation 12.10 on the bundled study: the attacker (linear programming over every
    published figure of results.json) narrows no suppressed figure below the threshold, no
    suppressed figure carries a number, and no unweighted cell count reaches the outputs."""
    from tests.disclosure_attack import assert_resists_attack

    run_dir = _report_path(study["first"]).parent
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    hidden = [e for e in results["estimates"] if e["suppressed"]]
    assert hidden, "the bundled study has small cells: disclosure control must act"
    ivs = assert_resists_attack(results)
    assert ivs, "the attacker had suppressed counts to bound"
    assert all("n_cell" not in e and "weight_base" not in e for e in results["estimates"])
    assert results["data_quality"]["disclosure"]["differencing_check"]["passed"] is True


def test_rerun_is_cached_and_a_changed_survey_recomputes_only_its_branch(study):
    base, data, home, out = study["base"], study["data"], study["home"], study["out"]
    second = _run(["run", "--config", str(data / "study.toml"), "--output", str(out)], home, base)
    assert second.returncode == 0, second.stderr[-4000:]
    logs = second.stdout + second.stderr
    ran = _task_names(logs, "Completed")
    cached = _task_names(logs, "Cached")
    assert {
        "ingest-survey",
        "ingest-mobility",
        "load-enrolment",
        "survey-statistics",
        "mobility-statistics",
    } <= cached, logs[-3000:]
    assert ran <= {"write-outputs"}

    # append one more copy of the last response line to the 2023 export: its branch reruns
    survey = data / "survey_2023_qualtrics.csv"
    text = survey.read_text(encoding="utf-8")
    last = text.rstrip("\n").splitlines()[-1]
    survey.write_text(
        text + last.replace(last.split(",")[8], "R_extraResp0001", 1) + "\n", encoding="utf-8"
    )
    try:
        third = _run(
            ["run", "--config", str(data / "study.toml"), "--output", str(out)], home, base
        )
    finally:  # later tests count the rows of the bundled file (the progress display: 2,573)
        survey.write_text(text, encoding="utf-8")
    assert third.returncode == 0, third.stderr[-4000:]
    logs = third.stdout + third.stderr
    ran = _task_names(logs, "Completed")
    cached = _task_names(logs, "Cached")
    assert "ingest-survey" in ran and "survey-statistics" in ran
    assert {"ingest-mobility", "load-enrolment", "mobility-statistics"} <= cached
    results = json.loads((out / "latest" / "results.json").read_text(encoding="utf-8"))
    assert results["data_quality"]["changes"]["previous_run"]


def test_deleting_one_output_folder_does_not_break_another(study):
    """Issue 13.2: `run --output A; run --output B; rm -rf B`, change a survey file, `run
    --output A` failed with FileNotFoundError on B/.interim/... (the shared result cache
    pointed into whichever folder computed a key last)."""
    base, data, home, out = study["base"], study["data"], study["home"], study["out"]
    other = base / "out-b"
    cfg = str(data / "study.toml")
    b = _run(["run", "--config", cfg, "--output", str(other)], home, base)
    assert b.returncode == 0, b.stderr[-4000:]
    shutil.rmtree(other)
    survey = data / "survey_2023_qualtrics.csv"
    text = survey.read_text(encoding="utf-8")
    last = text.rstrip("\n").splitlines()[-1]
    survey.write_text(
        text + last.replace(last.split(",")[8], "R_extraResp0002", 1) + "\n", encoding="utf-8"
    )
    try:
        a = _run(["run", "--config", cfg, "--output", str(out)], home, base)
    finally:  # the module's later tests count the rows of this file
        survey.write_text(text, encoding="utf-8")
    assert a.returncode == 0, a.stderr[-4000:]
    assert "Traceback" not in a.stderr
    assert (out / "latest" / "report.html").is_file()
    assert not other.exists()


def test_a_failing_run_names_stage_and_file_and_keeps_the_previous_report(study):
    base, data, home, out = study["base"], study["data"], study["home"], study["out"]
    before = (out / "latest").resolve()
    broken = base / "broken"
    shutil.copytree(data, broken)
    (broken / "enrolment.csv").write_bytes(b"\x00\x01\x02 not a csv \xff\xfe")
    proc = _run(["run", "--config", str(broken / "study.toml"), "--output", str(out)], home, base)
    assert proc.returncode != 0
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("mobility-study:")]
    assert len(err_lines) == 1, proc.stderr[-3000:]
    assert "enrolment" in err_lines[0] and "stage" in err_lines[0]
    assert "Traceback" not in proc.stderr
    assert (out / "latest").resolve() == before
    assert not any((out / ".staging").iterdir())


def test_config_typo_keeps_the_published_report(study):
    """Issue 13: a typo in study.toml after a real run: exit 2, one line, the report untouched
    (the rest of the hostile-config corpus is in tests/flows/test_config_errors.py)."""
    base, data, home, out = study["base"], study["data"], study["home"], study["out"]
    latest = (out / "latest").resolve()
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    typo = base / "typo"
    shutil.copytree(data, typo)
    text = (typo / "study.toml").read_text(encoding="utf-8")
    (typo / "study.toml").write_text(text.replace("[disclosure]", "[disclosre]"), "utf-8")
    proc = _run(["run", "--config", str(typo / "study.toml"), "--output", str(out)], home, base)
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr[-3000:]
    assert "disclosre: unknown section; did you mean `disclosure`?" in proc.stderr
    assert (out / "latest").resolve() == latest
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        res = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True, timeout=30,
        )  # fmt: skip
    except OSError:
        return False
    return res.returncode == 0


def test_a_full_disk_is_one_line_and_keeps_the_last_report(study):
    """Issue 13.4: a full disk ended in 128 lines of traceback (writing the log failed too).
    A real full filesystem: a small tmpfs holding a published run, filled to the last 64 KB."""
    base, data, home = study["base"], study["data"], study["home"]
    out = base / "out-full"
    if not _mount_tmpfs(out, "8m"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        run = out / "runs" / "20250101T000000Z-previous"
        run.mkdir(parents=True)
        (run / "report.html").write_text("<html>previous</html>", encoding="utf-8")
        os.symlink(Path("runs") / run.name, out / "latest")
        free = shutil.disk_usage(out).free
        with open(out / "filler", "wb") as f:  # leave 64 KB: the run starts, then fills it
            f.write(b"\0" * (free - (64 << 10)))
        proc = _run(["run", "--config", str(data / "study.toml"), "--output", str(out)], home, base)
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("mobility-study:")]
        assert len(err_lines) == 1, proc.stderr[-3000:]
        assert "no space left on device" in err_lines[0] and str(out) in err_lines[0]
        assert (out / "latest").resolve() == run.resolve()
        assert not any((out / ".staging").iterdir())
    finally:
        subprocess.run(["umount", "-l", str(out)], capture_output=True, timeout=30)


def _comparable(results: dict) -> dict:
    return {"estimates": results["estimates"], "tables": results["tables"]}


def test_dask_runner_gives_the_same_results(study):
    """The per-source and per-stage tasks on a local 2-worker Dask cluster: same numbers."""
    base = study["base"]
    # a fresh Prefect home and output root: nothing may come from the threaded run's cache
    home = Path(tempfile.mkdtemp(prefix="e2e-dask-home-"))
    out = base / "out-dask"
    shutil.copytree(RAW, base / "data-dask")
    cfg = base / "data-dask" / "study.toml"
    proc = _run(
        ["run", "--config", str(cfg), "--output", str(out), "--task-runner", "dask"], home, base
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "prefect.task_runner.dask" in proc.stderr  # the Dask task runner's own log lines
    got = json.loads((out / "latest" / "results.json").read_text(encoding="utf-8"))
    # the module's first run: default runner, same bundled inputs (copied before any change)
    first = _report_path(study["first"]).parent / "results.json"
    want = json.loads(first.read_text(encoding="utf-8"))
    assert _comparable(got) == _comparable(want)


def test_reader_processes_give_the_same_results(study):
    """The loading tasks' reading done in spawned processes (how big inputs are read): same
    results.json as the module's first run (readers in threads)."""
    base = study["base"]
    home = Path(tempfile.mkdtemp(prefix="e2e-procs-home-"))
    data = base / "data-procs"
    shutil.copytree(RAW, data)
    cfg = data / "study.toml"
    out = base / "out-procs"
    proc = _run(
        ["run", "--config", str(cfg), "--output", str(out)],
        home,
        base,
        MOBILITY_STUDY_READERS="processes",
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert re.search(r"reading the big input files in \d reader processes", proc.stderr)
    got = json.loads((out / "latest" / "results.json").read_text(encoding="utf-8"))
    want = json.loads((_report_path(study["first"]).parent / "results.json").read_text("utf-8"))
    assert _comparable(got) == _comparable(want)
    # an input error raised in a reader process keeps its file, row and column: test_loading.py


def _flow_run_state(home: Path, flow_run_id: str) -> str:
    """The flow run's state type, read from Prefect's SQLite database itself."""
    import sqlite3

    con = sqlite3.connect(home / "prefect.db")
    try:
        rows = con.execute(
            "select state_type from flow_run where id = ?", (flow_run_id,)
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else "missing"


def test_a_run_killed_midway_is_rerun_from_what_was_cached(study):
    """Kill -9 a run once its loading stage is done; the rerun reuses those cached tasks."""
    import signal

    base, data, home = study["base"], study["data"], study["home"]
    out = base / "out-killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(data / "study.toml"),
         "--output", str(out)],
        cwd=base, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen = []
    children: list[psutil.Process] = []
    for line in proc.stdout:
        seen.append(line)
        if "stage: survey statistics" in line:
            children = psutil.Process(proc.pid).children(recursive=True)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    # its temporary Prefect server (and any reader process) notices and exits: no orphan
    assert any("uvicorn" in " ".join(c.cmdline()) for c in children), children
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [" ".join(c.cmdline())[:200] for c in alive]
    assert not (out / "latest").exists()  # nothing was published
    # what it left: its staging folder and the record of its flow run, still RUNNING
    owners = list((out / ".staging").glob("*.owner.json"))
    assert len(owners) == 1 and (out / ".staging" / owners[0].name[: -len(".owner.json")]).is_dir()
    killed_id = json.loads(owners[0].read_text(encoding="utf-8"))["flow_run_id"]
    assert _flow_run_state(home, killed_id) == "RUNNING"
    rerun = _run(["run", "--config", str(data / "study.toml"), "--output", str(out)], home, base)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    # the rerun cleaned the left-overs and marked the killed flow run CRASHED
    assert list((out / ".staging").iterdir()) == []
    assert _flow_run_state(home, killed_id) == "CRASHED"
    cached = _task_names(rerun.stderr, "Cached")
    assert {"ingest-survey", "ingest-mobility", "load-enrolment"} <= cached, rerun.stderr[-3000:]
    assert (out / "latest" / "report.html").is_file()


def _run_on_terminal(args: list[str], home: Path, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe): (exit code, terminal, stdout)."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={**_env(home), "TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal is closed once the process is gone
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=600)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace"), out


def test_progress_display_on_a_terminal_and_not_with_quiet_or_a_pipe(study):
    args = ["run", "--config", str(study["data"] / "study.toml"), "--output", str(study["out"])]
    # without a terminal (the fixture's run): plain log lines, the summary line, no display
    first = study["first"]
    assert "stage: ingest" in first.stderr
    assert "✓ ingest" not in first.stderr
    assert re.search(
        r"report written in [\d.]+ s, 5 files, [\d,]+ rows read, [\d,]+ kept", first.stderr
    )
    assert "View at http" not in first.stderr  # the temporary server is gone after the run
    assert "Failed to initialize plugins" not in first.stderr
    assert "Task run 'ingest-survey[survey_2023_qualtrics.csv]'" in first.stderr
    # on a terminal: the live display (stages, files with their rows), no log lines
    code, term, out = _run_on_terminal(args, study["home"], study["base"])
    assert code == 0, term[-3000:]
    assert "✓ ingest" in term and "✓ render report" in term
    assert re.search(r"✓ survey_2023_qualtrics\.csv: 2,573 rows read, [\d,]+ kept", term)
    assert "stage: ingest" not in term and "| INFO" not in term
    assert "report written in" in term
    assert out.strip().splitlines()[-1].endswith("report.html")
    # --quiet on a terminal: nothing at all on success
    code, term, out = _run_on_terminal([*args, "--quiet"], study["home"], study["base"])
    assert code == 0
    assert term.strip() == "" and out.strip() == ""
