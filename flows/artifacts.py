"""Prefect artifacts of a published run: a link to the report and the key findings."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact


def publish_artifacts(report: Path, results) -> None:
    from reports.viewmodel import key_findings_markdown

    try:
        create_link_artifact(
            key="mobility-study-report",
            link=report.as_uri(),
            link_text="Open the study report",
            description="HTML report of the latest successful run",
        )
        create_markdown_artifact(
            key="mobility-study-findings",
            markdown=key_findings_markdown(results, "en"),
            description="Key findings of this run",
        )
    except Exception as exc:  # artifacts are a convenience: never fail a published run
        get_run_logger().warning("could not publish artifacts: %s", exc)
