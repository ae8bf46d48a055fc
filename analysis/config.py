"""The study configuration: one validated, frozen object passed explicitly.

The file format is TOML (read by ``flows``); :func:`parse_config` validates the parsed mapping
against the schema of :mod:`analysis.config_schema` (unknown keys and wrong types are errors)
and resolves every path against the config file's folder, never the working directory.
Errors are one line: ``study.toml:LINE: key.path: message``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from analysis.config_schema import StudyFile
from analysis.tomlschema import dotted, located, one_line_error


class ConfigError(ValueError):
    """Invalid study configuration (the message names the file and the key)."""


@dataclass(frozen=True)
class SurveyInput:
    path: Path
    source: str  # codebook source id
    wave: str


@dataclass(frozen=True)
class MobilityInput:
    path: Path
    format: str  # "erasmus-ka1" | "erasmus-xlsx" | "school-mobility" | "auto"
    school: str | None = None  # for per-school spreadsheets
    columns: Mapping[str, str] = field(default_factory=dict)  # school sheet column -> field


@dataclass(frozen=True)
class FilterConfig:
    drop_unfinished: bool = True
    min_duration_seconds: float = 0.0
    drop_duplicates: bool = True


@dataclass(frozen=True)
class WeightingConfig:
    method: str = "poststratify"  # "none" | "poststratify" | "rake" | "column"
    # numeric codebook variable with the export's weights: the weights of method "column",
    # the base weights that "poststratify"/"rake" calibrate to enrolment
    weight_column: str | None = None
    cells: tuple[str, ...] = ("school", "gender")  # post-stratification cells / raking margins
    trim_max_ratio: float | None = None  # trim weights above ratio x median, then re-calibrate
    reference_year: int | None = None  # enrolment year used as population (default: survey year)


@dataclass(frozen=True)
class DesignConfig:
    type: str = "stratified"  # "unweighted" | "weights" | "stratified"
    ci_method: str = "logit"  # for proportions: "logit" | "beta" | "wald" | "t"


@dataclass(frozen=True)
class DisclosureConfig:
    min_count: int = 5
    min_base: int = 10


@dataclass(frozen=True)
class BudgetConfig:
    """The ``[budget]`` section. No default envelope or year: a figure the report prints as
    data comes from the config, never from the code."""

    envelope_eur: float
    academic_year: int  # start year: 2020 = 2020-21
    allocation: str = "mobility_months"  # share of the envelope per school by mobility-months


@dataclass(frozen=True)
class StudyConfig:
    config_path: Path
    title: Mapping[str, str]  # per language
    language: str
    data_cutoff: str
    synthetic: bool
    codebook: Path
    enrolment: Path
    surveys: tuple[SurveyInput, ...]
    mobility: tuple[MobilityInput, ...]
    schools_table: Path | None = None  # None: the built-in table (analysis/tables)
    countries_table: Path | None = None
    pseudonym_key: str = ""  # key for the respondent-id hash; set per deployment
    filters: FilterConfig = field(default_factory=FilterConfig)
    weighting: WeightingConfig = field(default_factory=WeightingConfig)
    design: DesignConfig = field(default_factory=DesignConfig)
    disclosure: DisclosureConfig = field(default_factory=DisclosureConfig)
    budget: BudgetConfig | None = None  # no [budget] section: no budget in the report
    covid_break_years: tuple[int, ...] = (2019, 2020)

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    def input_paths(self) -> list[Path]:
        paths = [self.codebook, self.enrolment]
        paths += [s.path for s in self.surveys] + [m.path for m in self.mobility]
        paths += [p for p in (self.schools_table, self.countries_table) if p is not None]
        return paths

    def to_dict(self) -> dict[str, Any]:
        """The effective config, for the provenance appendix (paths relative to the config; a
        file outside the config's folder by its name only: a folder such as /home/<user>/ is
        personal data and says nothing about the study)."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            try:
                return str(p.relative_to(self.base_dir))
            except ValueError:
                return f".../{p.name}"

        return {
            "config": self.config_path.name,
            "language": self.language,
            "data_cutoff": self.data_cutoff,
            "codebook": rel(self.codebook),
            "enrolment": rel(self.enrolment),
            "surveys": [
                {"path": rel(s.path), "source": s.source, "wave": s.wave} for s in self.surveys
            ],
            "mobility": [
                {"path": rel(m.path), "format": m.format, "school": m.school} for m in self.mobility
            ],
            "filters": vars(self.filters),
            "weighting": {**vars(self.weighting), "cells": list(self.weighting.cells)},
            "design": vars(self.design),
            "disclosure": vars(self.disclosure),
            "budget": vars(self.budget) if self.budget is not None else None,
            "covid_break_years": list(self.covid_break_years),
        }


