"""Statistical disclosure control of a :class:`ResultSet` (small-cell suppression).

What it applies to (and why):

- **Counts of persons** (``statistic == "count"``: respondents, outgoing students): a cell
  with ``0 < count < min_count`` is suppressed (primary, reason ``count``). Zero cells are
  shown: they are structural in mobility tables (no student went there) and suppressing
  them would hide most of a destinations table without protecting anyone.
- **Proportions of persons** (``proportion``, ``share``, ``rate``): the cell count is
  ``round(estimate * n_unweighted)`` (for weighted estimates this is the approximate
  unweighted count). Suppressed when the base ``n_unweighted < min_base`` (reason ``base``)
  or when ``0 < count < min_count`` (reason ``count``).
- **Every other statistic with an unweighted base** (means, differences, odds ratios,
  amounts in euros...): suppressed when ``n_unweighted < min_base`` (reason ``base``): a mean
  of fewer than ``min_base`` people is too close to their individual answers.
- **Free-text variables** (``comment``) never become estimates; one that does is suppressed
  (reason ``free_text``).
- **Exempt**: tables describing the survey design rather than people's answers or
  mobility, ``sample.*`` (response rates: the count of respondents per school is public
  fieldwork information) and ``weighting.*`` (weight diagnostics).

Secondary suppression (reason ``secondary``): counts and proportions form *lines*, i.e.
cells of one (statistic, variable, level) that differ in a single domain dimension, plus the
margin over that dimension when it is published (a domain without the dimension, or with the
value ``group``/``all``/``total``); and the levels of one categorical variable in one domain
(which add up to the base). A line with exactly one suppressed cell would let a reader
recover it by subtraction, so the smallest other cell of the line is suppressed too, until no
line has exactly one. The lines are formed across all tables of the ResultSet, so a margin in
another table (``mobility.trend`` for ``mobility.counts``) is covered. The differencing check
recounts the lines afterwards and reports any that still have exactly one suppressed cell
(possible only when there is nothing left to suppress in the line).

Suppressed estimates keep their key, table, statistic, domain and level, and lose every
number (estimate, se, CI, unweighted base, p-values) and their ``base`` text (which may
quote the numerator): the outputs never carry the hidden value.
Pure pandas/python: no IO.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from analysis.results import Estimate, ResultSet, ResultTable

COUNT_STATISTICS = frozenset({"count"})
PROPORTION_STATISTICS = frozenset({"proportion", "share", "rate"})
EXEMPT_TABLE_PREFIXES = ("sample.", "weighting.")
FREE_TEXT_VARIABLES = frozenset({"comment"})
TOTAL_VALUES = frozenset({"group", "all", "total"})

REASON_COUNT = "count"
REASON_BASE = "base"
REASON_SECONDARY = "secondary"
REASON_FREE_TEXT = "free_text"


def _exempt(e: Estimate) -> bool:
    return e.table.startswith(EXEMPT_TABLE_PREFIXES)


def _protected(e: Estimate) -> bool:
    """Cells that add up to margins: counts and proportions of persons."""
    return not _exempt(e) and e.statistic in COUNT_STATISTICS | PROPORTION_STATISTICS


def cell_count(e: Estimate) -> float | None:
    """The number of persons in the cell: the count itself, or proportion x unweighted base."""
    if e.estimate is None:
        return None
    if e.statistic in COUNT_STATISTICS:
        return float(e.estimate)
    if e.statistic in PROPORTION_STATISTICS and e.n_unweighted is not None:
        return float(round(e.estimate * e.n_unweighted))
    return None


def primary_reason(e: Estimate, min_count: int, min_base: int) -> str | None:
    """Why the cell must be hidden on its own (``None``: it may be shown)."""
    if e.variable in FREE_TEXT_VARIABLES:
        return REASON_FREE_TEXT
    if _exempt(e) or e.estimate is None:
        return None
    if e.statistic in COUNT_STATISTICS:
        return REASON_COUNT if 0 < e.estimate < min_count else None
    if e.n_unweighted is not None and e.n_unweighted < min_base:
        return REASON_BASE
    if e.statistic in PROPORTION_STATISTICS:
        c = cell_count(e)
        if c is not None and 0 < c < min_count:
            return REASON_COUNT
    return None


def _lines(estimates: Iterable[Estimate]) -> list[list[Estimate]]:
    """Groups of cells linked by an additive margin (see the module docstring)."""
    by_domain: dict[tuple, Estimate] = {}
    cells = [e for e in estimates if _protected(e)]
    for e in cells:
        by_domain[(e.statistic, e.variable, e.level, e.domain)] = e
    lines: dict[tuple, list[Estimate]] = defaultdict(list)
    for e in cells:
        dom = dict(e.domain)
        for dim, value in dom.items():
            if value in TOTAL_VALUES:
                continue
            rest = tuple((k, v) for k, v in e.domain if k != dim)
            lines[("dim", e.statistic, e.variable, e.level, dim, rest)].append(e)
        if e.level is not None:
            # a level repeated in the domain (country "BE" with domain country=BE) would make
            # every category its own line: leave that dimension out of the line key
            same = tuple((k, v) for k, v in e.domain if v != e.level)
            lines[("level", e.statistic, e.variable, same)].append(e)
    out = []
    for key, members in lines.items():
        if key[0] == "dim":
            _, stat, var, level, dim, rest = key
            totals = [by_domain.get((stat, var, level, rest))]
            totals += [
                by_domain.get((stat, var, level, tuple(sorted((*rest, (dim, v))))))
                for v in sorted(TOTAL_VALUES)
            ]
            members = members + [t for t in totals if t is not None and t not in members]
        if len(members) > 1:
            out.append(sorted(members, key=lambda x: x.key))
    return out


def _secondary(
    estimates: list[Estimate], hidden: dict[str, str]
) -> tuple[dict[str, str], list[list[Estimate]]]:
    lines = _lines(estimates)
    changed = True
    while changed:
        changed = False
        for line in lines:
            sup = [e for e in line if e.key in hidden]
            if len(sup) != 1:
                continue
            candidates = [e for e in line if e.key not in hidden and e.estimate is not None]
            if not candidates:
                continue
            # Smallest cell first (least information lost); margins last; key breaks ties.
            is_total = {
                e.key: any(v in TOTAL_VALUES for _, v in e.domain)
                or len(e.domain) < len(sup[0].domain)
                for e in candidates
            }
            pick = min(
                candidates,
                key=lambda e: (is_total[e.key], cell_count(e) or 0.0, e.key),
            )
            hidden[pick.key] = REASON_SECONDARY
            changed = True
    return hidden, lines


def _hide(e: Estimate, reason: str) -> Estimate:
    return replace(
        e,
        estimate=None,
        se=None,
        ci_low=None,
        ci_high=None,
        n_unweighted=None,
        df=None,
        deff=None,
        p_value=None,
        p_adjusted=None,
        base="",  # a base text may carry the hidden numerator ("... participants (3)")
        suppressed=reason,
    )


def apply_disclosure_control(
    results: ResultSet, min_count: int = 5, min_base: int = 10
) -> tuple[ResultSet, dict[str, Any]]:
    """Suppress small cells (primary and secondary) and say what was done.

    Returns the new ResultSet (the input is not modified) and a report: thresholds, what the
    rule applies to, the number of suppressed cells by reason and by table, and the result of
    the differencing check (lines that still have exactly one suppressed cell).
    """
    for name, v in (("min_count", min_count), ("min_base", min_base)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"disclosure control: {name} must be an integer >= 1, got {v!r}")
    estimates = list(results.estimates())
    hidden: dict[str, str] = {}
    for e in estimates:
        if e.suppressed:  # already hidden upstream: keep the reason
            hidden[e.key] = e.suppressed
            continue
        r = primary_reason(e, min_count, min_base)
        if r is not None:
            hidden[e.key] = r
    primary = dict(hidden)
    hidden, lines = _secondary(estimates, hidden)

    tables = []
    by_table: dict[str, dict[str, int]] = {}
    for t in results.tables:
        new = tuple(
            _hide(e, hidden[e.key]) if e.key in hidden and e.estimate is not None else e
            for e in t.estimates
        )
        counts = Counter(hidden[e.key] for e in t.estimates if e.key in hidden)
        if counts:
            by_table[t.id] = {
                "primary": sum(v for k, v in counts.items() if k != REASON_SECONDARY),
                "secondary": counts.get(REASON_SECONDARY, 0),
            }
        tables.append(ResultTable(t.id, t.section, new, t.dims, t.notes))

    unprotected = [line[0].key for line in lines if sum(1 for e in line if e.key in hidden) == 1]
    reasons = Counter(hidden.values())
    report: dict[str, Any] = {
        "min_count": min_count,
        "min_base": min_base,
        "applies_to": {
            "count": sorted(COUNT_STATISTICS),
            "proportion": sorted(PROPORTION_STATISTICS),
            "base_only": "every other statistic with an unweighted base",
            "exempt_tables": [p + "*" for p in EXEMPT_TABLE_PREFIXES],
        },
        "cells_checked": len(estimates),
        "primary_count": reasons.get(REASON_COUNT, 0),
        "primary_base": reasons.get(REASON_BASE, 0),
        "free_text": reasons.get(REASON_FREE_TEXT, 0),
        "primary": len(primary),
        "secondary": reasons.get(REASON_SECONDARY, 0),
        "suppressed": len(hidden),
        "by_table": dict(sorted(by_table.items())),
        "differencing_check": {
            "lines": len(lines),
            "unprotected": len(unprotected),
            "unprotected_examples": sorted(unprotected)[:10],
            "passed": not unprotected,
        },
    }
    return replace(results, tables=tuple(tables)), report
