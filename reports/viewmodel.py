"""ResultSet -> view model: plain dicts the templates loop over.

This module only *selects*, *labels* and *formats* :class:`analysis.results.Estimate` values:
it never computes a statistic (no sums, differences or ratios of estimates). Key findings are
chosen by rule from the estimates present; every number in them is one Estimate field,
carried with its key so that a test can check the prose against ``results.json``.
Fixed texts come from ``templates/labels.<lang>.toml``.
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from analysis.results import Estimate, ResultSet, ResultTable
from reports import figures as F
from reports import findings as RF
from reports.bases import BaseTranslator
from reports.format import (
    DASH,
    fmt_academic_year,
    fmt_date,
    fmt_eur,
    fmt_int,
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_percent_value,
    fmt_range,
)

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("en", "fr")

# Known table ids, where they go (section, subsection), in display order.
TABLE_PLACES: dict[str, tuple[str, str | None]] = {
    "sample.response_rate": ("sample", None),
    "weighting.diagnostics": ("sample", "sample.weighting"),
    "mobility.outgoing_rate": ("mobility", "mobility.by_school"),
    "mobility.counts": ("mobility", "mobility.by_school"),
    "mobility.outgoing_rate_group": ("mobility", "mobility.over_time"),
    "mobility.trend": ("mobility", "mobility.over_time"),
    "mobility.destinations": ("mobility", "mobility.destinations"),
    "mobility.euroregion": ("mobility", "mobility.nord_europe"),
    "mobility.activity": ("mobility", "mobility.funding"),
    "mobility.duration": ("mobility", "mobility.funding"),
    "mobility.funding": ("mobility", "mobility.funding"),
    "mobility.budget": ("mobility", "mobility.funding"),
    "survey.experience": ("survey", "survey.experience"),
    "survey.barriers": ("survey", "survey.barriers"),
    "survey.dual_degree": ("survey", "survey.dual_degree"),
    "survey.destinations": ("survey", "survey.destinations"),
    "comparisons.differences": ("comparisons", None),
    "comparisons.rao_scott": ("comparisons", None),
    "models.intends_abroad": ("models", None),
}
SECTION_OF_TABLE_SECTION = {
    "sample": "sample",
    "weighting": "sample",
    "mobility": "mobility",
    "survey": "survey",
    "comparisons": "comparisons",
    "models": "models",
}
SECTION_ORDER = (
    "summary",
    "sample",
    "mobility",
    "survey",
    "comparisons",
    "models",
    "other",
    "methods",
    "data_quality",
    "changes",
    "disclosure",
    "provenance",
    "citation",
)
SUBSECTIONS = {
    "sample": ("sample.filters", "sample.weighting"),
    "mobility": (
        "mobility.by_school",
        "mobility.over_time",
        "mobility.destinations",
        "mobility.nord_europe",
        "mobility.funding",
    ),
    "survey": ("survey.experience", "survey.barriers", "survey.dual_degree", "survey.destinations"),
}
LIKERT_VARIABLES = frozenset(
    {"interest_dual_degree", "barrier_finance", "barrier_language", "barrier_recognition"}
)
PCT_STATISTICS = frozenset({"proportion", "share", "rate"})
INT_STATISTICS = frozenset(
    {
        "count",
        "effective_sample_size",
        "population",
        "respondents",
        "sum_weights",
        "iterations",
        "trimmed",
    }
)
TOTAL_VALUES = frozenset({"group", "all", "total"})
NORD_EUROPE = "imt_nord_europe"
# Provenance facts that change with every run: shown only in the run-identity block.
RUN_KEYS = (
    "generated_at",
    "flow_run_id",
    "run_name",
    "started_at",
    "finished_at",
    "duration_seconds",
)
RUN_IDENTITY_BEGIN = "<!-- run-identity:begin -->"
RUN_IDENTITY_END = "<!-- run-identity:end -->"
LOW_RELIABILITY_BASE = 30
MAX_BASE_ROWS = 6  # more distinct bases than this: a footnote instead of a column
# Columns of the input-file manifests shown in the sample section (others stay in results.json)
FILE_TEXT_COLUMNS = ("wave", "format", "encoding")
FILE_COUNT_COLUMNS = ("rows_read", "quarantined", "rows_kept")


@cache
def load_labels(lang: str) -> dict[str, dict[str, str]]:
    """The fixed texts of one language (``templates/labels.<lang>.toml``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not supported (choose from {LANGUAGES})")
    with open(TEMPLATES / f"labels.{lang}.toml", "rb") as f:
        return tomllib.load(f)


def missing_captions(results: ResultSet, lang: str) -> list[str]:
    """Ids of tables in ``results`` that have no caption in ``lang``."""
    caps = load_labels(lang)["captions"]
    return [t.id for t in results.tables if t.id not in caps]


# --------------------------------------------------------------------------- formatting
def _kind(e: Estimate) -> str:
    s, v = e.statistic, e.variable
    if s in PCT_STATISTICS:
        return "pct"
    if s == "difference":
        return "dec2" if v in LIKERT_VARIABLES else "pp"
    if s in INT_STATISTICS:
        return "int"
    if s == "kish_n_eff":
        return "dec1"
    if s == "total":
        return "eur" if any(w in v for w in ("eur", "grant", "budget")) else "int"
    if s == "mean" and ("month" in v or "duration" in v):
        return "dec1"
    return "dec2"


def _fmt_value(x: float | None, kind: str, lang: str) -> str:
    if x is None:
        return DASH
    if kind == "pct":
        return fmt_percent_value(x, lang)
    if kind == "pp":
        return fmt_number(x * 100, lang, 1)
    if kind == "int":
        return fmt_int(x, lang)
    if kind == "eur":
        return fmt_int(x, lang)
    if kind == "dec1":
        return fmt_number(x, lang, 1)
    return fmt_number(x, lang, 2)


def _display_value(e: Estimate, ctx: Any) -> str:
    """The table text of an estimate: a number, or the named choice a coded estimate stands
    for (the model chosen for the trend, a yes flag) so that 0/1 codes never read as values."""
    if e.statistic == "model_choice" and e.level:
        return ctx.L["levels"].get(e.level, e.level)
    if e.statistic == "flag" and e.estimate is not None:
        return ctx.t("yes") if e.estimate else ctx.t("no")
    return _fmt_value(e.estimate, _kind(e), ctx.lang)


def format_field(e: Estimate, fld: str, lang: str, *, with_unit: bool = True) -> str:
    """One field of an estimate (``estimate``, ``ci_low``, ``ci_high``, ``p_adjusted``...)
    formatted for prose: percentages carry their sign, amounts their currency."""
    x = getattr(e, fld)
    if fld in ("p_value", "p_adjusted"):
        return fmt_p(x, lang)
    if fld == "n_unweighted":
        return fmt_int(x, lang)
    kind = _kind(e)
    if with_unit and kind == "pct":
        return fmt_percent(x, lang)
    if with_unit and kind == "eur":
        return fmt_eur(x, lang)
    return _fmt_value(x, kind, lang)


# --------------------------------------------------------------------------- labelling
@dataclass
class _Ctx:
    results: ResultSet
    lang: str
    L: dict[str, dict[str, str]]
    tables: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    table_refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    figure_refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    revised: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)
    bases: BaseTranslator | None = None  # set in __post_init__

    def __post_init__(self) -> None:
        if self.bases is None:
            self.bases = BaseTranslator(self.lang, self.L, self.results.study.get("schools") or {})

    def base(self, text: str) -> str:
        """An estimate's base (written in English by analysis/) in the report's language."""
        assert self.bases is not None
        return self.bases.text(text)

    @property
    def decimal(self) -> str:
        return fmt_number(0.5, self.lang, 1)[1]

    def t(self, key: str, **kw: Any) -> str:
        s = self.L["text"][key]
        return s.format(**kw) if kw else s

    def school(self, sid: str) -> str:
        if sid in TOTAL_VALUES:
            return self.t("group")
        if sid in ("rest", "rest_of_group", "others"):
            return self.t("rest")
        names = self.results.study.get("schools") or {}
        return str(names.get(sid, sid))

    def dim_value(self, dim: str, value: str) -> str:
        if "_vs_" in value:  # a contrast, e.g. "F_vs_M", "imt_nord_europe_vs_rest"
            return " − ".join(self.dim_value(dim, v) for v in value.split("_vs_"))
        if dim == "school":
            return self.school(value)
        if dim == "academic_year":
            return fmt_academic_year(value)
        if dim == "by":
            return self.L["dims"].get(value, value)
        return self.option(dim, value) or self.L["levels"].get(value, value)

    def option(self, variable: str, value: str) -> str | None:
        """The codebook's label of an option / category of ``variable`` (docs/codebook.md)."""
        labels = (self.results.study.get("labels") or {}).get(self.lang) or {}
        return ((labels.get("options") or {}).get(variable) or {}).get(value)

    def level(self, e: Estimate) -> str:
        lvl = e.level or ""
        if e.variable in LIKERT_VARIABLES and lvl in {"1", "2", "3", "4", "5"}:
            return self.t(f"likert_{lvl}")
        if self.option(e.variable, lvl):
            return self.option(e.variable, lvl)  # type: ignore[return-value]
        if lvl in self.L["levels"]:
            return self.L["levels"][lvl]
        if " - " in lvl:
            shown = " − ".join(self._term(p.strip()) for p in lvl.split(" - "))
            return self.bases.labelled(shown) if self.bases else shown  # "barrier_finance: ..."
        return self._term(lvl)

    def _term(self, term: str) -> str:
        m = re.fullmatch(r"(\w+)\[(\w+)\]", term)
        if m:  # a model term "gender[F]"
            value = self.option(m.group(1), m.group(2)) or self.L["levels"].get(
                m.group(2), m.group(2)
            )
            return f"{self.var_name(m.group(1))}{self.t('colon')}{value}"
        names = self.results.study.get("schools") or {}
        if term in names or term in ("rest",) or term in TOTAL_VALUES:
            return self.school(term)
        if term in self.L["levels"]:
            return self.L["levels"][term]
        return self.var_name(term)

    def describe(self, e: Estimate) -> str:
        """A row label: variable, category and domain ("Intends to go abroad: Women − Men")."""
        parts = [self.dim_value(d, v) for d, v in e.domain]
        if e.level is not None:
            parts.insert(0, self.level(e))
        parts = list(dict.fromkeys(parts))  # a model term's level is also its domain
        name = self.var_name(e.variable)
        return f"{name}{self.t('colon')}{', '.join(parts)}" if parts else name

    def var_name(self, v: str) -> str:
        if v in self.L["variables"] or v in self.L["dims"]:
            return self.L["variables"].get(v, self.L["dims"].get(v, v))
        labels = (self.results.study.get("labels") or {}).get(self.lang) or {}
        return (labels.get("variables") or {}).get(v, v)  # the codebook's label, else the id

    def stat_name(self, s: str) -> str:
        return self.L["statistics"].get(s, s)


