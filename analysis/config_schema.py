"""The schema of ``study.toml``: one pydantic model per table, strict, unknown keys forbidden.

These models only check the file's shape and values; :func:`analysis.config.parse_config`
builds the frozen :class:`analysis.config.StudyConfig` from them. ``docs/config.md`` is generated
from the descriptions and examples here (``python -m flows.config_doc``), so a key documented
there is a key accepted here, and the other way round.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from analysis.tomlschema import Table, shown

MobilityFormat = Literal["auto", "erasmus-ka1", "erasmus-xlsx", "school-mobility"]
SchoolField = Literal[
    "academic_year",
    "activity",
    "country",
    "host",
    "duration_months",
    "grant_eur",
    "funding",
    "participants",
]
MOBILITY_FORMATS: tuple[str, ...] = typing.get_args(MobilityFormat)
"""Mobility input formats (``analysis.mobility.readers.read_mobility_file``)."""
SCHOOL_FIELDS: tuple[str, ...] = typing.get_args(SchoolField)
"""Mobility fields a school's own spreadsheet can map its columns to."""
_SCHOOL_REQUIRED = ("academic_year", "activity", "country")
Language = Literal["en", "fr"]


def _plain_path(v: str) -> str:
    if any(not (c.isprintable() or c == " ") for c in v):
        raise ValueError("a path may not contain control characters (newline, NUL, ...)")
    return v


PathStr = Annotated[str, Field(min_length=1), AfterValidator(_plain_path)]
_PATH = "a file path (string)"


def _doc(description: str, example: str, type_: str | None = None, **kw: Any) -> Any:
    """A field's documentation: ``example`` is a TOML line (or lines) as written in study.toml."""
    extra: dict[str, Any] = {"toml_example": example}
    if type_:
        extra["type"] = type_
    return Field(description=description, json_schema_extra=extra, **kw)


class StudySection(Table):
    """What the study is called, its language and what the report says about its data."""

    title: dict[Language, str] = _doc(
        "Report title, per language (a plain string is the English title).",
        'title = { en = "Outgoing mobility 2023", fr = "Mobilité sortante 2023" }',
        type_='a string, or a table of strings per language `{ en = "...", fr = "..." }`',
    )
    language: Language = _doc(
        "Report language when `--lang` is not given.", 'language = "fr"', default="en"
    )
    data_cutoff: str = _doc(
        "Date of the data extraction, shown in the report (YYYY-MM-DD; empty = not stated).",
        'data_cutoff = "2023-06-30"',
        type_="a date (YYYY-MM-DD), quoted or not",
        default="",
    )
    synthetic: bool = _doc(
        "Every input is made up: the report says so on every page.",
        "synthetic = true",
        default=False,
    )
    pseudonym_key: str = _doc(
        "Secret key of the respondent-id hash (HMAC); set one per deployment, keep it private.",
        'pseudonym_key = "a long random string"',
        default="",
    )
    covid_break_years: list[Annotated[int, Field(ge=1950, le=2100)]] = _doc(
        "Academic years (start year) flagged as a COVID break in the mobility trend.",
        "covid_break_years = [2019, 2020]",
        default=[2019, 2020],
    )

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = {"en": v}
        if isinstance(v, dict) and not v:
            raise ValueError('needs at least one language, e.g. { en = "..." }')
        return v

    @field_validator("data_cutoff", mode="before")
    @classmethod
    def _cutoff(cls, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            raise ValueError("must be a date (YYYY-MM-DD) without a time")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, str) and v:
            try:
                dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"must be a date YYYY-MM-DD, got {shown(v)}") from None
        return v


class SurveyEntry(Table):
    """One survey export per table (several files may share a source and a wave)."""

    path: PathStr = _doc(
        "The export file (CSV, XLSX or SPSS .sav), relative to the folder of study.toml.",
        'path = "survey_2023_qualtrics.csv"',
        type_=_PATH,
    )
    source: str = _doc(
        "The codebook `[[sources]]` id that maps this export's columns.",
        'source = "imt_survey_2023"',
        min_length=1,
    )
    wave: str = _doc(
        "The survey wave this file belongs to (several files may share a wave).",
        'wave = "2023"',
        min_length=1,
    )


