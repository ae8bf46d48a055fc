"""The codebook: one TOML file mapping every survey source onto the study's variables.

Format (documented in ``docs/codebook.md``)::

    version = 1
    missing = ["NSP", "99"]                    # optional, extra global missing markers
    [variables.<name>]                         # type, label = {en, fr}, values, ...
    [[sources]]                                # id, platform, wave, language, columns, values
    [[breaks]]                                 # variable, waves, note = {en, fr}

Validation errors name the file and the line: TOML syntax errors carry tomllib's position,
semantic errors the line of the offending key, found by scanning the text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from pydantic import ValidationError

from analysis.ingest.codebook_schema import (
    BREAK_KEYS,
    SOURCE_KEYS,
    VARIABLE_KEYS,
    CodebookFile,
    VariableType,
)
from analysis.ingest.errors import CodebookError
from analysis.ingest.text import match_key
from analysis.tomlschema import (
    key_lines,
    one_line,
    one_line_error,
    suggestion,
    toml_syntax_error,
)

TYPES: tuple[str, ...] = get_args(VariableType)  # one list: the schema's
PLATFORMS = (
    "qualtrics",
    "limesurvey",
    "google-forms",
    "surveymonkey",
    "spss",
    "csv",
    "xlsx",
    "auto",
)
LANGUAGES = ("en", "fr")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# the keys each table allows, from the schema (analysis/ingest/codebook_schema.py)
_VAR_KEYS = set(VARIABLE_KEYS)
_SOURCE_KEYS = set(SOURCE_KEYS)
_BREAK_KEYS = set(BREAK_KEYS)


@dataclass(frozen=True)
class Variable:
    """One study variable. ``values`` keys are :func:`match_key`-normalised source answers."""

    name: str
    type: str
    label: Mapping[str, str]
    values: Mapping[str, Any] = field(default_factory=dict)
    scale: tuple[int, int] | None = None  # likert
    direction: str = "ascending"  # likert
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # likert, per language
    options: tuple[str, ...] = ()  # multi-select
    # multi-select / categorical: language -> option (or category) id -> label
    option_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    categories: tuple[str, ...] = ()  # categorical (optional closed list)
    missing: frozenset[str] = frozenset()  # extra missing markers, match_key-normalised
    range: tuple[float, float] | None = None  # numeric
    formats: tuple[str, ...] = ()  # date: strptime formats tried in order

    def option_label(self, option: str, language: str) -> str:
        """Label of an option (multi-select) or category (categorical) in ``language``: the
        codebook's ``labels.<language>``, else English, else the id itself."""
        for lang in (language, "en"):
            lab = self.option_labels.get(lang, {}).get(option)
            if lab:
                return lab
        return option

    def columns(self) -> list[str]:
        """Tidy-table columns this variable produces."""
        if self.type == "multi-select":
            return [f"{self.name}__{o}" for o in self.options]
        return [self.name]


@dataclass(frozen=True)
class ColumnMap:
    variable: str
    option: str | None = None


@dataclass(frozen=True)
class Source:
    id: str
    platform: str
    wave: str
    language: str
    columns: Mapping[str, ColumnMap]  # source column id (or Qualtrics ImportId) -> variable
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per-variable override
    missing: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Break:
    variable: str
    waves: tuple[str, ...]
    note: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"variable": self.variable, "waves": list(self.waves), "note": dict(self.note)}