def _cell(
    text: str, *, numeric: bool = False, header: bool = False, key: str = ""
) -> dict[str, Any]:
    """A table cell; ``key`` names the Estimate shown (traceable to results.json)."""
    return {"text": text, "numeric": numeric, "header": header, "key": key}


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


# --------------------------------------------------------------------------- tables
def _register_table(ctx: _Ctx, key: str, tbl: dict[str, Any]) -> dict[str, Any]:
    number = len(ctx.tables) + 1
    tbl["number"] = number
    tbl["anchor"] = "tbl-" + _slug(key)
    tbl["label"] = f"{ctx.t('table')} {number}"
    ctx.tables.append(tbl)
    ctx.table_refs[key] = {"href": "#" + tbl["anchor"], "label": tbl["label"]}
    return {"type": "table", "table": tbl}


def _plain_table(
    ctx: _Ctx,
    key: str,
    caption: str,
    header: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[str]],
    footnotes: Sequence[str] = (),
    source: str | None = None,
) -> dict[str, Any]:
    """A table that is not made of estimates (data-quality log, provenance)."""
    body = [[_cell(v, numeric=header[i][1], header=i == 0) for i, v in enumerate(r)] for r in rows]
    tbl = {
        "caption": caption,
        "columns": [{"label": h, "numeric": num} for h, num in header],
        "rows": body,
        "footnotes": list(footnotes),
        "source": source if source is not None else ctx.t("source_run"),
        "table_id": key,
    }
    return _register_table(ctx, key, tbl)


def _source(ctx: _Ctx, t: ResultTable) -> str:
    if t.section == "mobility" or t.id.startswith("mobility."):
        return ctx.t("source_mobility")
    waves = ", ".join(str(w) for w in ctx.results.study.get("waves") or []) or DASH
    return ctx.t("source_survey", waves=waves)


PIVOT_DIM = "academic_year"


def _pivotable(ests: Sequence[Estimate]) -> bool:
    """Counts or amounts without CIs over at least 3 academic years: one column per year."""
    if not ests or any(e.ci_low is not None for e in ests):
        return False
    if len({e.statistic for e in ests}) != 1 or _kind(ests[0]) not in ("int", "eur"):
        return False
    years = {e.domain_dict().get(PIVOT_DIM) for e in ests}
    if None in years or len(years) < 3:
        return False
    cells = Counter((e.variable, e.level, e.domain) for e in ests)
    return max(cells.values()) == 1


def _pivot_table(ctx: _Ctx, t: ResultTable) -> dict[str, Any]:
    """Rows: variable / category / other dimensions; columns: academic years."""
    L = ctx.L
    ests = list(t.estimates)
    years = sorted({e.domain_dict()[PIVOT_DIM] for e in ests}, key=int)
    dims = [
        d
        for d in dict.fromkeys([*t.dims, *(d for e in ests for d, _ in e.domain)])
        if d != PIVOT_DIM
    ]
    variables = list(dict.fromkeys(e.variable for e in ests))
    show_level = any(e.level is not None and e.level != e.variable for e in ests)
    row_keys: dict[tuple, dict[str, Estimate]] = {}
    for e in ests:
        dd = e.domain_dict()
        rk = (e.variable, e.level, tuple(dd.get(d) for d in dims))
        row_keys.setdefault(rk, {})[dd[PIVOT_DIM]] = e
    show_var = len(variables) > 1 or not (dims or show_level)  # every row needs a header
    columns = []
    if show_var:
        columns.append({"label": ctx.t("variable"), "numeric": False})
    columns += [{"label": L["dims"].get(d, d), "numeric": False} for d in dims]
    if show_level:
        columns.append({"label": ctx.t("level"), "numeric": False})
    columns += [{"label": fmt_academic_year(y), "numeric": True} for y in years]
    used: set[str] = set()
    rows = []
    for (var, level, dvals), by_year in row_keys.items():
        cells = []
        if show_var:
            cells.append(_cell(ctx.var_name(var)))
        for d, v in zip(dims, dvals, strict=True):
            cells.append(_cell(ctx.dim_value(d, v) if v is not None else DASH))
        if show_level:
            sample = next(iter(by_year.values()))
            cells.append(_cell(ctx.level(sample) if level is not None else DASH))
        for y in years:
            e = by_year.get(y)
            if e is None:
                cells.append(_cell(DASH, numeric=True))
            elif e.suppressed:
                used.add("c")
                cells.append(_cell("[c]", numeric=True, key=e.key))
            else:
                text = _fmt_value(e.estimate, _kind(e), ctx.lang)
                if e.key in ctx.revised:
                    used.add("r")
                    text += " r"
                cells.append(_cell(text, numeric=True, key=e.key))
        cells[0]["header"] = True
        rows.append(cells)
    unit = {"eur": "EUR"}.get(_kind(ests[0]), ctx.stat_name(ests[0].statistic))
    foot = [f"{ctx.t('statistic')}: {unit}; {ctx.t('pivot_note')}"]
    bases = list(dict.fromkeys(ctx.base(e.base) for e in ests if e.base))
    if len(bases) == 1:
        foot.append(f"{ctx.t('base')}: {bases[0]}.")
    elif bases:
        foot.append(ctx.t("base_per_row", example=bases[0]))
    foot.extend(ctx.bases.labelled(n) for n in t.notes)  # type: ignore[union-attr]
    if used:
        foot.append(
            ctx.t("footnote_flags")
            + " "
            + "; ".join(ctx.t(f"flag_{f}") for f in ("c", "r") if f in used)
            + "."
        )
    caption = L["captions"].get(t.id)
    if caption is None:
        ctx.warnings.append(f"{ctx.t('missing_caption')}: {t.id}")
        caption = t.id
    tbl = {
        "caption": caption,
        "columns": columns,
        "rows": rows,
        "footnotes": foot,
        "source": _source(ctx, t),
        "table_id": t.id,
    }
    return _register_table(ctx, t.id, tbl)


