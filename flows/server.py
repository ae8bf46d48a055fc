"""The temporary Prefect API server of a one-shot ``mobility-study run``.

With no server configured, Prefect starts a temporary one at the first API call: it first
imports its whole server stack in the *calling* process (9 s here), then starts the server in a
subprocess and waits for it (4 s with an existing database, ~20 s when it creates the database
of a fresh ``PREFECT_HOME``). The CLI starts the same server itself, first thing, in a
background thread, so that this start-up runs on the other core while the study's own modules
are imported, and without importing the server stack into the study's process.

The command is Prefect's own (``prefect.server.api.server.SubprocessASGIServer`` in prefect
3.9.1, which ``pyproject.toml`` pins): uvicorn serving the API factory with the UI off and the
ephemeral set of services; run through a small wrapper that stops the server if the CLI dies
without stopping it (SIGKILL, out of memory). It is also the one server the Dask workers report to (they inherit
``PREFECT_API_URL``); without it every worker process started a server of its own (measured:
three per run, +40 s, +1 GB). The server is stopped when the CLI exits.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PORTS = range(8000, 9000)

# `python -m uvicorn ...`, plus a thread that stops the server when the CLI is gone: a CLI killed
# with SIGKILL (or by the OOM killer) runs no atexit hook, and its server would run on forever.
_WATCHED_UVICORN = """
import os, runpy, signal, sys, threading, time
parent = int(os.environ.pop("MOBILITY_STUDY_CLI_PID"))
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown
    time.sleep(15)
    os._exit(1)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["uvicorn", *sys.argv[1:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""
# Prefect's exit code for "address already in use" from uvicorn: try another port.
_PORT_IN_USE = 3


def _free_port() -> int:
    for _ in range(20):
        port = random.choice(PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the temporary Prefect server in 8000-8999")


class TemporaryApi:
    """Start the temporary server in a background thread; ``settings()`` waits for it."""

    def __init__(self, timeout: float | None = None, announce: bool = True) -> None:
        self.announce = announce  # say on stderr that a server starts (not under a live display)
        self.url: str | None = None
        self.error: BaseException | None = None
        self.process: subprocess.Popen | None = None
        self.timeout = timeout or float(
            os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        )
        self._thread = threading.Thread(target=self._start, name="prefect-api", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ background thread
    def _start(self) -> None:
        try:
            if os.environ.get("PREFECT_API_URL"):
                return  # a server is configured in the environment: use it
            # Launched before Prefect is even imported here (3 s): the subprocess reads the same
            # environment and profile (PREFECT_HOME) as this process would.
            env = {
                **os.environ,
                # as prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            }
            deadline = time.monotonic() + self.timeout
            atexit.register(self.stop)
            port = _free_port()
            self.process = self._launch(port, env)
            # (a profile that names a server is checked by settings(), in the main thread:
            # importing prefect here while the main thread imports it too broke Prefect's
            # plugin start-up, "Failed to initialize plugins: ... circular import")
            while True:
                status = self._wait_healthy(port, deadline)
                if status == "ok":
                    self.url = f"http://127.0.0.1:{port}/api"
                    return
                if status != "port":
                    raise RuntimeError(status)
                port = _free_port()
                self.process = self._launch(port, env)
        except BaseException as exc:  # re-raised in the main thread by settings()
            self.error = exc

    def _launch(self, port: int, env: dict[str, str]) -> subprocess.Popen:
        # the directory that holds the prefect package, found without importing it
        spec = importlib.util.find_spec("prefect")
        assert spec is not None and spec.origin is not None
        app_dir = Path(spec.origin).parent.parent
        if self.announce:
            print(
                f"{time.strftime('%H:%M:%S')} | INFO    | mobility-study - starting a temporary "
                f"Prefect server on http://127.0.0.1:{port} (set PREFECT_API_URL to use a "
                "running one)",
                file=sys.stderr,
                flush=True,
            )
        return subprocess.Popen(
            [sys.executable, "-c", _WATCHED_UVICORN, "--app-dir", str(app_dir), "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"],
            env={**env, "MOBILITY_STUDY_CLI_PID": str(os.getpid())},
        )  # fmt: skip

    def _wait_healthy(self, port: int, deadline: float) -> str:
        assert self.process is not None
        url = f"http://127.0.0.1:{port}/api/health"
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code == _PORT_IN_USE:
                return "port"
            if code is not None:
                return f"the temporary Prefect server exited with code {code} while starting"
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return "ok"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        return (
            f"the temporary Prefect server did not answer within {self.timeout:.0f} s "
            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
        )

    # ------------------------------------------------------------------ main thread
    @property
    def starting(self) -> bool:
        """A temporary server is (probably) being started: no server in the environment."""
        return not os.environ.get("PREFECT_API_URL")

    def settings(self) -> contextlib.AbstractContextManager:
        """Wait for the server; a context in which Prefect uses it (no server: no change)."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if not os.environ.get("PREFECT_API_URL") and PREFECT_API_URL.value():
            self.stop()  # the profile names a server: use that one, not ours
            self._thread.join()
            self.stop()  # (in case the thread launched it after the first stop)
            return contextlib.nullcontext()
        self._thread.join()
        if self.error is not None:
            raise self.error
        if self.url is None:
            return contextlib.nullcontext()

        os.environ["PREFECT_API_URL"] = self.url  # for Dask workers started from here
        return temporary_settings(updates={PREFECT_API_URL: self.url})

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
