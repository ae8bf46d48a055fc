"""Scheduled runs: a served deployment of the study flow (needs a real Prefect server)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.study import study_flow


def serve_schedule(
    cron: str,
    timezone: str,
    name: str,
    config_path: str | None,
    output_root: str,
    lang: str | None,
) -> None:
    """Register deployment ``mobility-study/<name>`` with a cron schedule and serve it."""
    study_flow.serve(
        name=name,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"config_path": config_path, "output_root": output_root, "lang": lang},
        tags=["mobility-study"],
        pause_on_shutdown=False,
    )