def _estimate_table(ctx: _Ctx, t: ResultTable) -> dict[str, Any]:
    L = ctx.L
    ests = list(t.estimates)
    if _pivotable(ests):
        return _pivot_table(ctx, t)
    dims: list[str] = [d for d in t.dims]
    for e in ests:
        for d, _ in e.domain:
            if d not in dims:
                dims.append(d)
    # dimensions that take a single value in the table go to a footnote, not a column
    constant: list[tuple[str, str]] = []
    for d in list(dims):
        vals = {e.domain_dict().get(d) for e in ests}
        if len(vals) == 1 and len(ests) > 1 and None not in vals:
            constant.append((d, vals.pop()))
            dims.remove(d)
    # rows broken down by one dimension each (school, gender, year...): one "Breakdown" column
    breakdown = len(dims) >= 2 and all(sum(d in dims for d, _ in e.domain) <= 1 for e in ests)
    variables = list(dict.fromkeys(e.variable for e in ests))
    statistics = list(dict.fromkeys(e.statistic for e in ests))
    kinds = list(dict.fromkeys(_kind(e) for e in ests))
    has_level = any(e.level is not None for e in ests)
    has_ci = any(e.ci_low is not None or e.suppressed for e in ests) and any(
        e.ci_low is not None for e in ests
    )
    has_n = any(e.n_unweighted is not None for e in ests)
    has_p = any(e.p_value is not None for e in ests)
    has_padj = any(e.p_adjusted is not None for e in ests)
    has_df = any(e.df is not None for e in ests) and statistics[0] in ("f_statistic", "chi2")
    bases = list(dict.fromkeys(ctx.base(e.base) for e in ests if e.base))
    base_col = 1 < len(bases) <= MAX_BASE_ROWS
    show_var = len(variables) > 1 or not (dims or has_level)
    show_stat = len(statistics) > 1

    unit = ""
    if len(kinds) == 1 and not show_stat:
        k = kinds[0]
        unit = {"pct": "%", "pp": ctx.t("pp_unit"), "eur": "EUR"}.get(
            k, ctx.stat_name(statistics[0])
        )
    est_label = f"{ctx.t('estimate')} ({unit})" if unit else ctx.t("estimate")

    columns: list[dict[str, Any]] = []
    if show_var:
        columns.append({"label": ctx.t("variable"), "numeric": False})
    if breakdown:
        columns.append({"label": ctx.t("breakdown"), "numeric": False})
    else:
        for d in dims:
            columns.append({"label": L["dims"].get(d, d), "numeric": False})
    if has_level:
        level_label = L["dims"]["term"] if t.section == "models" else ctx.t("level")
        columns.append({"label": level_label, "numeric": False})
    if show_stat:
        columns.append({"label": ctx.t("statistic"), "numeric": False})
    columns.append({"label": est_label, "numeric": True})
    if has_ci:
        columns.append({"label": ctx.t("ci"), "numeric": True})
    if has_df:
        columns.append({"label": "df", "numeric": True})
    if has_n:
        columns.append({"label": ctx.t("n"), "numeric": True})
    if has_p:
        columns.append({"label": ctx.t("p"), "numeric": True})
    if has_padj:
        columns.append({"label": ctx.t("p_adjusted"), "numeric": True})
    if base_col:
        columns.append({"label": ctx.t("base"), "numeric": False})
    columns.append({"label": ctx.t("flags"), "numeric": False})

    used_flags: set[str] = set()
    missing = False
    not_estimable: list[str] = []  # "term: reason", in the table's language
    rows = []
    for e in ests:
        cells = []
        if show_var:
            cells.append(_cell(ctx.var_name(e.variable)))
        dd = e.domain_dict()
        if breakdown:
            parts = [f"{ctx.var_name(d)}: {ctx.dim_value(d, dd[d])}" for d in dims if d in dd]
            cells.append(_cell(parts[0] if parts else ctx.t("all_respondents")))
        else:
            for d in dims:
                cells.append(_cell(ctx.dim_value(d, dd[d]) if d in dd else DASH))
        if has_level:
            cells.append(_cell(ctx.level(e) if e.level is not None else DASH))
        if show_stat:
            cells.append(_cell(ctx.stat_name(e.statistic)))
        flags = []
        if e.suppressed:
            cells.append(_cell("[c]", numeric=True, key=e.key))
            used_flags.add("c")
        elif e.not_estimable:
            cells.append(_cell(L["not_estimable"]["cell"], numeric=True, key=e.key))
            why = L["not_estimable"].get(e.not_estimable, e.not_estimable)
            not_estimable.append(f"{ctx.describe(e)}{ctx.t('colon')}{why}")
        else:
            if e.estimate is None:
                missing = True
            cells.append(_cell(_display_value(e, ctx), numeric=True, key=e.key))
        k = _kind(e)
        if has_ci:
            ci = (
                fmt_range(
                    _fmt_value(e.ci_low, k, ctx.lang), _fmt_value(e.ci_high, k, ctx.lang), ctx.lang
                )
                if not e.suppressed
                else ""
            )
            cells.append(_cell(ci, numeric=True))
        if has_df:
            cells.append(_cell(fmt_number(e.df, ctx.lang, 1), numeric=True))
        if has_n:
            cells.append(
                _cell("" if e.suppressed else fmt_int(e.n_unweighted, ctx.lang), numeric=True)
            )
        if has_p:
            cells.append(_cell("" if e.suppressed else fmt_p(e.p_value, ctx.lang), numeric=True))
        if has_padj:
            cells.append(_cell("" if e.suppressed else fmt_p(e.p_adjusted, ctx.lang), numeric=True))
        if base_col:
            cells.append(_cell(ctx.base(e.base) if e.base else DASH))
        if not e.suppressed:
            if (
                e.n_unweighted is not None
                and e.n_unweighted < LOW_RELIABILITY_BASE
                and e.statistic not in ("count", "total")
            ):
                flags.append("u")
            p = e.p_adjusted if e.p_adjusted is not None else e.p_value
            if (
                p is not None
                and p >= 0.05
                and e.statistic in ("difference", "odds_ratio", "rate_ratio")
            ):
                flags.append("n")
            if e.key in ctx.revised:
                flags.append("r")
        used_flags.update(flags)
        cells.append(_cell(" ".join(flags)))
        cells[0]["header"] = True
        rows.append({"cells": cells, "key": e.key})

    foot = []
    stat_desc = ", ".join(
        ctx.stat_name(s)
        + (" (" + ctx.t("pp_unit") + ")" if s == "difference" and "pp" in kinds else "")
        for s in statistics
    )
    ci_methods = sorted({e.ci_method for e in ests if e.ci_method})
    line = f"{ctx.t('statistic')}: {stat_desc}"
    if ci_methods:
        line += "; " + ctx.t("ci") + ": " + ", ".join(L["ci_methods"].get(m, m) for m in ci_methods)
    foot.append(line + ".")
    if any(e.weighted for e in ests):
        foot.append(ctx.t("weighted_note"))
    if len(bases) == 1:
        foot.append(f"{ctx.t('base')}: {bases[0]}.")
    elif len(bases) > MAX_BASE_ROWS:
        foot.append(ctx.t("base_per_row", example=bases[0]))
    for d, v in constant:
        foot.append(f"{ctx.var_name(d)}: {ctx.dim_value(d, v)}.")
    if "pct" in kinds:
        foot.append(ctx.t("rounding"))
    foot.extend(ctx.bases.labelled(n) for n in t.notes)  # type: ignore[union-attr]
    if missing:
        foot.append(ctx.t("missing_value"))
    if not_estimable:
        head = L["not_estimable"]["footnote"]
        foot.append(f"{head}{ctx.t('colon')}" + "; ".join(dict.fromkeys(not_estimable)) + ".")
    if used_flags:
        foot.append(
            ctx.t("footnote_flags")
            + " "
            + "; ".join(ctx.t(f"flag_{f}") for f in ("c", "u", "n", "r") if f in used_flags)
            + "."
        )
    caption = L["captions"].get(t.id)
    if caption is None:
        ctx.warnings.append(f"{ctx.t('missing_caption')}: {t.id}")
        caption = t.id
    tbl = {
        "caption": caption,
        "columns": columns,
        "rows": [r["cells"] for r in rows],
        "footnotes": foot,
        "source": _source(ctx, t),
        "table_id": t.id,
    }
    return _register_table(ctx, t.id, tbl)