@dataclass(frozen=True)
class Codebook:
    path: str
    version: int
    variables: Mapping[str, Variable]
    sources: Mapping[str, Source]
    breaks: tuple[Break, ...] = ()
    missing: frozenset[str] = frozenset()

    def source(self, source_id: str) -> Source:
        try:
            return self.sources[source_id]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise CodebookError(
                f"{self.path}: no [[sources]] entry with id = {source_id!r} (known: {known})"
            ) from None

    def variable_types(self) -> dict[str, str]:
        """Variable name -> type (``likert``, ``binary``, ...)."""
        return {n: v.type for n, v in self.variables.items()}

    def variable_labels(self, language: str) -> dict[str, str]:
        """Variable name -> label in ``language`` (falls back to English, then the name)."""
        return {
            n: v.label.get(language) or v.label.get("en") or n for n, v in self.variables.items()
        }

    def option_labels(self, language: str) -> dict[str, dict[str, str]]:
        """Variable -> option/category id -> label in ``language`` (English, then the id, when
        a label is missing), for every multi-select and categorical variable with labels."""
        out: dict[str, dict[str, str]] = {}
        for n, v in self.variables.items():
            ids = dict.fromkeys(k for table in v.option_labels.values() for k in table)
            if ids:
                out[n] = {o: v.option_label(o, language) for o in ids}
        return out

    def report_labels(self) -> dict[str, dict[str, Any]]:
        """The labels the report shows instead of ids, per language:
        ``{lang: {"variables": {name: label}, "options": {name: {option: label}}}}``."""
        return {
            lang: {"variables": self.variable_labels(lang), "options": self.option_labels(lang)}
            for lang in LANGUAGES
        }

    def breaks_for(self, variables: set[str], wave: str) -> list[Break]:
        """Breaks in series that concern one of ``variables`` in ``wave``."""
        return [b for b in self.breaks if b.variable in variables and (wave in b.waves)]


class _Errors:
    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.index = key_lines(text)

    def fail(self, where: tuple[Any, ...], msg: str) -> CodebookError:
        line = None
        for n in range(len(where), 0, -1):
            if where[:n] in self.index:
                line = self.index[where[:n]]
                break
        at = f":{line}" if line else ""
        dotted = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in where)
        dotted = dotted.replace(".[", "[")
        return CodebookError(one_line(f"{self.label}{at}: {dotted}: {msg}"))


# ----------------------------------------------------------------------------- parsing
def load_codebook(path: Path) -> Codebook:
    """Read and validate a codebook file (UTF-8 TOML)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not an error
    except UnicodeDecodeError:
        raise CodebookError(f"{path}: codebook is not UTF-8 text") from None
    return parse_codebook(text, str(path))


def parse_codebook(text: str, label: str = "<codebook>") -> Codebook:
    """Validate codebook TOML ``text``; ``label`` (the file name) prefixes every error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CodebookError(toml_syntax_error(label, exc, text)) from None
    try:  # the shape: tables, keys and types (one line, the first problem in the file)
        CodebookFile.model_validate(raw)
    except ValidationError as exc:
        raise CodebookError(one_line_error(label, text, CodebookFile, exc)[1]) from None
    err = _Errors(label, text)
    unknown = set(raw) - {"version", "missing", "variables", "sources", "breaks", "title"}
    if unknown:
        k = sorted(unknown)[0]
        raise err.fail(
            (k,), "unknown top-level key (expected version, missing, variables, sources, breaks)"
        )
    version = raw.get("version")
    if version != 1:
        raise err.fail(("version",), f"must be 1, got {version!r}")
    gmissing = _missing(raw.get("missing", []), ("missing",), err)
    vars_raw = raw.get("variables")
    if not isinstance(vars_raw, dict) or not vars_raw:
        raise err.fail(("variables",), "at least one [variables.<name>] table is required")
    variables = {n: _variable(n, v, err) for n, v in vars_raw.items()}
    sources_raw = raw.get("sources", [])
    if not isinstance(sources_raw, list):
        raise err.fail(("sources",), "must be an array of tables ([[sources]])")
    sources: dict[str, Source] = {}
    for i, s in enumerate(sources_raw):
        src = _source(i, s, variables, err)
        if src.id in sources:
            raise err.fail(("sources", i, "id"), f"duplicate source id {src.id!r}")
        sources[src.id] = src
    breaks = []
    for i, b in enumerate(raw.get("breaks", [])):
        breaks.append(_break(i, b, variables, err))
    return Codebook(
        path=label,
        version=1,
        variables=MappingProxyType(variables),
        sources=MappingProxyType(sources),
        breaks=tuple(breaks),
        missing=gmissing,
    )


