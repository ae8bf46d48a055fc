"""Which parts (survey, mobility) a study has, and why a part is missing.

A study may have survey inputs only, mobility inputs only, or both. A missing part is not an
error: its sections are left out of results.json and of the report, which says so in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.config import StudyConfig


def study_parts(
    config: StudyConfig, survey_tables: Sequence[Any], mobility_tables: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    """``{"survey": {"present": bool, "reason": str | None}, "mobility": {...}}``; reasons:
    ``no_input`` (nothing configured), ``no_respondent`` (survey files without respondents)."""
    survey = bool(survey_tables)
    mobility = bool(mobility_tables)
    return {
        "survey": {
            "present": survey,
            "reason": None if survey else ("no_respondent" if config.surveys else "no_input"),
        },
        "mobility": {"present": mobility, "reason": None if mobility else "no_input"},
        "budget": {"present": config.budget is not None and mobility, "reason": None},
    }