# --------------------------------------------------------------------------- figures
def _register_figure(ctx: _Ctx, key: str, fig: F.Figure) -> dict[str, Any]:
    number = len(ctx.figures) + 1
    item = {
        "number": number,
        "anchor": fig.id,
        "label": f"{ctx.t('figure')} {number}",
        "caption": fig.caption,
        "alt": fig.alt,
        "svg": Markup(fig.svg),
        "data_header": list(fig.data_header),
        "data_rows": [list(r) for r in fig.data_rows],
    }
    ctx.figures.append(item)
    ctx.figure_refs[key] = {"href": "#" + fig.id, "label": item["label"]}
    return {"type": "figure", "figure": item}


def _overall(e: Estimate) -> bool:
    """An estimate for the whole population (no domain, or only "group"-like values)."""
    return all(v in TOTAL_VALUES for _, v in e.domain)


def _shown(ests: Sequence[Estimate]) -> list[Estimate]:
    return [e for e in ests if not e.suppressed and e.estimate is not None]


def _table_or_none(results: ResultSet, tid: str) -> ResultTable | None:
    try:
        return results.table(tid)
    except KeyError:
        return None


def _latest_year(ests: Sequence[Estimate]) -> str | None:
    years = sorted(
        {e.domain_dict()["academic_year"] for e in ests if "academic_year" in e.domain_dict()},
        key=int,
    )
    return years[-1] if years else None


def _pct(ctx: _Ctx, e: Estimate) -> str:
    return format_field(e, "estimate", ctx.lang)


def _fig_rate_by_school(ctx: _Ctx) -> dict[str, Any] | None:
    t = _table_or_none(ctx.results, "mobility.outgoing_rate")
    if t is None:
        return None
    year = _latest_year(_shown(t.estimates))
    if year is None:
        return None
    ests = [
        e
        for e in _shown(t.estimates)
        if e.domain_dict().get("academic_year") == year and "school" in e.domain_dict()
    ]
    if len(ests) < 2:
        return None
    group = None
    tg = _table_or_none(ctx.results, "mobility.outgoing_rate_group")
    if tg is not None:
        group = next(
            (e for e in _shown(tg.estimates) if e.domain_dict().get("academic_year") == year), None
        )
    ests.sort(key=lambda e: (-e.estimate, e.key))  # presentation order: highest first
    rows = ests + ([group] if group else [])
    bars = [
        F.Bar(
            ctx.school(e.domain_dict().get("school", "group")),
            e.estimate * 100,
            None if e.ci_low is None else e.ci_low * 100,
            None if e.ci_high is None else e.ci_high * 100,
            _pct(ctx, e),
        )
        for e in rows
    ]
    yl = fmt_academic_year(year)
    alt = ctx.t(
        "outgoing_rate_school_alt",
        year=yl,
        top=ctx.school(ests[0].domain_dict()["school"]),
        top_value=_pct(ctx, ests[0]),
        bottom=ctx.school(ests[-1].domain_dict()["school"]),
        bottom_value=_pct(ctx, ests[-1]),
        group_value=_pct(ctx, group) if group else DASH,
    )
    data = [
        (
            b.label,
            _pct(ctx, e),
            fmt_range(
                format_field(e, "ci_low", ctx.lang, with_unit=False),
                format_field(e, "ci_high", ctx.lang, with_unit=False),
                ctx.lang,
            ),
        )
        for b, e in zip(bars, rows, strict=True)
    ]
    fig = F.horizontal_bars(
        "fig-mobility-rate-by-school",
        bars,
        axis_label=ctx.t("rate_axis"),
        caption=ctx.L["figures"]["mobility.rate_by_school"].format(year=yl),
        alt=alt,
        data_header=(ctx.L["dims"]["school"], ctx.L["variables"]["outgoing_rate"], ctx.t("ci")),
        data_rows=data,
        highlight=ctx.school(NORD_EUROPE),
        decimal=ctx.decimal,
    )
    return _register_figure(ctx, "mobility.rate_by_school", fig)


def _fig_trend(ctx: _Ctx) -> dict[str, Any] | None:
    series: list[tuple[str, list[Estimate]]] = []
    tg = _table_or_none(ctx.results, "mobility.outgoing_rate_group")
    if tg is not None:
        series.append((ctx.t("group"), _shown(tg.estimates)))
    t = _table_or_none(ctx.results, "mobility.outgoing_rate")
    if t is not None:
        series.append(
            (
                ctx.school(NORD_EUROPE),
                [e for e in _shown(t.estimates) if e.domain_dict().get("school") == NORD_EUROPE],
            )
        )
    series = [
        (
            name,
            sorted(
                [e for e in ests if "academic_year" in e.domain_dict()],
                key=lambda e: int(e.domain_dict()["academic_year"]),
            ),
        )
        for name, ests in series
    ]
    series = [(n, s) for n, s in series if len(s) >= 2]
    if not series:
        return None
    covid = [
        int(y)
        for y in (ctx.results.provenance.get("config") or {}).get("covid_break_years", (2019, 2020))
    ]
    all_years = sorted({int(e.domain_dict()["academic_year"]) for _, s in series for e in s})
    mseries = []
    for name, s in series:
        xs = tuple(float(e.domain_dict()["academic_year"]) for e in s)
        mseries.append(
            F.Series(
                name,
                xs,
                tuple(e.estimate * 100 for e in s),
                tuple(None if e.ci_low is None else e.ci_low * 100 for e in s),
                tuple(None if e.ci_high is None else e.ci_high * 100 for e in s),
            )
        )
    desc = "; ".join(
        f"{name}: {fmt_academic_year(s[0].domain_dict()['academic_year'])} {_pct(ctx, s[0])}, "
        f"{fmt_academic_year(s[-1].domain_dict()['academic_year'])} {_pct(ctx, s[-1])}"
        for name, s in series
    )
    alt = ctx.t(
        "trend_alt",
        first=fmt_academic_year(all_years[0]),
        last=fmt_academic_year(all_years[-1]),
        series=desc,
    )
    data = [
        (name, fmt_academic_year(e.domain_dict()["academic_year"]), _pct(ctx, e))
        for name, s in series
        for e in s
    ]
    fig = F.lines_over_time(
        "fig-mobility-trend",
        mseries,
        x_labels={float(y): fmt_academic_year(y) for y in all_years},
        shade=[float(y) for y in covid if y in all_years],
        shade_label=ctx.t("covid_years"),
        axis_label=ctx.t("rate_axis"),
        x_axis_label=ctx.t("academic_year"),
        # the caption names the series drawn (no group series: one school, or no year where
        # every school has mobility data)
        caption=ctx.L["figures"]["mobility.trend"]
        if len(series) > 1
        else ctx.L["figures"]["mobility.trend_one"].format(series=series[0][0]),
        alt=alt,
        data_header=(ctx.t("series"), ctx.t("academic_year"), ctx.L["variables"]["outgoing_rate"]),
        data_rows=data,
        decimal=ctx.decimal,
    )
    return _register_figure(ctx, "mobility.trend", fig)


