"""Prefect names of a study: its flow runs and its artifacts (a link to the report and the key
findings), named after the study's title and survey waves so that several studies served by one
Prefect server stay apart."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact

from analysis.config import StudyConfig


def study_slug(config: StudyConfig, limit: int = 40) -> str:
    """The study's title as an artifact key: lowercase ASCII letters, digits and dashes."""
    title = config.title.get("en") or next(iter(config.title.values()), "") or "study"
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > limit:  # cut at a word boundary
        slug = slug[: limit + 1].rsplit("-", 1)[0]
    return slug or "study"


def run_name_for(config: StudyConfig) -> str:
    """A flow run's name: the study and its survey waves (``...-waves-2021-2023``)."""
    waves = sorted({s.wave for s in config.surveys})
    suffix = f"-waves-{'-'.join(re.sub(r'[^A-Za-z0-9]+', '', w) for w in waves)}" if waves else ""
    return study_slug(config) + suffix


def publish_artifacts(report: Path, results, config: StudyConfig) -> None:
    from reports.viewmodel import key_findings_markdown

    slug = study_slug(config)
    try:
        create_link_artifact(
            key=f"{slug}-report",
            link=report.as_uri(),
            link_text=f"Open the report: {config.title.get('en') or slug}",
            description="HTML report of the latest successful run",
        )
        create_markdown_artifact(
            key=f"{slug}-findings",
            markdown=key_findings_markdown(results, "en"),
            description="Key findings of this run",
        )
    except Exception as exc:  # artifacts are a convenience: never fail a published run
        get_run_logger().warning("could not publish artifacts: %s", exc)