class MobilityEntry(Table):
    """One mobility file per table (the example: a school's own spreadsheet)."""

    path: PathStr = _doc(
        "The mobility file (CSV or XLSX), relative to the folder of study.toml.",
        'path = "school_mobility_imt_nord_europe.csv"',
        type_=_PATH,
    )
    format: MobilityFormat = _doc(
        "`erasmus-ka1`: the Erasmus+ KA1 release, the `;`-separated CSV or the yearly XLSX "
        "workbook (every sheet read; told apart by content); `erasmus-xlsx`: an accepted alias of "
        "`erasmus-ka1`; `school-mobility`: a school's own spreadsheet (needs `school` and "
        "`columns`); `auto`: detect an Erasmus+ layout from the header.",
        'format = "school-mobility"',
        default="auto",
    )
    school: str | None = _doc(
        "For `school-mobility`: the school the sheet belongs to (school id or name).",
        'school = "imt_nord_europe"',
        default=None,
        min_length=1,
        validate_default=True,
    )
    columns: dict[str, SchoolField] = _doc(
        "For `school-mobility`: the sheet's column headers -> mobility fields ("
        + ", ".join(f"`{f}`" for f in SCHOOL_FIELDS)
        + "); `academic_year`, `activity` and `country` are required.",
        '[inputs.mobility.columns]\n"Année universitaire" = "academic_year"\n'
        '"Type de mobilité" = "activity"\n"Pays de destination" = "country"',
        default={},
        validate_default=True,
    )

    @field_validator("school")
    @classmethod
    def _school_only_for_school_sheets(cls, v: str | None, info: ValidationInfo) -> str | None:
        fmt = info.data.get("format")
        if fmt == "school-mobility" and v is None:
            raise ValueError('format "school-mobility" needs `school = "<school id>"`')
        if fmt not in (None, "school-mobility") and v is not None:
            raise ValueError(f'is only read for format "school-mobility", not {fmt!r}')
        return v

    @field_validator("columns")
    @classmethod
    def _columns_of_school_sheets(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        fmt = info.data.get("format")
        if fmt == "school-mobility":
            missing = [f for f in _SCHOOL_REQUIRED if f not in v.values()]
            if missing:
                raise ValueError(
                    'format "school-mobility" needs [inputs.mobility.columns] mapping a column to '
                    + ", ".join(f"`{f}`" for f in missing)
                )
        elif fmt is not None and v:
            raise ValueError(f'is only read for format "school-mobility", not {fmt!r}')
        return v


class InputsSection(Table):
    """The input files. Relative paths resolve against the folder of study.toml."""

    codebook: PathStr = _doc(
        "The codebook (TOML) mapping every survey source onto the study variables "
        "(docs/codebook.md).",
        'codebook = "codebook.toml"',
        type_=_PATH,
    )
    enrolment: PathStr = _doc(
        "Enrolment per school, academic year and gender (CSV): the population of the weights "
        "and the denominators of the mobility rates.",
        'enrolment = "enrolment.csv"',
        type_=_PATH,
    )
    surveys: list[SurveyEntry] = _doc(
        "Survey exports, one `[[inputs.surveys]]` table each (none: a mobility-only study).",
        '[[inputs.surveys]]\npath = "survey_2023_qualtrics.csv"\nsource = "imt_survey_2023"\n'
        'wave = "2023"',
        default=[],
    )
    mobility: list[MobilityEntry] = _doc(
        "Mobility inputs, one `[[inputs.mobility]]` table each (none: a survey-only study).",
        '[[inputs.mobility]]\npath = "erasmus_ka1_2014_2022.csv"\nformat = "erasmus-ka1"',
        default=[],
    )
    schools: PathStr | None = _doc(
        "A school table replacing the built-in one (analysis/tables/schools.csv: ids, names, "
        "aliases, Erasmus codes). Read into the config's `schools_table`.",
        'schools = "schools.csv"',
        type_=_PATH,
        default=None,
    )
    countries: PathStr | None = _doc(
        "A country table replacing the built-in one (analysis/tables/countries.csv). Read into "
        "the config's `countries_table`.",
        'countries = "countries.csv"',
        type_=_PATH,
        default=None,
    )

    @model_validator(mode="after")
    def _some_input(self) -> InputsSection:
        if not self.surveys and not self.mobility:
            raise ValueError(
                "no survey and no mobility input: add [[inputs.surveys]] and/or "
                "[[inputs.mobility]] tables (one per file)"
            )
        return self


class FiltersSection(Table):
    """Which survey responses are dropped before any statistic (each drop is counted by rule)."""

    drop_unfinished: bool = _doc(
        "Drop responses the platform marks as not finished.", "drop_unfinished = true", default=True
    )
    min_duration_seconds: float = _doc(
        "Drop responses completed faster than this (speeders); 0 keeps all.",
        "min_duration_seconds = 60",
        default=0.0,
        ge=0,
    )
    drop_duplicates: bool = _doc(
        "Drop repeated responses of the same respondent (keeps the last complete one).",
        "drop_duplicates = true",
        default=True,
    )


class WeightingSection(Table):
    """Survey weights calibrated on the enrolment."""

    method: Literal["none", "poststratify", "rake", "column"] = _doc(
        "`poststratify` on the cells, `rake` on their margins, `column` (the export's own "
        "weights, `weight_column`, as they are) or `none` (unweighted).",
        'method = "poststratify"',
        default="poststratify",
    )
    weight_column: str | None = _doc(
        "Numeric codebook variable holding weights delivered with the export: the weights of "
        '`method = "column"`, or the base weights that `poststratify`/`rake` calibrate to '
        "the enrolment (unset: no export weights).",
        'weight_column = "base_weight"',
        default=None,
        min_length=1,
    )
    cells: list[Literal["school", "gender"]] = _doc(
        "Post-stratification cells / raking margins (enrolment columns).",
        'cells = ["school", "gender"]',
        default=["school", "gender"],
        min_length=1,
    )
    trim_max_ratio: float | None = _doc(
        "Trim weights above this ratio x the median weight, then calibrate again (unset: no "
        "trimming).",
        "trim_max_ratio = 5",
        default=None,
        gt=1,
    )
    reference_year: int | None = _doc(
        "Enrolment year used as the population (unset: each wave's own year).",
        "reference_year = 2022",
        default=None,
        ge=1950,
        le=2100,
    )

    @field_validator("cells")
    @classmethod
    def _unique_cells(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"lists a cell twice: {v}")
        return v

    @model_validator(mode="after")
    def _column_needs_its_column(self) -> WeightingSection:
        if self.method == "column" and self.weight_column is None:
            raise ValueError(
                'method "column" needs `weight_column = "<numeric codebook variable>"`'
            )
        return self


class DesignSection(Table):
    """The survey design behind standard errors and confidence intervals."""

    type: Literal["unweighted", "weights", "stratified"] = _doc(
        "`stratified` by school with the calibrated weights, `weights` only, or `unweighted`.",
        'type = "stratified"',
        default="stratified",
    )
    ci_method: Literal["logit", "beta", "wald", "t"] = _doc(
        "Confidence interval of proportions.", 'ci_method = "logit"', default="logit"
    )


class DisclosureSection(Table):
    """Small-count suppression of every published figure."""

    min_count: int = _doc(
        "Cells with fewer respondents than this are suppressed.", "min_count = 5", default=5, ge=1
    )
    min_base: int = _doc(
        "Percentages whose base is below this are suppressed.", "min_base = 10", default=10, ge=1
    )


class BudgetSection(Table):
    """The grant envelope shared between schools. Without `[budget]` the report has no budget."""

    envelope_eur: float = _doc("The envelope to share, in euros.", "envelope_eur = 90000", ge=0)
    academic_year: int = _doc(
        "Academic year (start year: 2020 = 2020-21) whose mobilities share the envelope.",
        "academic_year = 2020",
        ge=1950,
        le=2100,
    )
    allocation: Literal["mobility_months"] = _doc(
        "How the envelope is shared: in proportion to each school's mobility-months.",
        'allocation = "mobility_months"',
        default="mobility_months",
    )


class StudyFile(Table):
    """The whole ``study.toml``."""

    study: StudySection = _doc("What the study is called and how the report is written.", "[study]")
    inputs: InputsSection = _doc("The input files.", "[inputs]")
    filters: FiltersSection = _doc("Response filters.", "[filters]", default_factory=FiltersSection)
    weighting: WeightingSection = _doc(
        "Survey weights.", "[weighting]", default_factory=WeightingSection
    )
    design: DesignSection = _doc("Survey design.", "[design]", default_factory=DesignSection)
    disclosure: DisclosureSection = _doc(
        "Small-count suppression.", "[disclosure]", default_factory=DisclosureSection
    )
    budget: BudgetSection | None = _doc(
        "Grant envelope allocation (optional: no section, no budget in the report).",
        "[budget]",
        default=None,
    )
