"""Scheduling against a real Prefect server: deployment, schedule, a run through the API."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.flows.prefect_server import prefect_server, server_env

pytestmark = [pytest.mark.server, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _wait(predicate, timeout: float, what: str, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.TransportError:  # a busy server that did not answer in time: ask again
            value = None
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"{what}: process exited early: {log.read_text()[-3000:] if log else ''}"
            )
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-3000:] if log else ''}")


def test_schedule_registers_a_cron_deployment_and_a_triggered_run_writes_the_report(tmp_path):
    out = tmp_path / "out"
    with prefect_server() as (api, home):
        log = tmp_path / "serve.log"
        serve = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "schedule",
                "--cron",
                "0 6 * * 1",
                "--config",
                str(REPO / "data" / "raw" / "study.toml"),
                "--output",
                str(out),
                "--name",
                "weekly-test",
            ],
            cwd=REPO,
            env=server_env(home, api),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:

            def deployment():
                r = httpx.get(f"{api}/deployments/name/mobility-study/weekly-test", timeout=5)
                return r.json() if r.status_code == 200 else None

            dep = _wait(deployment, 120, "the deployment", serve, log)
            crons = [s["schedule"].get("cron") for s in dep["schedules"]]
            assert crons == ["0 6 * * 1"]
            assert dep["parameters"]["output_root"] == str(out.resolve())

            run = httpx.post(f"{api}/deployments/{dep['id']}/create_flow_run", json={}, timeout=10)
            run.raise_for_status()
            run_id = run.json()["id"]

            def finished():
                st = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]
                return st if st["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

            state = _wait(finished, 400, "the triggered run", serve, log)
            assert state["type"] == "COMPLETED", log.read_text()[-3000:]
            report = out / "latest" / "report.html"
            assert report.is_file()
            html = report.read_text(encoding="utf-8")
            assert run_id in html  # the run identity block names the Prefect flow run

            arts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
            keys = {a.get("key") for a in arts if a.get("flow_run_id") == run_id}
            # named after the bundled study's title (cut at a word boundary), not the product
            slug = "imt-group-study-outgoing-mobility-and"
            assert {f"{slug}-report", f"{slug}-findings"} <= keys
            names = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["name"]
            assert names == f"{slug}-waves-2021-2023"
        finally:
            serve.terminate()
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.kill()
