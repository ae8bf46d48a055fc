"""`mobility-study` command line: run, inspect, schedule.

Errors are one line on stderr, with exit status 2 for a user error (config, input, output
path) and 1 for an environment fault (disk full, an input gone during the run, a crashed
stage): see flows/faults.py. The traceback goes to the run's log file, never to the terminal.
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


EXAMPLES = """examples:
  mobility-study run                                   the bundled synthetic sample -> ./output
  mobility-study run --config study/study.toml --output reports --lang fr
  mobility-study run --quiet --config study/study.toml  (cron: prints nothing unless it fails)
  mobility-study inspect exports/survey_2023.csv       what a file is, how it would be read
  mobility-study schedule --cron "0 6 * * 1" --config study/study.toml
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mobility-study")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog=PROG,
        description="IMT group outgoing-mobility and student-survey study: raw exports -> HTML report.",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the study (default: the bundled synthetic sample)",
        description="Read every input of the study, compute the statistics and publish the\n"
        "report under OUTPUT/runs/, with OUTPUT/latest pointing at it. Prints the report's\n"
        "path as the last line of stdout; a live display on a terminal.",
        epilog="example:\n  mobility-study run --config study/study.toml --output reports --lang fr",
        formatter_class=fmt,
    )
    run.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="TOML",
        help="study config, e.g. study/study.toml (default: the bundled data/raw/study.toml)",
    )
    run.add_argument(
        "--output",
        type=Path,
        default=Path("output"),
        metavar="DIR",
        help="output root, e.g. reports (default: ./output)",
    )
    run.add_argument(
        "--lang",
        choices=["en", "fr"],
        default=None,
        help="report language, e.g. --lang fr (default: study.language of the config)",
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors (for cron); the run's log file and Prefect keep the logs",
    )
    run.add_argument(
        "--task-runner",
        choices=["threads", "dask"],
        default="threads",
        help="where the tasks run: threads of this process (default) or a Dask cluster, "
        "e.g. --task-runner dask",
    )
    run.add_argument(
        "--dask-address",
        default=None,
        metavar="URL",
        help="a running Dask scheduler for --task-runner dask, e.g. tcp://127.0.0.1:8786 "
        "(default: a local 2-worker cluster)",
    )

    cfg = sub.add_parser(
        "config",
        help="check a study config without running the study",
        description="Check a study folder without running the study.",
        epilog="example:\n  mobility-study config check --config study/study.toml",
        formatter_class=fmt,
    )
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, metavar="SUBCOMMAND")
    chk = cfg_sub.add_parser(
        "check",
        help="validate the config, the codebook and that every input file is readable",
        description="Validate the config, the codebook and that every input file is readable.",
        epilog="example:\n  mobility-study config check --config studies/2024/study.toml",
        formatter_class=fmt,
    )
    chk.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="TOML",
        help="study config, or the folder holding its study.toml, e.g. studies/2024/study.toml "
        "(default: the bundled data/raw/study.toml)",
    )

    ins = sub.add_parser(
        "inspect",
        help="say what an input file is, without running a study",
        description="Detect an input file's layout (survey platform, Erasmus+ release, school\n"
        "sheet, enrolment), encoding and delimiter, and say how it would be read.",
        epilog="example:\n  mobility-study inspect exports/survey_2023.csv --json",
        formatter_class=fmt,
    )
    ins.add_argument("path", type=Path, help="the file, e.g. exports/survey_2023.csv")
    ins.add_argument("--json", action="store_true", help="one JSON object on stdout")

    sch = sub.add_parser(
        "schedule",
        help="register a scheduled deployment and serve it (needs a Prefect server)",
        description="Register the deployment mobility-study/NAME with a cron schedule on the\n"
        "Prefect server of PREFECT_API_URL and serve its runs (keep the process running).",
        epilog='example:\n  mobility-study schedule --cron "0 6 * * 1" --config study/study.toml',
        formatter_class=fmt,
    )
    sch.add_argument(
        "--cron", required=True, help='cron expression, e.g. "0 6 * * 1" (Mondays at 06:00)'
    )
    sch.add_argument(
        "--timezone", default="Europe/Paris", help="time zone of the cron (default Europe/Paris)"
    )
    sch.add_argument("--config", type=Path, default=None, metavar="TOML", help="study config")
    sch.add_argument(
        "--output", type=Path, default=Path("output"), metavar="DIR", help="output root"
    )
    sch.add_argument("--lang", choices=["en", "fr"], default=None, help="report language")
    sch.add_argument("--name", default="scheduled", help="deployment name (default: scheduled)")
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
    except OSError as exc:
        _err(f"{exc.filename or args.config}: cannot read the config ({exc.strerror or exc})")
        return 2
    from flows.faults import RunError, check_inputs_readable, check_output_root, describe_failure

    try:  # the output folder and the inputs, before any Prefect machinery too
        check_output_root(args.output)
        check_inputs_readable(config)
    except RunError as exc:
        _err(str(exc))
        return exc.status
    from flows import progress
    from flows.server import TemporaryApi

    live = not args.quiet and sys.stderr.isatty()
    # starts now, in the background, while the study is imported
    api = TemporaryApi(announce=not (live or args.quiet))
    shown = progress.use(progress.LiveProgress(_title(config)) if live else progress.Progress())
    try:
        with shown:
            report = _run_study(args, config, api, shown, show_logs=not (live or args.quiet))
    except Exception as exc:  # one line and the exit status of flows/faults.py; no traceback
        failure = describe_failure(exc, args.output)
        _err(str(failure))
        return failure.status
    if not args.quiet:
        alerts = _alert_count(Path(report).with_name("results.json"))
        print(f"{PROG}: {progress.summary_line(shown, report, alerts)}", file=sys.stderr)
        print(report, flush=True)
    return 0


def _run_study(args: argparse.Namespace, config, api, shown, show_logs: bool) -> str:
    if api.starting:
        shown.stage_started("temporary Prefect server")
    from flows import study
    from flows.console import configure_console

    if api.starting:  # done while the temporary server starts, instead of after it
        study.preload()  # the statistics and report modules
        study.hash_inputs(config)  # the content keys' file hashes (~2 s for 1.3 GB)
    flow_fn = study.study_flow
    runner = _task_runner(args)
    if runner is not None:
        flow_fn = flow_fn.with_options(task_runner=runner)
    # live display or --quiet: the logs go to the run's log file (and Prefect), not the terminal
    configure_console(show_logs=show_logs, temporary_server=api.starting)
    settings = api.settings()  # waits for the temporary server
    if api.starting:
        shown.stage_done("temporary Prefect server")
    with settings:
        return flow_fn(
            config_path=str(args.config) if args.config else None,
            output_root=str(args.output),
            lang=args.lang,
        )


def _is_input_error(exc: BaseException | None) -> bool:
    """Input the user must fix (exit 2), e.g. no respondent left in any survey file."""
    from flows.faults import USER_ERROR, describe_failure

    return exc is not None and describe_failure(exc, Path(".")).status == USER_ERROR


def _title(config) -> str:
    return config.title.get(config.language) or next(iter(config.title.values()), PROG)


def _alert_count(results_json: Path) -> int | None:
    """How many alerts the report's data-quality section lists (None if it cannot be read)."""
    try:
        from reports.viewmodel import data_quality_alert_count

        return data_quality_alert_count(json.loads(results_json.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError):
        return None


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
