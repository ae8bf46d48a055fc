"""Orchestration overhead: `mobility-study run` against a running Prefect server vs the same
computation as plain function calls, measured in the same run of this script.

    python benchmarks/bench_orchestration.py [--config data/raw/study.toml] [--repeat 3]

Starts `prefect server start` on 127.0.0.1 (temporary PREFECT_HOME), warms it, then times
  A. the computation alone: the flow's task bodies called directly (`task.fn`) in a fresh process;
  B. `mobility-study run` with PREFECT_API_URL pointing at the server, in a fresh process;
both from a cold output folder each time (nothing cached). Prints both and the difference.
Target (issue 7): B - A <= 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.flows.prefect_server import prefect_server, server_env  # noqa: E402

COMPUTE_ONLY = r"""
import sys, time
from pathlib import Path
from flows.settings import apply_prefect_defaults
apply_prefect_defaults()
from prefect.logging import disable_run_logger
from flows import study
from flows.config_io import load_config
from flows.publish import new_run, publish

config_path, out = sys.argv[1], Path(sys.argv[2])
with disable_run_logger():
    config = load_config(config_path)
    paths = new_run(out, "computeonly")
    interim = str(paths.interim)
    surveys = [study.ingest_survey.fn(str(s.path), s.source, s.wave, config, interim) for s in config.surveys]
    mobility = [study.ingest_mobility.fn(i, config, interim) for i in range(len(config.mobility))]
    enrol = study.load_enrolment.fn(config, interim)
    s_tables = study.survey_statistics.fn([*surveys, enrol], config)
    m_tables = study.mobility_statistics.fn([*mobility, enrol], config)
    done = {"survey": surveys, "mobility": mobility, "enrol": [enrol]}
    results = study.assemble_results(config, s_tables, m_tables, done, out, paths.name, "computeonly")
    study.write_outputs.fn(results, config.language, {"flow_run_id": "computeonly",
        "generated_at": results.provenance["generated_at"], "run_name": paths.name}, str(paths.staging))
    publish(paths)
"""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "data" / "raw" / "study.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with prefect_server() as (api, home):
        env = server_env(home, api)
        _time(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "run",
                "--config",
                args.config,
                "--output",
                tempfile.mkdtemp(),
            ],
            env,
        )  # warm the server's DB and the OS file cache
        plain, orchestrated = [], []
        for _ in range(args.repeat):
            plain.append(
                _time([sys.executable, "-c", COMPUTE_ONLY, args.config, tempfile.mkdtemp()], env)
            )
            orchestrated.append(
                _time(
                    [
                        sys.executable,
                        "-m",
                        "flows.cli",
                        "run",
                        "--config",
                        args.config,
                        "--output",
                        tempfile.mkdtemp(),
                    ],
                    env,
                )
            )
    a, b = statistics.median(plain), statistics.median(orchestrated)
    print(
        f"computation alone (task bodies, fresh process): median {a:6.2f} s  runs {' '.join(f'{x:.2f}' for x in plain)}"
    )
    print(
        f"mobility-study run against a Prefect server:    median {b:6.2f} s  runs {' '.join(f'{x:.2f}' for x in orchestrated)}"
    )
    print(f"orchestration overhead:                          {b - a:6.2f} s  (target <= 3 s)")


if __name__ == "__main__":
    main()
