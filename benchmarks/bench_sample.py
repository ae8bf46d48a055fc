"""The bundled sample, end to end, as an analyst runs it: `mobility-study run --quiet` timed from
the command to its exit, in fresh processes, median of several runs.

    python benchmarks/bench_sample.py [--repeat 3] [--config data/raw/study.toml]

Settings (issue 17 targets on 2 cores in brackets):
  running server   PREFECT_API_URL points at `prefect server start` (started here, warmed),
                   new output folder each run: nothing cached                        [<= 6 s]
  rerun            the same, into the output folder of the previous run (all cached)
  temporary, warm  no server configured: the CLI starts a temporary one; PREFECT_HOME whose
                   database exists (one untimed run first), new output folder          [<= 10 s]
  cold machine     a new, empty PREFECT_HOME every run: Prefect creates its database    [<= 15 s]
Also prints `python -c "import prefect, pandas"` for scale (the issue's yardstick).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.flows.prefect_server import prefect_server, server_env  # noqa: E402


def _run(config: Path, out: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--quiet", "--config", str(config),
         "--output", str(out)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took


def _env(home: Path, api: str | None = None) -> dict[str, str]:
    env = server_env(home, api)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return env


def _median(label: str, times: list[float]) -> None:
    spread = f"{min(times):5.1f}-{max(times):5.1f} s" if len(times) > 1 else ""
    print(f"{label:<34}{statistics.median(times):6.1f} s   {spread}  ({len(times)} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", type=Path, default=REPO / "data" / "raw" / "study.toml")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sample-"))
    print(f"bundled sample ({args.config}), {os.cpu_count()} cores, {args.repeat} runs each")

    t = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import prefect, pandas"], check=True)
        t.append(time.perf_counter() - t0)
    _median('python -c "import prefect, pandas"', t)

    with prefect_server() as (api, home):
        env = _env(home, api)
        _run(args.config, work / "warm-server", env)  # the server's first flow run: untimed
        fresh = [_run(args.config, work / f"server-{i}", env) for i in range(args.repeat)]
        rerun = [_run(args.config, work / "server-0", env) for _ in range(args.repeat)]
    _median("running server, nothing cached", fresh)
    _median("running server, rerun (cached)", rerun)

    home = work / "home-warm"
    home.mkdir()
    _run(args.config, work / "warm-temp", _env(home))  # creates the database: untimed
    warm = [_run(args.config, work / f"temp-{i}", _env(home)) for i in range(args.repeat)]
    _median("temporary server, warm home", warm)

    cold = []
    for i in range(args.repeat):
        h = work / f"home-cold-{i}"
        h.mkdir()
        cold.append(_run(args.config, work / f"cold-{i}", _env(h)))
    _median("cold machine (empty PREFECT_HOME)", cold)


if __name__ == "__main__":
    main()