def _label(v: Any, where: tuple[Any, ...], err: _Errors, name: str) -> dict[str, str]:
    if v is None:
        return {"en": name}
    if isinstance(v, str):
        return {"en": v}
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise err.fail(where, "must be a string or a table of strings per language ({en, fr})")
    bad = set(v) - set(LANGUAGES)
    if bad:
        raise err.fail(where, f"unknown language(s) {sorted(bad)} (expected en, fr)")
    return dict(v)


def _missing(v: Any, where: tuple[Any, ...], err: _Errors) -> frozenset[str]:
    if not isinstance(v, list) or not all(isinstance(x, str | int) for x in v):
        raise err.fail(where, 'must be a list of strings or integers, e.g. ["NSP", 99]')
    return frozenset(match_key(str(x)) for x in v)


def _values(v: Any, where: tuple[Any, ...], err: _Errors) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise err.fail(where, 'must be a table of source answer -> canonical value, e.g. {"1" = 1}')
    out: dict[str, Any] = {}
    for k, x in v.items():
        if not isinstance(x, str | int | float) or isinstance(x, bool):
            raise err.fail((*where, k), f"value must be a string or a number, got {x!r}")
        key = match_key(k)
        if key in out and out[key] != x:
            raise err.fail((*where, k), f"answer {k!r} maps to two different values")
        out[key] = x
    return out


def _variable(name: str, v: Any, err: _Errors) -> Variable:
    where = ("variables", name)
    if not _NAME.match(name):
        raise err.fail(where, "variable names are snake_case (a-z, 0-9, _), starting with a letter")
    if not isinstance(v, dict):
        raise err.fail(where, "must be a table")
    unknown = set(v) - _VAR_KEYS
    if unknown:
        k = sorted(unknown)[0]
        raise err.fail((*where, k), f"unknown key {k!r} (allowed: {', '.join(sorted(_VAR_KEYS))})")
    typ = v.get("type")
    if typ not in TYPES:
        raise err.fail((*where, "type"), f"type must be one of {', '.join(TYPES)}, got {typ!r}")
    label = _label(v.get("label"), (*where, "label"), err, name)
    values = _values(v.get("values", {}), (*where, "values"), err)
    missing = _missing(v.get("missing", []), (*where, "missing"), err)
    kw: dict[str, Any] = {}
    if typ == "likert":
        scale = v.get("scale")
        if (
            not isinstance(scale, list)
            or len(scale) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in scale)
            or scale[0] >= scale[1]
        ):
            raise err.fail(
                (*where, "scale"), "likert needs scale = [low, high] (integers, low < high)"
            )
        direction = v.get("direction", "ascending")
        if direction not in ("ascending", "descending"):
            raise err.fail((*where, "direction"), "must be 'ascending' or 'descending'")
        labels_raw = v.get("labels", {})
        if not isinstance(labels_raw, dict):
            raise err.fail((*where, "labels"), "must be a table of label lists per language")
        n = scale[1] - scale[0] + 1
        labels: dict[str, tuple[str, ...]] = {}
        for lang, lst in labels_raw.items():
            if lang not in LANGUAGES:
                raise err.fail((*where, "labels", lang), f"unknown language {lang!r}")
            if (
                not isinstance(lst, list)
                or len(lst) != n
                or not all(isinstance(x, str) for x in lst)
            ):
                raise err.fail(
                    (*where, "labels", lang), f"needs {n} labels (one per scale point), got {lst!r}"
                )
            labels[lang] = tuple(lst)
        for k, x in values.items():
            if not isinstance(x, int) or not scale[0] <= x <= scale[1]:
                raise err.fail(
                    (*where, "values"), f"answer {k!r} maps to {x!r}, outside scale {scale}"
                )
        kw.update(scale=(scale[0], scale[1]), direction=direction, labels=labels)
    elif "scale" in v or "direction" in v:
        k = next(k for k in ("scale", "direction") if k in v)
        raise err.fail((*where, k), f"{k!r} is only allowed for likert variables")
    elif "labels" in v and typ not in ("multi-select", "categorical"):
        raise err.fail(
            (*where, "labels"), "'labels' is only allowed for likert, multi-select, categorical"
        )
    if typ == "multi-select":
        opts = v.get("options")
        if (
            not isinstance(opts, list)
            or not opts
            or not all(isinstance(o, str) and _NAME.match(o) for o in opts)
        ):
            raise err.fail((*where, "options"), "multi-select needs options = [snake_case ids]")
        if len(set(opts)) != len(opts):
            raise err.fail((*where, "options"), "duplicate option")
        for k, x in values.items():
            if x not in opts:
                raise err.fail((*where, "values"), f"answer {k!r} maps to {x!r}, not an option")
        kw["options"] = tuple(opts)
    elif "options" in v:
        raise err.fail((*where, "options"), "'options' is only allowed for multi-select variables")
    if typ == "binary":
        for k, x in values.items():
            if x not in (0, 1) or isinstance(x, float):
                raise err.fail(
                    (*where, "values"), f"binary answer {k!r} must map to 0 or 1, got {x!r}"
                )
    if typ == "categorical" and "categories" in v:
        cats = v["categories"]
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            raise err.fail((*where, "categories"), "must be a list of strings")
        kw["categories"] = tuple(cats)
        for k, x in values.items():
            if str(x) not in cats:
                raise err.fail((*where, "values"), f"answer {k!r} maps to {x!r}, not a category")
    if typ in ("multi-select", "categorical") and "labels" in v:
        kw["option_labels"] = _option_labels(v["labels"], values, kw, where, err)
    if typ == "numeric" and "range" in v:
        r = v["range"]
        if not isinstance(r, list) or len(r) != 2 or not all(isinstance(x, int | float) for x in r):
            raise err.fail((*where, "range"), "must be [min, max]")
        kw["range"] = (float(r[0]), float(r[1]))
    if typ == "date" and "formats" in v:
        f = v["formats"]
        if not isinstance(f, list) or not all(isinstance(x, str) and "%" in x for x in f):
            raise err.fail(
                (*where, "formats"), 'must be a list of strptime formats, e.g. ["%d/%m/%Y"]'
            )
        kw["formats"] = tuple(f)
    return Variable(name=name, type=typ, label=label, values=values, missing=missing, **kw)


