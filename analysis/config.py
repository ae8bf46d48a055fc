"""The study configuration: one validated, frozen object passed explicitly.

The file format is TOML (read by ``flows``); :func:`parse_config` validates the parsed mapping
and resolves every path against the config file's folder, never the working directory.
Errors name the config file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    method: str = "poststratify"  # "none" | "poststratify" | "rake"
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
    envelope_eur: float = 90000.0
    academic_year: int = 2020  # 2020-21
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
    budget: BudgetConfig = field(default_factory=BudgetConfig)
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
        """The effective config, for the provenance appendix (paths relative to the config)."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            try:
                return str(p.relative_to(self.base_dir))
            except ValueError:
                return str(p)

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
            "budget": vars(self.budget),
            "covid_break_years": list(self.covid_break_years),
        }


_TYPES = {"unweighted", "weights", "stratified"}
_WEIGHTING = {"none", "poststratify", "rake"}
_CI = {"logit", "beta", "wald", "t"}


def _req(d: Mapping[str, Any], key: str, where: str, label: str) -> Any:
    if key not in d:
        raise ConfigError(f"{label}: missing key '{where}{key}'")
    return d[key]


def parse_config(raw: Mapping[str, Any], config_path: Path) -> StudyConfig:
    """Validate a parsed TOML mapping into a :class:`StudyConfig`."""
    label = str(config_path)
    base = config_path.parent

    def path(v: Any, key: str) -> Path:
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{label}: '{key}' must be a non-empty path string")
        p = Path(v)
        return (p if p.is_absolute() else base / p).resolve()

    study = _req(raw, "study", "", label)
    inputs = _req(raw, "inputs", "", label)
    title = _req(study, "title", "study.", label)
    if isinstance(title, str):
        title = {"en": title}
    language = study.get("language", "en")
    if language not in ("en", "fr"):
        raise ConfigError(f"{label}: 'study.language' must be 'en' or 'fr', got {language!r}")

    surveys = []
    for i, s in enumerate(inputs.get("surveys", [])):
        where = f"inputs.surveys[{i}]."
        surveys.append(
            SurveyInput(
                path=path(_req(s, "path", where, label), where + "path"),
                source=str(_req(s, "source", where, label)),
                wave=str(_req(s, "wave", where, label)),
            )
        )
    mobility = []
    for i, m in enumerate(inputs.get("mobility", [])):
        where = f"inputs.mobility[{i}]."
        mobility.append(
            MobilityInput(
                path=path(_req(m, "path", where, label), where + "path"),
                format=str(m.get("format", "auto")),
                school=m.get("school"),
                columns=dict(m.get("columns", {})),
            )
        )

    def section(name: str, cls: type, checks: Mapping[str, set[str]] = {}) -> Any:  # noqa: B006
        d = dict(raw.get(name, {}))
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"{label}: unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
        for k, allowed in checks.items():
            if k in d and d[k] not in allowed:
                raise ConfigError(
                    f"{label}: '{name}.{k}' must be one of {sorted(allowed)}, got {d[k]!r}"
                )
        if "cells" in d:
            d["cells"] = tuple(d["cells"])
        return cls(**d)

    def opt_path(key: str) -> Path | None:
        return path(inputs[key], "inputs." + key) if key in inputs else None

    return StudyConfig(
        config_path=config_path.resolve(),
        title=dict(title),
        language=language,
        data_cutoff=str(study.get("data_cutoff", "")),
        synthetic=bool(study.get("synthetic", False)),
        codebook=path(_req(inputs, "codebook", "inputs.", label), "inputs.codebook"),
        enrolment=path(_req(inputs, "enrolment", "inputs.", label), "inputs.enrolment"),
        surveys=tuple(surveys),
        mobility=tuple(mobility),
        schools_table=opt_path("schools"),
        countries_table=opt_path("countries"),
        pseudonym_key=str(study.get("pseudonym_key", "")),
        filters=section("filters", FilterConfig),
        weighting=section("weighting", WeightingConfig, {"method": _WEIGHTING}),
        design=section("design", DesignConfig, {"type": _TYPES, "ci_method": _CI}),
        disclosure=section("disclosure", DisclosureConfig),
        budget=section("budget", BudgetConfig),
        covid_break_years=tuple(study.get("covid_break_years", (2019, 2020))),
    )
