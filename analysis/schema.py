"""Column contracts of the tidy tables that cross module boundaries.

Refer to columns through these constants, not scattered string literals.  Each tidy table
has one schema; ``validate_columns`` names the table and the missing columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TableSchema:
    name: str
    required: tuple[str, ...]

    def missing(self, df: pd.DataFrame) -> list[str]:
        return [c for c in self.required if c not in df.columns]


class Responses:
    """One row per kept survey response, after the codebook (variables are extra columns).

    Multi-select variables become one 0/1 column per option named ``<variable>__<option>``.
    Free-text variables stay here for quality checks only and never reach an output.
    """

    RESPONDENT_ID = "respondent_id"  # keyed hash, never the platform's id
    SOURCE_ID = "source_id"  # codebook source id
    SOURCE_FILE = "source_file"  # file name (no folder)
    SOURCE_ROW = "source_row"  # 1-based data-row number in the file (after header rows)
    WAVE = "wave"
    SCHOOL = "school"  # school id from the school table, e.g. "imt_nord_europe"
    GENDER = "gender"  # "F" / "M" / "X" (other / not said)
    STUDY_YEAR = "study_year"  # 1..5
    WEIGHT = "weight"  # added by weighting

    SCHEMA = TableSchema(
        "responses", (RESPONDENT_ID, SOURCE_ID, SOURCE_FILE, SOURCE_ROW, WAVE, SCHOOL)
    )


class Quarantine:
    """Rows (or cells) that could not be used, with the reason: nothing is lost silently."""

    SOURCE_FILE = "source_file"
    SOURCE_ROW = "source_row"
    COLUMN = "column"
    VALUE = "value"  # neutralised / truncated; never personal data
    REASON = "reason"  # short code, e.g. "unknown_school", "out_of_range"
    DETAIL = "detail"

    SCHEMA = TableSchema("quarantine", (SOURCE_FILE, SOURCE_ROW, COLUMN, VALUE, REASON, DETAIL))


class Mobility:
    """One row per harmonised outgoing-mobility record (an Erasmus+ row may count several)."""

    SCHOOL = "school"  # school id (series continuous across mergers)
    SENDING_CODE = "sending_code"  # Erasmus code as read, whitespace removed
    ACADEMIC_YEAR = "academic_year"  # start year of the academic year, int (2019 = 2019-20)
    ACTIVITY = "activity"  # "study" | "traineeship" | "dual_degree"
    DURATION_DAYS = "duration_days"
    DURATION_MONTHS = "duration_months"
    COUNTRY = "country"  # ISO alpha-2 of the receiving country
    PARTICIPANTS = "participants"  # >= 1 (Erasmus+ rows are aggregated)
    GENDER = "gender"
    ERASMUS_FUNDED = "erasmus_funded"  # bool
    GRANT_EUR = "grant_eur"  # float, NaN when unknown
    SOURCE_FILE = "source_file"
    SOURCE_ROW = "source_row"

    SCHEMA = TableSchema(
        "mobility",
        (SCHOOL, ACADEMIC_YEAR, ACTIVITY, COUNTRY, PARTICIPANTS, SOURCE_FILE, SOURCE_ROW),
    )


class Enrolment:
    """Enrolled students per school, academic year and gender (long format)."""

    SCHOOL = "school"
    ACADEMIC_YEAR = "academic_year"  # start year, int
    GENDER = "gender"  # "F" / "M"
    ENROLLED = "enrolled"

    SCHEMA = TableSchema("enrolment", (SCHOOL, ACADEMIC_YEAR, GENDER, ENROLLED))


def validate_columns(df: pd.DataFrame, schema: TableSchema, source: str) -> None:
    """Raise ``ValueError`` naming the source and the missing columns."""
    missing = schema.missing(df)
    if missing:
        raise ValueError(f"{source}: {schema.name} table lacks column(s) {', '.join(missing)}")