def _fig_destinations(ctx: _Ctx) -> dict[str, Any] | None:
    t = _table_or_none(ctx.results, "mobility.destinations")
    if t is None:
        return None
    # one bar per country for the whole group (rows broken down by school stay in the table)
    group_rows = [
        e
        for e in t.estimates
        if "country" in e.domain_dict()
        and all(d in ("country", "academic_year") or v in TOTAL_VALUES for d, v in e.domain)
    ]
    shown = sorted(_shown(group_rows), key=lambda e: (-e.estimate, e.key))[:12]
    if len(shown) < 2:
        return None
    n_hidden = sum(1 for e in group_rows if e.suppressed)
    pct = _kind(shown[0]) == "pct"
    bars = [
        F.Bar(
            ctx.dim_value("country", e.domain_dict().get("country", "?")),
            e.estimate * (100 if pct else 1),
            None if not pct or e.ci_low is None else e.ci_low * 100,
            None if not pct or e.ci_high is None else e.ci_high * 100,
            text=format_field(e, "estimate", ctx.lang),
        )
        for e in shown
    ]
    alt = ctx.t(
        "destinations_alt",
        top=", ".join(f"{b.label} {b.text}" for b in bars[:3]),
        n_hidden=fmt_int(n_hidden, ctx.lang),
    )
    fig = F.horizontal_bars(
        "fig-mobility-destinations",
        bars,
        axis_label=ctx.t("share_axis") if pct else ctx.t("count_axis"),
        caption=ctx.L["figures"]["mobility.destinations"],
        alt=alt,
        data_header=(ctx.L["dims"]["country"], ctx.t("estimate")),
        data_rows=[(b.label, b.text) for b in bars],
        decimal=ctx.decimal,
    )
    return _register_figure(ctx, "mobility.destinations", fig)


def _fig_likert(ctx: _Ctx, tid: str) -> dict[str, Any] | None:
    t = _table_or_none(ctx.results, tid)
    if t is None:
        return None
    items = []
    data = []
    for var in dict.fromkeys(e.variable for e in t.estimates):
        lv = {
            e.level: e
            for e in t.estimates
            if e.variable == var and e.level in {"1", "2", "3", "4", "5"} and not e.domain
        }
        if set(lv) != {"1", "2", "3", "4", "5"} or any(
            e.suppressed or e.estimate is None for e in lv.values()
        ):
            continue
        shares = [lv[str(k)].estimate * 100 for k in range(1, 6)]
        items.append((ctx.var_name(var), shares))
        data.append(
            (
                ctx.var_name(var),
                *[format_field(lv[str(k)], "estimate", ctx.lang) for k in range(1, 6)],
            )
        )
    if not items:
        return None
    desc = "; ".join(
        f"{row[0]}: " + ", ".join(f"{ctx.t(f'likert_{k}')} {row[k]}" for k in (1, 5))
        for row in data
    )
    alt = ctx.t(
        "likert_alt",
        what=ctx.L["figures"][tid].lower() if ctx.lang == "en" else ctx.L["figures"][tid],
        items=desc,
    )
    fig = F.diverging_likert(
        "fig-" + _slug(tid),
        items,
        level_labels=[ctx.t(f"likert_{k}") for k in range(1, 6)],
        axis_label=ctx.t("percent_of_respondents"),
        caption=ctx.L["figures"][tid],
        alt=alt,
        data_header=(ctx.t("variable"), *[ctx.t(f"likert_{k}") for k in range(1, 6)]),
        data_rows=data,
    )
    return _register_figure(ctx, tid, fig)


def _fig_bars(
    ctx: _Ctx,
    tid: str,
    label: Callable[[Estimate], str],
    *,
    log: bool = False,
    axis: str,
    pct: bool,
    keep: Callable[[Estimate], bool] = lambda e: True,
) -> dict[str, Any] | None:
    t = _table_or_none(ctx.results, tid)
    if t is None:
        return None
    shown = [e for e in _shown(t.estimates) if (e.ci_low is not None or pct) and keep(e)]
    # one axis, one unit: keep the estimates of the first one's kind (pp vs scale points)
    shown = [e for e in shown if _kind(e) == _kind(shown[0])] if shown else shown
    if len(shown) < 2:
        return None
    scale = 100.0 if pct or _kind(shown[0]) == "pp" else 1.0
    bars = [
        F.Bar(
            label(e),
            e.estimate * scale,
            None if e.ci_low is None else e.ci_low * scale,
            None if e.ci_high is None else e.ci_high * scale,
            format_field(e, "estimate", ctx.lang),
        )
        for e in shown
    ]
    rows = [
        (
            b.label,
            b.text,
            fmt_range(
                format_field(e, "ci_low", ctx.lang, with_unit=False),
                format_field(e, "ci_high", ctx.lang, with_unit=False),
                ctx.lang,
            ),
        )
        for b, e in zip(bars, shown, strict=True)
    ]
    items = "; ".join(f"{r[0]} {r[1]} ({r[2]})" for r in rows)
    what = ctx.L["figures"][tid]
    alt = ctx.t(
        "forest_alt" if log or not pct else "bars_alt",
        what=what.lower() if ctx.lang == "en" else what,
        items=items,
    )
    fig = F.horizontal_bars(
        "fig-" + _slug(tid),
        bars,
        axis_label=axis,
        caption=what,
        alt=alt,
        data_header=(ctx.t("item"), ctx.t("estimate"), ctx.t("ci")),
        data_rows=rows,
        log=log,
        decimal=ctx.decimal,
    )
    return _register_figure(ctx, tid, fig)


# --------------------------------------------------------------------------- sections
def _subsection(ctx: _Ctx, key: str) -> dict[str, Any]:
    return {"type": "subsection", "id": "sub-" + _slug(key), "title": ctx.L["subsections"][key]}


def _para(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "text": text}


def _tables_for(ctx: _Ctx, section: str) -> list[ResultTable]:
    out = []
    known = [tid for tid, (sec, _) in TABLE_PLACES.items() if sec == section]
    for tid in known:
        t = _table_or_none(ctx.results, tid)
        if t is not None:
            out.append(t)
    return out


def _unplaced(results: ResultSet) -> dict[str, list[ResultTable]]:
    """Tables with an id the report does not know: placed by their ``section``."""
    out: dict[str, list[ResultTable]] = {}
    for t in results.tables:
        if t.id in TABLE_PLACES:
            continue
        out.setdefault(SECTION_OF_TABLE_SECTION.get(t.section, "other"), []).append(t)
    return out


def _section_blocks(
    ctx: _Ctx, section: str, figs: Mapping[str, Callable[[], dict | None]]
) -> list[dict]:
    blocks: list[dict] = []
    tables = _tables_for(ctx, section)
    subs = SUBSECTIONS.get(section, ())
    groups: dict[str | None, list[ResultTable]] = {}
    for t in tables:
        groups.setdefault(TABLE_PLACES[t.id][1], []).append(t)
    for t in groups.get(None, []):
        f = figs.get(t.id)
        if f and (b := f()):
            blocks.append(b)
        blocks.append(_estimate_table(ctx, t))
    for sub in subs:
        sub_blocks: list[dict] = []
        f = figs.get(sub)
        if f and (b := f()):
            sub_blocks.append(b)
        for t in groups.get(sub, []):
            f = figs.get(t.id) if t.id != sub else None
            if f and (b := f()):
                sub_blocks.append(b)
            sub_blocks.append(_estimate_table(ctx, t))
        extra = figs.get("extra:" + sub)
        if extra:
            sub_blocks.extend(extra() or [])
        if sub_blocks:
            blocks.append(_subsection(ctx, sub))
            blocks.extend(sub_blocks)
    for t in _unplaced(ctx.results).get(section, []):
        blocks.append(_estimate_table(ctx, t))
    return blocks