def _option_labels(
    raw: Any, values: dict[str, Any], kw: dict[str, Any], where: tuple[Any, ...], err: _Errors
) -> dict[str, dict[str, str]]:
    """``labels.<lang> = { <option id> = "label" }`` of a multi-select or categorical variable:
    every key an option / category (the closed list, else a value of the value map), every
    option labelled in each language given (a partial list would leave ids in the report)."""
    known = list(
        kw.get("options") or kw.get("categories") or dict.fromkeys(map(str, values.values()))
    )
    if not isinstance(raw, dict):
        raise err.fail((*where, "labels"), "must be a table of labels per language")
    out: dict[str, dict[str, str]] = {}
    for lang, table in raw.items():
        at = (*where, "labels", lang)
        if lang not in LANGUAGES:
            raise err.fail(at, f"unknown language {lang!r}")
        if not isinstance(table, dict) or not all(isinstance(x, str) and x for x in table.values()):
            raise err.fail(at, 'needs a table option id -> label, e.g. { asia = "Asia" }')
        for k in table:
            if known and k not in known:
                raise err.fail(
                    (*at, k), f"{k!r} is not an option/category (known: {', '.join(known)})"
                )
        missing = [k for k in known if k not in table]
        if missing:
            raise err.fail(at, f"no label for {', '.join(missing)}")
        out[lang] = dict(table)
    return out


