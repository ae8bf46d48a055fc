"""`mobility-study` command line: run, inspect, schedule.

Errors a person can act on are one line on stderr (exit 2 for bad input or config, 1 for a
failed stage); the traceback goes to the run's log file, never to the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from flows.settings import apply_prefect_defaults

PROG = "mobility-study"


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="IMT group outgoing-mobility and student-survey study: raw exports -> HTML report.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the study (default: the bundled synthetic sample)")
    run.add_argument("--config", type=Path, default=None, help="study config (TOML)")
    run.add_argument(
        "--output", type=Path, default=Path("output"), help="output root (default ./output)"
    )
    run.add_argument(
        "--lang", choices=["en", "fr"], default=None, help="report language (default: config)"
    )
    run.add_argument("--task-runner", choices=["threads", "dask"], default="threads")
    run.add_argument(
        "--dask-address", default=None, help="tcp://HOST:PORT of a running Dask scheduler"
    )

    cfg = sub.add_parser("config", help="check a study config without running the study")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    chk = cfg_sub.add_parser(
        "check",
        help="validate the config, the codebook and that every input file is readable",
        description="Example: mobility-study config check --config studies/2024/study.toml",
    )
    chk.add_argument("--config", type=Path, default=None, help="study config (TOML)")

    ins = sub.add_parser("inspect", help="say what an input file is, without running a study")
    ins.add_argument("path", type=Path)
    ins.add_argument("--json", action="store_true", help="one JSON object on stdout")

    sch = sub.add_parser(
        "schedule", help="register a scheduled deployment and serve it (needs a Prefect server)"
    )
    sch.add_argument("--cron", required=True, help='cron expression, e.g. "0 6 * * 1"')
    sch.add_argument("--timezone", default="Europe/Paris")
    sch.add_argument("--config", type=Path, default=None)
    sch.add_argument("--output", type=Path, default=Path("output"))
    sch.add_argument("--lang", choices=["en", "fr"], default=None)
    sch.add_argument("--name", default="scheduled", help="deployment name")
    return p


def _cmd_config(args: argparse.Namespace) -> int:
    from analysis.config import ConfigError
    from flows.config_check import check_study_folder

    try:
        print(check_study_folder(args.config))
    except ConfigError as exc:
        _err(str(exc))
        return 2
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from analysis.ingest.errors import InputError
    from analysis.ingest.inspect import inspect_path

    try:
        info = inspect_path(args.path)
    except InputError as exc:
        _err(str(exc))
        return 2
    except OSError as exc:
        _err(f"{args.path}: cannot read: {exc.strerror or exc}")
        return 2
    if args.json:
        print(json.dumps(info, ensure_ascii=False, default=str))
    else:
        for k, v in info.items():
            print(f"{k:>22}: {v}")
    return 0


def _task_runner(args: argparse.Namespace):
    if args.task_runner != "dask":
        return None
    from prefect_dask import DaskTaskRunner

    if args.dask_address:
        return DaskTaskRunner(address=args.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "dashboard_address": None}
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.config import ConfigError
    from flows.config_io import load_config

    try:  # validate before starting any Prefect machinery: config errors are instant
        config = load_config(args.config)
    except ConfigError as exc:
        _err(str(exc))
        return 2
    from flows.server import TemporaryApi

    api = TemporaryApi()  # starts now, in the background, while the study is imported
    from flows import study
    from flows.study import StageFailure, study_flow

    if api.starting:  # done while the temporary server starts, instead of after it
        study.preload()  # the statistics and report modules
        study.hash_inputs(config)  # the content keys' file hashes (~2 s for 1.3 GB)

    flow_fn = study_flow
    runner = _task_runner(args)
    if runner is not None:
        flow_fn = study_flow.with_options(task_runner=runner)
    try:
        with api.settings():
            report = flow_fn(
                config_path=str(args.config) if args.config else None,
                output_root=str(args.output),
                lang=args.lang,
            )
    except StageFailure as exc:
        logs = Path(args.output).resolve() / "logs"
        _err(f"{exc} (traceback in {logs}/)")
        return 1
    print(report, flush=True)
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    from analysis.config import ConfigError
    from flows.config_io import load_config

    try:
        load_config(args.config)
    except ConfigError as exc:
        _err(str(exc))
        return 2
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            _err(
                "scheduling needs a running Prefect server: start one with "
                "'prefect server start' and set PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
            return 2
    from flows.deploy import serve_schedule

    serve_schedule(
        cron=args.cron,
        timezone=args.timezone,
        name=args.name,
        config_path=str(args.config.resolve()) if args.config else None,
        output_root=str(args.output.resolve()),
        lang=args.lang,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    apply_prefect_defaults()
    args = _parser().parse_args(argv)
    handler = {
        "run": _cmd_run,
        "config": _cmd_config,
        "inspect": _cmd_inspect,
        "schedule": _cmd_schedule,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
