"""The schema of the codebook file: one pydantic model per table, strict, unknown keys forbidden.

:func:`analysis.ingest.codebook.parse_codebook` validates the parsed TOML against
:class:`CodebookFile` first (shape, types, unknown keys: one line ``codebook.toml:LINE: key:
message`` with a "did you mean" for near misses), then checks what depends on several keys
(a likert's labels against its scale, a column's variable, ...) while building the frozen
:class:`~analysis.ingest.codebook.Codebook`.

To add a key: add a field to the model of its table (with a description); the parser sees it
in the validated mapping, and the allowed-key lists follow from the models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from analysis.tomlschema import Table, shown

VariableType = Literal[
    "identifier",
    "school",
    "categorical",
    "likert",
    "binary",
    "multi-select",
    "numeric",
    "date",
    "free-text",
]
Platform = Literal[
    "qualtrics", "limesurvey", "google-forms", "surveymonkey", "spss", "csv", "xlsx", "auto"
]
Language = Literal["en", "fr"]


def _answer_value(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise ValueError(f"must be a string or a number, got {shown(v)}")
    return v


def _missing_code(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise ValueError(f'must be a string or an integer (e.g. "NSP", 99), got {shown(v)}')
    return v


def _label(v: Any) -> Any:
    return {"en": v} if isinstance(v, str) else v


AnswerValue = Annotated[Any, BeforeValidator(_answer_value)]
MissingCode = Annotated[Any, BeforeValidator(_missing_code)]
Label = Annotated[dict[Language, str], BeforeValidator(_label)]
_LABEL_DOC = 'a string (English), or a table of strings per language `{ en = "...", fr = "..." }`'


class VariableSpec(Table):
    """``[variables.<name>]``: one study variable."""

    type: VariableType = Field(description="The variable type (docs/codebook.md).")
    label: Label | None = Field(
        None, description="Label per language.", json_schema_extra={"type": _LABEL_DOC}
    )
    values: dict[str, AnswerValue] = Field(
        {}, description="Source answer (code or label) -> canonical value."
    )
    missing: list[MissingCode] = Field([], description="Missing codes of this variable.")
    description: str | None = Field(None, description="Free comment.")
    # likert
    scale: list[int] | None = Field(None, description="likert: [low, high].")
    direction: Literal["ascending", "descending"] | None = Field(None, description="likert.")
    labels: dict[Language, list[str] | dict[str, str]] | None = Field(
        None,
        description=(
            "Labels per language: likert, a list (one label per scale point); multi-select and "
            "categorical, a table option or category id -> label."
        ),
    )
    # multi-select
    options: list[str] | None = Field(None, description="multi-select: option ids (snake_case).")
    # categorical
    categories: list[str] | None = Field(None, description="categorical: closed list.")
    # numeric
    range: list[int | float] | None = Field(None, description="numeric: [min, max].")
    # date
    formats: list[str] | None = Field(None, description="date: strptime formats tried in order.")


class ColumnTarget(Table):
    """A source column's target: a variable, or one option of a split multi-select."""

    variable: str = Field(description="The study variable.")
    option: str | None = Field(None, description="multi-select: the option of a split column.")


def _column_target(v: Any) -> Any:
    return {"variable": v} if isinstance(v, str) else v


class SourceSpec(Table):
    """``[[sources]]``: one export layout."""

    id: str = Field(min_length=1, description="Unique id, named by study.toml's surveys.")
    platform: Platform = Field(description="The survey platform of the export.")
    wave: str = Field("", description="Informative; the study config's wave is the one used.")
    language: Language = Field("en", description="Language of the answers.")
    columns: dict[str, Annotated[ColumnTarget, BeforeValidator(_column_target)]] = Field(
        description="Source column -> variable.",
        json_schema_extra={
            "type": 'a table of `"variable"` or `{ variable = "...", option = "..." }`'
        },
    )
    values: dict[str, dict[str, AnswerValue]] = Field(
        {}, description="Per-variable value maps overriding the variable's."
    )
    missing: list[MissingCode] = Field([], description="Missing codes of this source.")
    description: str | None = Field(None, description="Free comment.")

    @field_validator("columns")
    @classmethod
    def _not_empty(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("needs at least one column (source column -> variable)")
        return v


class BreakSpec(Table):
    """``[[breaks]]``: a question that changed between waves."""

    variable: str = Field(description="The variable whose question changed.")
    waves: list[str] = Field(min_length=2, description="The waves on either side of the break.")
    note: Label | None = Field(
        None, description="What changed, per language.", json_schema_extra={"type": _LABEL_DOC}
    )


class CodebookFile(Table):
    """The whole codebook file."""

    version: Literal[1] = Field(description="Format version: 1.")
    title: str | None = Field(None, description="Free title.")
    missing: list[MissingCode] = Field([], description="Extra missing markers, every variable.")
    variables: dict[str, VariableSpec] = Field(
        min_length=1, description="One [variables.<name>] table per variable."
    )
    sources: list[SourceSpec] = Field([], description="One [[sources]] table per export layout.")
    breaks: list[BreakSpec] = Field([], description="Breaks in series.")


VARIABLE_KEYS = frozenset(VariableSpec.model_fields)
SOURCE_KEYS = frozenset(SourceSpec.model_fields)
BREAK_KEYS = frozenset(BreakSpec.model_fields)