def parse_config(raw: Mapping[str, Any], config_path: Path, text: str | None = None) -> StudyConfig:
    """Validate a parsed TOML mapping into a :class:`StudyConfig`.

    ``text`` (the file's content) gives errors their line: ``study.toml:LINE: key: message``.
    Relative paths resolve against the config file's folder and may not climb out of it
    (``..``): a file elsewhere is named by an absolute path. Whether the files exist is checked
    by the caller that reads them (``flows.config_io.load_config``).
    """
    label = str(config_path)
    try:
        model = StudyFile.model_validate(dict(raw))
    except ValidationError as exc:
        _, msg = one_line_error(label, text or "", StudyFile, exc)
        raise ConfigError(msg) from None
    base = config_path.parent

    def path(v: str, loc: tuple[Any, ...]) -> Path:
        p = Path(v).expanduser()
        if p.is_absolute():
            return p.resolve()
        if os.path.normpath(p).split(os.sep)[0] == os.pardir:
            raise ConfigError(
                located(
                    label,
                    text or "",
                    loc,
                    f"{v!r} leaves the folder of {config_path.name}; write an absolute path if "
                    "the file really lives elsewhere",
                )
            )
        return (base / p).resolve()

    inp = model.inputs
    surveys = tuple(
        SurveyInput(
            path=path(s.path, ("inputs", "surveys", i, "path")), source=s.source, wave=s.wave
        )
        for i, s in enumerate(inp.surveys)
    )
    mobility = tuple(
        MobilityInput(
            path=path(m.path, ("inputs", "mobility", i, "path")),
            format=m.format,
            school=m.school,
            columns=dict(m.columns),
        )
        for i, m in enumerate(inp.mobility)
    )
    cfg = StudyConfig(
        config_path=config_path.resolve(),
        title=dict(model.study.title),
        language=model.study.language,
        data_cutoff=model.study.data_cutoff,
        synthetic=model.study.synthetic,
        codebook=path(inp.codebook, ("inputs", "codebook")),
        enrolment=path(inp.enrolment, ("inputs", "enrolment")),
        surveys=surveys,
        mobility=mobility,
        schools_table=None if inp.schools is None else path(inp.schools, ("inputs", "schools")),
        countries_table=(
            None if inp.countries is None else path(inp.countries, ("inputs", "countries"))
        ),
        pseudonym_key=model.study.pseudonym_key,
        filters=FilterConfig(**model.filters.model_dump()),
        weighting=WeightingConfig(
            **{**model.weighting.model_dump(), "cells": tuple(model.weighting.cells)}
        ),
        design=DesignConfig(**model.design.model_dump()),
        disclosure=DisclosureConfig(**model.disclosure.model_dump()),
        budget=None if model.budget is None else BudgetConfig(**model.budget.model_dump()),
        covid_break_years=tuple(model.study.covid_break_years),
    )
    seen: dict[Path, tuple[Any, ...]] = {}
    for loc, p in input_keys(cfg):
        if p in seen:
            raise ConfigError(
                located(
                    label,
                    text or "",
                    loc,
                    f"the same file as {dotted(seen[p])}: an input file has one role, once",
                )
            )
        seen[p] = loc
    return cfg


def input_keys(config: StudyConfig) -> list[tuple[tuple[Any, ...], Path]]:
    """Every input file with the key that names it (``("inputs", "surveys", 0, "path")``)."""
    out: list[tuple[tuple[Any, ...], Path]] = [
        (("inputs", "codebook"), config.codebook),
        (("inputs", "enrolment"), config.enrolment),
    ]
    out += [(("inputs", "surveys", i, "path"), s.path) for i, s in enumerate(config.surveys)]
    out += [(("inputs", "mobility", i, "path"), m.path) for i, m in enumerate(config.mobility)]
    for key, p in (("schools", config.schools_table), ("countries", config.countries_table)):
        if p is not None:
            out.append((("inputs", key), p))
    return out