def _source(i: int, s: Any, variables: dict[str, Variable], err: _Errors) -> Source:
    where: tuple[Any, ...] = ("sources", i)
    if not isinstance(s, dict):
        raise err.fail(where, "must be a table")
    unknown = set(s) - _SOURCE_KEYS
    if unknown:
        k = sorted(unknown)[0]
        raise err.fail(
            (*where, k), f"unknown key {k!r} (allowed: {', '.join(sorted(_SOURCE_KEYS))})"
        )
    for k in ("id", "platform"):
        if not isinstance(s.get(k), str) or not s.get(k):
            raise err.fail((*where, k) if k in s else where, f"'{k}' (a string) is required")
    if s["platform"] not in PLATFORMS:
        raise err.fail((*where, "platform"), f"platform must be one of {', '.join(PLATFORMS)}")
    language = s.get("language", "en")
    if language not in LANGUAGES:
        raise err.fail((*where, "language"), f"language must be en or fr, got {language!r}")
    cols_raw = s.get("columns")
    if not isinstance(cols_raw, dict) or not cols_raw:
        raise err.fail(
            (*where, "columns"), "needs a [sources.columns] table (source column -> variable)"
        )
    columns: dict[str, ColumnMap] = {}
    for col, target in cols_raw.items():
        cw = (*where, "columns", col)
        if isinstance(target, str):
            cm = ColumnMap(target)
        elif (
            isinstance(target, dict)
            and set(target) <= {"variable", "option"}
            and "variable" in target
        ):
            cm = ColumnMap(str(target["variable"]), target.get("option"))
        else:
            raise err.fail(cw, 'must be "variable" or {variable = "...", option = "..."}')
        var = variables.get(cm.variable)
        if var is None:
            raise err.fail(
                cw,
                f"unknown variable {cm.variable!r} (not in [variables])"
                f"{suggestion(cm.variable, sorted(variables))}",
            )
        if cm.option is not None:
            if var.type != "multi-select":
                raise err.fail(cw, f"'option' given but {cm.variable!r} is not multi-select")
            if cm.option not in var.options:
                raise err.fail(cw, f"{cm.option!r} is not an option of {cm.variable!r}")
        columns[col] = cm
    seen: dict[tuple[str, str | None], str] = {}
    for col, cm in columns.items():
        key = (cm.variable, cm.option)
        if key in seen:
            raise err.fail((*where, "columns", col), f"also mapped from column {seen[key]!r}")
        seen[key] = col
    for var_name in {cm.variable for cm in columns.values() if cm.option is None}:
        if (
            variables[var_name].type == "multi-select"
            and (var_name, None) in seen
            and any(k[0] == var_name and k[1] is not None for k in seen)
        ):
            raise err.fail((*where, "columns"), f"{var_name!r} mapped both joined and split")
    values_raw = s.get("values", {})
    if not isinstance(values_raw, dict):
        raise err.fail((*where, "values"), "must be a table of [sources.values.<variable>] tables")
    values: dict[str, dict[str, Any]] = {}
    for var_name, vm in values_raw.items():
        if var_name not in variables:
            raise err.fail(
                (*where, "values", var_name),
                f"unknown variable {var_name!r}{suggestion(var_name, sorted(variables))}",
            )
        values[var_name] = _values(vm, (*where, "values", var_name), err)
    return Source(
        id=s["id"],
        platform=s["platform"],
        wave=str(s.get("wave", "")),
        language=language,
        columns=MappingProxyType(columns),
        values=MappingProxyType(values),
        missing=_missing(s.get("missing", []), (*where, "missing"), err),
    )


def _break(i: int, b: Any, variables: dict[str, Variable], err: _Errors) -> Break:
    where: tuple[Any, ...] = ("breaks", i)
    if not isinstance(b, dict):
        raise err.fail(where, "must be a table")
    unknown = set(b) - _BREAK_KEYS
    if unknown:
        raise err.fail((*where, sorted(unknown)[0]), "unknown key (allowed: variable, waves, note)")
    var = b.get("variable")
    if var not in variables:
        raise err.fail(
            (*where, "variable"),
            f"unknown variable {var!r}{suggestion(str(var), sorted(variables))}",
        )
    waves = b.get("waves")
    if not isinstance(waves, list) or len(waves) < 2:
        raise err.fail(
            (*where, "waves"), 'needs the waves on each side of the break, e.g. ["2021", "2023"]'
        )
    note = _label(b.get("note", ""), (*where, "note"), err, "")
    return Break(variable=var, waves=tuple(str(w) for w in waves), note=note)