def _sample_extra(ctx: _Ctx) -> list[dict]:
    dq = ctx.results.data_quality
    blocks = []
    reasons = dq.get("quarantine_reasons") or {}
    if reasons:
        rows = [
            (str(r), fmt_int(n, ctx.lang))
            for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        blocks.append(
            _plain_table(
                ctx,
                "data_quality.quarantine",
                ctx.L["captions"]["data_quality.quarantine"],
                [(ctx.t("reason"), False), (ctx.t("count"), True)],
                rows,
            )
        )
    files = [f for f in dq.get("files") or [] if isinstance(f, Mapping)]
    if files:
        cols = [c for c in FILE_TEXT_COLUMNS if any(c in f for f in files)]
        nums = [c for c in FILE_COUNT_COLUMNS if any(isinstance(f.get(c), int) for f in files)]
        has_filtered = any(f.get("filtered") for f in files)
        header = [(ctx.t("file"), False)]
        header += [(ctx.L["text"].get(c, ctx.L["dims"].get(c, c)), False) for c in cols]
        header += [(ctx.t("rows_read"), True)] if "rows_read" in nums else []
        header += [(ctx.t("filtered_col"), False)] if has_filtered else []
        header += [(ctx.L["text"][c], True) for c in nums if c != "rows_read"]
        rows = []
        for f in files:
            row = [str(f.get("file", DASH))] + [str(f.get(c, DASH)) for c in cols]
            row += [fmt_int(f.get("rows_read"), ctx.lang)] if "rows_read" in nums else []
            if has_filtered:
                flt = [
                    f"{r} {fmt_int(n, ctx.lang)}"
                    for r, n in (f.get("filtered") or {}).items()
                    if isinstance(n, int) and n
                ]
                row.append("; ".join(flt) or DASH)
            row += [fmt_int(f.get(c), ctx.lang) for c in nums if c != "rows_read"]
            rows.append(row)
        blocks.append(
            _plain_table(
                ctx,
                "data_quality.files",
                ctx.L["captions"]["data_quality.files"],
                header,
                rows,
                footnotes=[ctx.t("files_note")],
            )
        )
    return blocks


def _comparison_sentences(ctx: _Ctx) -> list[dict]:
    """One sentence per difference that earns one (conditions in :mod:`reports.findings`)."""
    index = {e.key: e for e in ctx.results.estimates()}
    items = [
        "".join(p.get("text", p.get("num", "")) for p in _render_finding(ctx, f, index, "text"))
        for f in RF.comparison_findings(ctx.results)
    ]
    return [{"type": "list", "entries": items}] if items else []


# --------------------------------------------------------------------------- key findings
def _num(e: Estimate, fld: str, lang: str) -> dict[str, str]:
    return {"num": format_field(e, fld, lang), "key": e.key, "field": fld}


def _split(template: str, values: Mapping[str, Any]) -> list[dict[str, str]]:
    parts: list[dict[str, str]] = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2 == 0:
            if piece:
                parts.append({"text": piece})
        else:
            v = values[piece]
            parts.append(v if isinstance(v, dict) else {"text": str(v)})
    return parts


def _name_text(ctx: _Ctx, n: RF.Name) -> str:
    """A name of a finding in the report's language."""
    if n.dim == "variable":
        return ctx.var_name(n.value)
    if n.dim == "academic_year":
        return fmt_academic_year(n.value)
    if n.dim == "school" and n.value in RF.REST_VALUES:
        return ctx.t("other_schools")
    if n.value in ("high", "low"):  # e.g. barrier_finance high_vs_low: 4-5 against 1-2
        name = ctx.var_name(n.dim)
        return ctx.t(f"group_{n.value}", name=name[:1].lower() + name[1:])
    return ctx.dim_value(n.dim, n.value)


def _quote_text(ctx: _Ctx, e: Estimate, fld: str) -> str:
    """A quoted field as comparison prose shows it: a difference with its unit, a p-value
    with its relation ("= 0.12", "< 0.001")."""
    text = format_field(e, fld, ctx.lang)
    if fld in ("p_value", "p_adjusted"):
        return text if text.startswith("<") else "= " + text
    if fld == "estimate" and _kind(e) == "pp":
        return text + " " + ctx.t("pp_unit")
    return text


def _render_finding(
    ctx: _Ctx, f: RF.Finding, index: Mapping[str, Estimate], section: str
) -> list[dict[str, str]]:
    """The parts of a finding: ``{"text"}`` or, in key findings, ``{"num", "key", "field"}``
    (a number traceable to results.json). Template ids joined by ``+`` are concatenated."""
    template = "".join(ctx.L[section][t] for t in f.template.split("+"))
    values: dict[str, Any] = {}
    for k, v in f.values.items():
        if isinstance(v, RF.Name):
            values[k] = _name_text(ctx, v)
        elif section == "findings":
            values[k] = _num(index[v.key], v.field, ctx.lang)
        else:
            values[k] = _quote_text(ctx, index[v.key], v.field)
    return _split(template, values)


def key_findings(
    results: ResultSet, lang: str, refs: Mapping[str, Mapping[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The findings of :func:`reports.findings.key_findings` (each earned by a condition on
    the results), as lists of parts (``{"text"}`` or ``{"num", "key", "field"}``) with a
    reference to their table or figure."""
    refs = refs or {}
    ctx = _Ctx(results, lang, load_labels(lang))
    index = {e.key: e for e in results.estimates()}
    out = []
    for f in RF.key_findings(results):
        link = next((dict(refs[i]) for i in f.refs if i in refs), None)
        out.append({"parts": _render_finding(ctx, f, index, "findings"), "ref": link})
    return out


def key_findings_markdown(results: ResultSet, lang: str) -> str:
    """The key findings as a Markdown list (for the Prefect artifact)."""
    lines = []
    for f in key_findings(results, lang):
        lines.append("- " + "".join(p.get("num", p.get("text", "")) for p in f["parts"]))
    return "\n".join(lines) if lines else load_labels(lang)["findings"]["none"]


def data_quality_alert_count(results: dict[str, Any], lang: str = "en") -> int:
    """How many alerts the data-quality section of the report lists (for the CLI's summary
    line), from a ``results.json`` mapping."""
    res = ResultSet(results.get("study") or {}, (), results.get("data_quality") or {}, {})
    blocks = _data_quality(_Ctx(res, lang, load_labels(lang)))
    return sum(len(b["entries"]) for b in blocks if b.get("type") == "alerts")


# --------------------------------------------------------------------------- appendices
def _methods(ctx: _Ctx) -> list[dict]:
    M = ctx.L["methods"]
    res = ctx.results
    cfg = res.provenance.get("config") or {}
    w = cfg.get("weighting") or {}
    disc = res.data_quality.get("disclosure") or cfg.get("disclosure") or {}
    ci = sorted({e.ci_method for e in res.estimates() if e.ci_method})
    waves = ", ".join(str(x) for x in res.study.get("waves") or []) or DASH
    covid = ", ".join(fmt_academic_year(y) for y in cfg.get("covid_break_years", (2019, 2020)))
    items = [
        (
            M["design_title"],
            [
                M["design"].format(
                    waves=waves, cutoff=fmt_date(res.study.get("data_cutoff", DASH), ctx.lang)
                )
            ],
        ),
        (
            M["weighting_title"],
            [
                M["weighting"].format(
                    method=w.get("method", DASH),
                    cells=", ".join(ctx.L["dims"].get(c, c) for c in w.get("cells", [])) or DASH,
                )
            ],
        ),
        (
            M["ci_title"],
            [M["ci"].format(methods=", ".join(ctx.L["ci_methods"].get(m, m) for m in ci) or DASH)],
        ),
        (M["tests_title"], [M["tests"]]),
        (
            M["suppression_title"],
            [
                M["suppression"].format(
                    min_count=disc.get("min_count", 5), min_base=disc.get("min_base", 10)
                )
            ],
        ),
        (
            M["limitations_title"],
            [M["limitations"].format(covid=covid)]
            + ([ctx.t("synthetic_banner")] if res.study.get("synthetic") else []),
        ),
        (M["glossary_title"], list(ctx.L["glossary"].values())),
    ]
    return [{"type": "details", "title": t, "paragraphs": p} for t, p in items]


def _data_quality(ctx: _Ctx) -> list[dict]:
    dq = ctx.results.data_quality
    alerts = []
    for r, n in sorted(
        (dq.get("quarantine_reasons") or {}).items(), key=lambda kv: (-kv[1], kv[0])
    ):
        alerts.append((ctx.t("alert_quarantine", reason=r), fmt_int(n, ctx.lang)))
    for f in dq.get("files") or []:
        if not isinstance(f, Mapping):
            continue
        name = str(f.get("file", DASH))
        for r, n in (f.get("filtered") or {}).items():
            if isinstance(n, int) and n:
                alerts.append((ctx.t("alert_filtered", file=name, reason=r), fmt_int(n, ctx.lang)))
        for key, label in (
            ("dropped_personal_columns", "alert_personal"),
            ("unmapped_columns", "alert_unmapped"),
            ("unknown_schools", "alert_unknown_schools"),
            ("unknown_codes", "alert_unknown_codes"),
            ("unknown_countries", "alert_unknown_countries"),
            ("unknown_options", "alert_unknown_options"),
        ):
            v = f.get(key)
            if v:  # a count of columns/names only: the names may be personal data
                n = sum(v.values()) if isinstance(v, Mapping) else len(v)
                alerts.append((ctx.t(label, file=name), fmt_int(n, ctx.lang)))
        for b in f.get("breaks") or []:
            note = b.get("note") if isinstance(b, Mapping) else None
            if isinstance(note, Mapping):  # the codebook's note, in the report's language
                detail = str(note.get(ctx.lang) or note.get("en") or "")
            elif isinstance(b, Mapping):
                detail = "; ".join(f"{k}: {v}" for k, v in sorted(b.items()))
            else:
                detail = str(b)
            detail = ctx.bases.labelled(detail)  # type: ignore[union-attr]
            alerts.append((ctx.t("alert_break", file=name, detail=detail), DASH))
    for a in dq.get("alerts") or []:
        if isinstance(a, Mapping):
            label = f"alert_{a.get('code')}"
            params = a.get("params")
            translated = label in ctx.L["text"] and isinstance(params, Mapping)
            alerts.append(
                (
                    ctx.t(label, **params)
                    if translated
                    else str(a.get("message") or a.get("code") or a),
                    fmt_int(a["count"], ctx.lang)
                    if isinstance(a.get("count"), (int, float))
                    else DASH,
                )
            )
    for w in ctx.warnings:
        alerts.append((w, DASH))
    disc = dq.get("disclosure") or {}
    chk = disc.get("differencing_check") or {}
    if chk.get("unprotected"):
        alerts.append((ctx.t("unprotected_lines"), fmt_int(chk["unprotected"], ctx.lang)))
    if not alerts:
        return [_para(ctx.t("alerts_none"))]
    return [{"type": "alerts", "header": [ctx.t("alert"), ctx.t("count")], "entries": alerts}]


def _changes(ctx: _Ctx) -> list[dict]:
    ch = ctx.results.data_quality.get("changes")
    if not ch:
        return [_para(ctx.t("no_changes"))]
    if ch.get("previous_run") is None and len(ch) == 1:
        return [_para(ctx.t("first_run"))]
    items = [(ctx.t("previous_run"), str(ch.get("previous_run") or DASH))]
    nr = ch.get("new_responses") or []
    if nr:
        items.append(
            (
                ctx.t("new_responses"),
                "; ".join(
                    f"{', '.join(ctx.dim_value(d, str(v)) for d, v in sorted((r.get('domain') or {}).items()))}: "
                    f"{fmt_int(r.get('before'), ctx.lang)} → {fmt_int(r.get('now'), ctx.lang)}"
                    for r in nr
                ),
            )
        )
    for k in ("new_schools", "new_years", "new_waves"):
        vals = ch.get(k) or []
        if vals:
            dim = {"new_schools": "school", "new_years": "academic_year", "new_waves": "wave"}[k]
            items.append((ctx.t(k), ", ".join(ctx.dim_value(dim, str(v)) for v in vals)))
    for k in ("added", "removed"):
        if ch.get(k):
            items.append((ctx.t(k), fmt_int(ch[k], ctx.lang)))
    blocks: list[dict] = [{"type": "dl", "entries": items}]
    index = {e.key: e for e in ctx.results.estimates()}
    for k, cap in (("moved", "changes.moved"), ("revised", None)):
        rows = []
        for m in ch.get(k) or []:
            e = index.get(m.get("key"))
            fmt = (
                (lambda x, e=e: format_field(_with(e, x), "estimate", ctx.lang))
                if e
                else (lambda x: fmt_number(x, ctx.lang, 3))
            )
            rows.append((str(m.get("key")), fmt(m.get("before")), fmt(m.get("now"))))
        if rows:
            blocks.append(
                _plain_table(
                    ctx,
                    "changes." + k,
                    cap and ctx.L["captions"][cap] or ctx.t("revised"),
                    [(ctx.t("key"), False), (ctx.t("before"), True), (ctx.t("now"), True)],
                    rows,
                )
            )
    return blocks


def _with(e: Estimate, x: Any) -> Estimate:
    from dataclasses import replace

    return replace(e, estimate=x if isinstance(x, (int, float)) else None, suppressed=None)


def _disclosure(ctx: _Ctx) -> list[dict]:
    d = ctx.results.data_quality.get("disclosure")
    D = ctx.L["disclosure"]
    if not d:
        return [_para(D["not_applied"])]
    chk = d.get("differencing_check") or {}
    blocks = [
        _para(
            D["summary"].format(
                min_count=d.get("min_count"),
                min_base=d.get("min_base"),
                checked=fmt_int(d.get("cells_checked"), ctx.lang),
                suppressed=fmt_int(d.get("suppressed"), ctx.lang),
                primary=fmt_int(d.get("primary"), ctx.lang),
                count=fmt_int(d.get("primary_count"), ctx.lang),
                base=fmt_int(d.get("primary_base"), ctx.lang),
                secondary=fmt_int(d.get("secondary"), ctx.lang),
            )
        ),
        _para(D["scope"]),
        _para(
            (
                D["check_passed"]
                if chk.get("passed", not chk.get("unprotected"))
                else D["check_failed"]
            ).format(
                lines=fmt_int(chk.get("lines"), ctx.lang),
                unprotected=fmt_int(chk.get("unprotected", 0), ctx.lang),
            )
        ),
    ]
    rows = [
        (
            ctx.L["captions"].get(tid, tid),
            fmt_int(v.get("primary"), ctx.lang),
            fmt_int(v.get("secondary"), ctx.lang),
        )
        for tid, v in sorted((d.get("by_table") or {}).items())
    ]
    if rows:
        blocks.append(
            _plain_table(
                ctx,
                "disclosure.by_table",
                ctx.L["captions"]["disclosure.by_table"],
                [(ctx.t("table"), False), (D["primary"], True), (D["secondary"], True)],
                rows,
            )
        )
    return blocks


def _provenance(ctx: _Ctx) -> list[dict]:
    prov = ctx.results.provenance
    blocks: list[dict] = [{"type": "run_ref", "text": ctx.t("run_identity_see")}]
    facts = [(ctx.t("git_commit"), str(prov.get("git_commit", DASH)))]
    if prov.get("code_digest"):
        facts.append((ctx.t("code_digest"), str(prov["code_digest"])))
    seeds = prov.get("seeds")
    if seeds:
        facts.append((ctx.t("seeds"), json.dumps(seeds, sort_keys=True, ensure_ascii=False)))
    blocks.append({"type": "dl", "entries": facts})
    versions = prov.get("versions") or {}
    if versions:
        blocks.append(
            _plain_table(
                ctx,
                "provenance.versions",
                ctx.L["captions"]["provenance.versions"],
                [(ctx.t("package"), False), (ctx.t("version"), False)],
                sorted((str(k), str(v)) for k, v in versions.items()),
            )
        )
    inputs = [i for i in prov.get("inputs") or [] if isinstance(i, Mapping)]
    if inputs:
        blocks.append(
            _plain_table(
                ctx,
                "provenance.inputs",
                ctx.L["captions"]["provenance.inputs"],
                [(ctx.t("file"), False), (ctx.t("rows"), True), (ctx.t("sha256"), False)],
                [
                    (
                        str(i.get("file", DASH)),
                        fmt_int(i.get("rows"), ctx.lang),
                        str(i.get("sha256", DASH)),
                    )
                    for i in inputs
                ],
            )
        )
    cfg = prov.get("config")
    if cfg is not None:
        text = json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        href = "data:application/json;base64," + base64.b64encode(text.encode("utf-8")).decode(
            "ascii"
        )
        blocks.append(
            {
                "type": "config",
                "title": ctx.t("config"),
                "json": text,
                "href": href,
                "link": ctx.t("download_config"),
            }
        )
    return blocks


def _citation(ctx: _Ctx, title: str) -> list[dict]:
    return [
        {
            "type": "dl",
            "entries": [
                (
                    ctx.t("citation"),
                    ctx.t(
                        "citation_text",
                        title=title,
                        cutoff=fmt_date(ctx.results.study.get("data_cutoff", DASH), ctx.lang),
                    ),
                ),
                (ctx.t("licence"), ctx.t("licence_text")),
                (ctx.t("contact"), ctx.t("contact_text")),
            ],
        }
    ]


def _surveyed_schools(ctx: _Ctx) -> list[dict]:
    """What "All" covers in the survey tables: the schools with respondents, named (one
    school is that school, not the IMT group)."""
    t = _table_or_none(ctx.results, "sample.response_rate")
    if t is None:
        return []
    schools = sorted(
        {
            str(e.domain_dict()["school"])
            for e in t.estimates
            if e.domain_dict().get("school") not in (None, *TOTAL_VALUES)
        }
    )
    if not schools:
        return []
    names = ", ".join(ctx.school(s) for s in schools)
    if len(schools) == 1:
        return [_para(ctx.t("surveyed_one_school", school=names))]
    return [_para(ctx.t("surveyed_schools", n=len(schools), schools=names))]


# sections that exist only with the part of the study they report on
PART_SECTIONS = {"survey": ("survey", "comparisons", "models"), "mobility": ("mobility",)}


def _drop_absent_parts(ctx: _Ctx, sections: dict[str, list[dict]]) -> list[str]:
    """Remove the sections of a part the study does not have (no survey input, no respondent,
    no mobility input); return the one line per missing part that says so."""
    lines = []
    for part, keys in PART_SECTIONS.items():
        p = (ctx.results.study.get("parts") or {}).get(part)
        if not isinstance(p, Mapping) or p.get("present", True):
            continue
        for k in keys:
            sections.pop(k, None)
        lines.append(ctx.t(f"part_absent_{part}_{p.get('reason') or 'no_input'}"))
    return lines


def run_identity_items(
    results: ResultSet, run_identity: Mapping[str, str], lang: str
) -> list[tuple[str, str]]:
    """Facts that change from run to run (shown in the one delimited block)."""
    L = load_labels(lang)["text"]
    merged: dict[str, str] = {
        k: str(results.provenance[k]) for k in RUN_KEYS if k in results.provenance
    }
    merged.update({str(k): str(v) for k, v in run_identity.items()})
    order = [k for k in RUN_KEYS if k in merged] + sorted(k for k in merged if k not in RUN_KEYS)
    return [(L.get(k, k.replace("_", " ")), merged[k]) for k in order]


# --------------------------------------------------------------------------- entry point
def build_view_model(
    results: ResultSet, lang: str, run_identity: Mapping[str, str]
) -> dict[str, Any]:
    """Everything the template needs, as plain dicts and strings."""
    L = load_labels(lang)
    revised = frozenset(
        r.get("key")
        for r in (results.data_quality.get("changes") or {}).get("revised") or []
        if isinstance(r, Mapping)
    )
    ctx = _Ctx(results, lang, L, revised=revised)
    st = results.study
    titles = st.get("title") or {}
    title = (
        titles.get(lang) or next(iter(titles.values()), "Study report")
        if isinstance(titles, Mapping)
        else str(titles)
    )

    figs: dict[str, Callable[[], dict | None]] = {
        "mobility.by_school": lambda: _fig_rate_by_school(ctx),
        "mobility.over_time": lambda: _fig_trend(ctx),
        "mobility.destinations": lambda: _fig_destinations(ctx),
        "survey.barriers": lambda: _fig_likert(ctx, "survey.barriers"),
        "survey.dual_degree": lambda: _fig_likert(ctx, "survey.dual_degree"),
        "survey.destinations": lambda: _fig_bars(
            ctx,
            "survey.destinations",
            ctx.level,
            axis=ctx.t("percent_of_respondents"),
            pct=True,
            keep=lambda e: _overall(e) and e.level is not None,
        ),
        "comparisons.differences": lambda: _fig_bars(
            ctx,
            "comparisons.differences",
            ctx.describe,
            axis=ctx.t("difference_axis"),
            pct=False,
        ),
        "models.intends_abroad": lambda: _fig_bars(
            ctx,
            "models.intends_abroad",
            ctx.describe,
            log=True,
            axis=ctx.t("odds_ratio_axis"),
            pct=False,
            keep=lambda e: e.statistic == "odds_ratio",
        ),
        "extra:sample.filters": lambda: _sample_extra(ctx),
    }
    sections: dict[str, list[dict]] = {}
    # Sample: the response table first, then filters and weighting subsections.
    sections["sample"] = _section_blocks(ctx, "sample", figs)
    sections["mobility"] = _section_blocks(ctx, "mobility", figs)
    sections["survey"] = _surveyed_schools(ctx) + _section_blocks(ctx, "survey", figs)
    comp = _section_blocks(ctx, "comparisons", figs)
    sentences = _comparison_sentences(ctx)
    if sentences:
        comp.insert(min(len(comp), 2), {"type": "subheading", "text": ctx.t("interpretation")})
        comp[min(len(comp), 3) : min(len(comp), 3)] = sentences
    sections["comparisons"] = comp
    sections["models"] = _section_blocks(ctx, "models", figs)
    other = [_estimate_table(ctx, t) for t in _unplaced(results).get("other", [])]
    if other:
        sections["other"] = other
    sections["methods"] = _methods(ctx)
    sections["changes"] = _changes(ctx)
    sections["disclosure"] = _disclosure(ctx)
    sections["provenance"] = _provenance(ctx)
    sections["citation"] = _citation(ctx, title)
    if ctx.bases is not None and ctx.bases.untranslated:
        shown = ctx.bases.untranslated[:3]  # a few examples; results.json has them all
        ctx.warnings.append(
            ctx.t("untranslated_bases", n=len(ctx.bases.untranslated))
            + ctx.t("colon")
            + " | ".join(shown)
            + (" | …" if len(ctx.bases.untranslated) > len(shown) else "")
        )
    sections["data_quality"] = _data_quality(ctx)  # last: it lists warnings raised above

    refs = {**ctx.figure_refs, **ctx.table_refs}
    # findings link to the figure when there is one, else to the table
    fref = {
        "mobility.trend": ctx.figure_refs.get("mobility.trend")
        or ctx.table_refs.get("mobility.outgoing_rate_group"),
        "mobility.outgoing_rate_group": ctx.table_refs.get("mobility.outgoing_rate_group"),
        "mobility.euroregion": refs.get("mobility.euroregion"),
        "models.intends_abroad": refs.get("models.intends_abroad"),
        "survey.dual_degree": refs.get("survey.dual_degree"),
        "survey.experience": refs.get("survey.experience"),
    }
    findings = key_findings(results, lang, {k: v for k, v in fref.items() if v})
    sections["summary"] = (
        [{"type": "findings", "entries": findings}] if findings else [_para(L["findings"]["none"])]
    ) + [_para(line) for line in _drop_absent_parts(ctx, sections)]

    out_sections = []
    for i, key in enumerate(k for k in SECTION_ORDER if k in sections):
        blocks = sections[key] or [_para(ctx.t("no_tables"))]
        out_sections.append(
            {
                "key": key,
                "id": "sec-" + key.replace("_", "-"),
                "number": i + 1,
                "title": L["sections"][key],
                "blocks": blocks,
            }
        )
    waves = ", ".join(str(w) for w in st.get("waves") or []) or DASH
    return {
        "lang": lang,
        "title": title,
        "synthetic": bool(st.get("synthetic")),
        "status": ctx.t("status_provisional")
        if st.get("provisional", True)
        else ctx.t("status_final"),
        "meta": [
            (ctx.t("study_waves"), waves),
            (ctx.t("population"), ctx.t("population_text")),
            (ctx.t("data_cutoff"), fmt_date(st.get("data_cutoff", DASH), lang)),
        ]
        + ([(ctx.t("fieldwork"), str(st["fieldwork"]))] if st.get("fieldwork") else []),
        "run_identity": run_identity_items(results, run_identity, lang),
        "run_identity_begin": Markup(RUN_IDENTITY_BEGIN),
        "run_identity_end": Markup(RUN_IDENTITY_END),
        "sections": out_sections,
        "L": L["text"],
        "n_tables": len(ctx.tables),
        "n_figures": len(ctx.figures),
        "table_ids": [t["table_id"] for t in ctx.tables],
    }
