"""Statistical disclosure control of a :class:`ResultSet` (small-cell suppression).

The rules (docs/disclosure.md explains them with examples):

- **Counts are unweighted respondent counts.** A proportion's cell count is the number of
  respondents behind it (:attr:`Estimate.n_cell`, computed from the responses and never
  published), not ``weighted share x n``; for unweighted figures (mobility records) it is
  ``round(estimate x n)``.
- **Primary suppression**, for counts and proportions of persons (``count``, ``proportion``,
  ``share``, ``rate``): a cell with count ``c`` and unweighted base ``n`` is sensitive when
  ``0 < c < min_count`` (reason ``count``) or ``0 < n - c < min_count`` (reason
  ``complement``: 11 of 12 answering yes reveals the one no). Zero cells are shown (structural
  in mobility tables). Every statistic with a base ``n < min_base`` is suppressed (reason
  ``base``): a mean of fewer than ``min_base`` people is too close to their answers.
- **Free text** never becomes an estimate; one that does is suppressed (``free_text``).
- **Exempt**: ``sample.*`` (response counts per school are public fieldwork information) and
  ``weighting.*`` (weight diagnostics) describe the design, not people's answers.

**Secondary suppression** (reason ``secondary``) treats every published figure as a linear
constraint on the counts (:mod:`analysis.disclosure_attack`: partitions, top-2 boxes, means x n,
margins over schools/genders/years/waves, the same figure in two tables) and repeats, until
every suppressed count-like figure keeps a feasible interval at least ``min_count`` persons
wide (or as wide as its base when that is smaller) and every primary-suppressed figure too:

1. *closure rules*: a figure published twice is hidden in both places; the mean of a variable
   is hidden with any level of its distribution in that domain (the mean x n and its SE, which
   carries the second moment, would pin the levels down); a difference is hidden with either
   of the cells it compares;
2. the attacker (``linprog``) gives each suppressed figure its interval; for the first one that
   is too narrow, the shown figures linked to it by a relation are tried one at a time, cheapest
   first (fewest respondents; margins and means last), and the first that widens its interval is
   hidden; if none does alone, pairs of the cheapest ten are tried; failing that, the cheapest.

Smallest cells go first, so a big cell (63 students to the United Kingdom) is never hidden when
a small one (6 to Sweden) does the job. The report's ``differencing_check`` is the attacker's
verdict on the final table: the number of relations checked and the suppressed figures whose
interval is still too narrow (possible only when nothing is left to hide).

Suppressed estimates keep their key, table, statistic, domain and level, and lose every number
(estimate, se, CI, unweighted base, p-values) and their ``base`` text (which may quote the
numerator). The unweighted cell counts are cleared from every estimate on the way out.
Pure python/scipy: no IO.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import replace
from typing import Any

from analysis.disclosure_attack import (
    EXEMPT_TABLE_PREFIXES,
    TOTAL_VALUES,
    PublishedSystem,
    cell_domain,
    must_protect,
)
from analysis.results import Estimate, ResultSet, ResultTable

COUNT_STATISTICS = frozenset({"count"})
PROPORTION_STATISTICS = frozenset({"proportion", "share", "rate"})
FREE_TEXT_VARIABLES = frozenset({"comment"})

REASON_COUNT = "count"
REASON_COMPLEMENT = "complement"
REASON_BASE = "base"
REASON_SECONDARY = "secondary"
REASON_FREE_TEXT = "free_text"
_PAIR_POOL = 8
_SINGLE_POOL = 30
_PATIENCE = 12
_PIN_ROUNDS = 6


def _exempt(e: Estimate) -> bool:
    return e.table.startswith(EXEMPT_TABLE_PREFIXES)


def cell_count(e: Estimate) -> float | None:
    """Unweighted persons in the cell: the count, the respondents behind a proportion
    (``n_cell``), or ``round(proportion x n)`` for an unweighted one."""
    if e.estimate is None:
        return None
    if e.statistic in COUNT_STATISTICS:
        return float(e.estimate)
    if e.statistic in PROPORTION_STATISTICS:
        if e.n_cell is not None:
            return float(e.n_cell)
        if e.n_unweighted is not None:
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
        if c is None:
            return None
        if 0 < c < min_count:
            return REASON_COUNT
        if e.n_unweighted is not None and 0 < e.n_unweighted - c < min_count:
            return REASON_COMPLEMENT
    return None


def _difference_sources(e: Estimate, by_domain: dict[tuple, list[Estimate]]) -> list[Estimate]:
    """The published cells a difference compares (``a_vs_b`` in its domain or key)."""
    out = []
    for dim, value in e.domain:
        label = value if "_vs_" in value else e.key.rsplit(".", 1)[-1]
        if "_vs_" not in label:
            label = f"{value}_vs_rest"
        a, b = label.split("_vs_", 1)
        for unit in (a, b, "rest_of_group" if b == "rest" else None):
            if unit:
                out += by_domain.get((e.variable, ((dim, unit),)), [])
    return out


def _closure(estimates: list[Estimate], system: PublishedSystem, hidden: dict[str, str]) -> bool:
    """Twins, means of hidden levels, differences of hidden cells (module docstring, step 1)."""
    changed = False

    def hide(key: str) -> None:
        nonlocal changed
        if key not in hidden:
            hidden[key] = REASON_SECONDARY
            changed = True

    for v in system.vars.values():
        if any(c.key in hidden for c in v.cells):
            for c in v.cells:
                hide(c.key)
    levels_hidden = {
        (e.table, e.variable, cell_domain(e))
        for e in estimates
        if e.key in hidden and e.statistic in PROPORTION_STATISTICS and e.level is not None
    }
    by_domain: dict[tuple, list[Estimate]] = {}
    for e in estimates:
        if e.statistic in PROPORTION_STATISTICS and e.level is None:
            by_domain.setdefault((e.variable, e.domain), []).append(e)
    for e in estimates:
        if e.statistic == "mean" and (e.table, e.variable, e.domain) in levels_hidden:
            hide(e.key)
        if e.statistic == "difference" and any(
            s.key in hidden for s in _difference_sources(e, by_domain)
        ):
            hide(e.key)
    return changed


def _must_protect(e: Estimate, hidden: dict[str, str]) -> bool:
    return must_protect(e, hidden.get(e.key))


def _cost(system: PublishedSystem, vid: tuple, ref_dims: int) -> tuple:
    """Least information first: fewest respondents; margins and means last; key breaks ties."""
    v = system.vars[vid]
    e = v.cells[0]
    dom = cell_domain(e)
    margin = len(dom) < ref_dims or any(x in TOTAL_VALUES for _, x in dom)
    persons = cell_count(e)
    if persons is None:
        persons = (v.n or math.inf) if e.statistic == "mean" else (v.value or 0.0)
    return (margin, e.statistic == "mean", persons, e.key)


def _component(system: PublishedSystem, vid: tuple) -> tuple[set[tuple], list[dict]]:
    """The unknown variables linked to ``vid`` and the relations that touch them."""
    unknown = system.unknown()
    comp = {vid}
    grow = True
    while grow:
        grow = False
        for coefs, *_ in system.relations:
            if comp & coefs.keys():
                new = {x for x in coefs if x in unknown} - comp
                if new:
                    comp |= new
                    grow = True
    rels = [coefs for coefs, *_ in system.relations if comp & coefs.keys()]
    return comp, rels


def _candidates(system: PublishedSystem, vid: tuple) -> tuple[list[tuple], list[tuple]]:
    """Shown variables in a relation with the unknown component of ``vid`` (cheapest first),
    and the cheapest shown variable of each relation that pins a single unknown."""
    comp, rels = _component(system, vid)
    ref = len(cell_domain(system.vars[vid].cells[0]))

    def cost(x: tuple) -> tuple:
        return _cost(system, x, ref)

    shown = {x for coefs in rels for x in coefs if x not in comp}
    pins = set()
    for coefs in rels:
        if len([x for x in coefs if x in comp]) == 1:
            own = [x for x in coefs if x not in comp]
            if own:
                pins.add(min(own, key=cost))
    return sorted(shown, key=cost), sorted(pins, key=cost)


def _with(
    system: PublishedSystem,
    hidden: dict[str, str],
    extra: tuple[tuple, ...],
    means: dict[tuple, list[str]],
) -> dict[str, str]:
    """``hidden`` plus the variables ``extra``, their twins and the means of their
    distributions (the closure rules that change the linear system)."""
    trial = dict(hidden)
    for vid in extra:
        for c in system.vars[vid].cells:
            trial.setdefault(c.key, REASON_SECONDARY)
            if c.statistic in PROPORTION_STATISTICS and c.level is not None:
                for m in means.get((c.table, c.variable, cell_domain(c)), ()):
                    for t in system.vars[system.var_of[m]].cells:
                        trial.setdefault(t.key, REASON_SECONDARY)
    return trial


def _try(
    system: PublishedSystem,
    hidden: dict[str, str],
    extra: tuple[tuple, ...],
    means: dict[tuple, list[str]],
    key: str,
    min_count: int,
) -> tuple[float, dict[str, str]]:
    """Width of ``key``'s interval (persons) if the variables ``extra`` were hidden too."""
    trial = _with(system, hidden, extra, means)
    iv = system.intervals(min_count, keys=[key], hidden=trial).get(key)
    return (math.inf if iv is None else iv.width_persons), trial


def _pin_closure(
    system: PublishedSystem, hidden: dict[str, str], means: dict[tuple, list[str]], vid: tuple
) -> tuple[tuple, ...]:
    """Hide the cheapest shown figure of every relation that pins a single unknown, again on
    the grown pattern, until none pins one (the rectangle of a two-way table)."""
    saved, extra = system.hidden, []
    try:
        for _ in range(_PIN_ROUNDS):
            system.hidden = set(_with(system, hidden, tuple(extra), means))
            _, pins = _candidates(system, vid)
            if not pins:
                break
            extra += [p for p in pins if p not in extra]
    finally:
        system.hidden = saved
    return tuple(extra)


def _secondary(
    estimates: list[Estimate], hidden: dict[str, str], min_count: int
) -> tuple[dict[str, str], PublishedSystem, list[str]]:
    system = PublishedSystem(estimates, hidden)
    means: dict[tuple, list[str]] = {}
    for e in estimates:
        if e.statistic == "mean" and e.key in system.var_of:
            means.setdefault((e.table, e.variable, e.domain), []).append(e.key)
    given_up: set[str] = set()
    while True:
        while _closure(estimates, system, hidden):
            pass
        system.hidden = set(hidden)
        ivs = system.intervals(min_count)
        by_key = {e.key: e for e in estimates}
        failing = sorted(
            k
            for k, iv in ivs.items()
            if not iv.protected and _must_protect(by_key[k], hidden) and k not in given_up
        )
        if not failing:
            break
        key = failing[0]
        width = ivs[key].width_persons
        cands, pins = _candidates(system, system.var_of[key])
        ref = len(cell_domain(by_key[key]))
        inner = [v for v in cands if not _cost(system, v, ref)[0]]
        attempts: list[tuple[tuple, ...]] = [(v,) for v in inner[:_SINGLE_POOL]]
        if pins:
            attempts.insert(min(len(attempts), _PATIENCE // 2), tuple(pins))
            attempts.insert(
                min(len(attempts), _PATIENCE // 2 + 1),
                _pin_closure(system, hidden, means, system.var_of[key]),
            )
        attempts += list(itertools.combinations(cands[:_PAIR_POOL], 2))
        attempts += [(v,) for v in cands if v not in inner][:_SINGLE_POOL]
        need = ivs[key].need
        chosen = None
        partial: dict[str, str] | None = None
        # the first (cheapest) attempt that protects the cell; after _PATIENCE attempts, the
        # first that widened it will do (the next round goes on from there)
        for i, extra in enumerate(attempts):
            if partial is not None and i >= _PATIENCE:
                break
            w, trial = _try(system, hidden, extra, means, key, min_count)
            if w >= need - 1e-6:
                chosen = trial
                break
            if partial is None and w > width + 0.5:
                partial = trial
        chosen = chosen or partial
        if chosen is None and cands:
            _, chosen = _try(system, hidden, (cands[0],), means, key, min_count)
        if chosen is None:
            given_up.add(key)
            continue
        hidden.clear()
        hidden.update(chosen)
    system.hidden = set(hidden)
    ivs = system.intervals(min_count)
    by_key = {e.key: e for e in estimates}
    unprotected = sorted(
        k for k, iv in ivs.items() if not iv.protected and _must_protect(by_key[k], hidden)
    )
    return hidden, system, unprotected


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
        n_cell=None,
        suppressed=reason,
    )


def apply_disclosure_control(
    results: ResultSet, min_count: int = 5, min_base: int = 10
) -> tuple[ResultSet, dict[str, Any]]:
    """Suppress small cells (primary and secondary) and say what was done.

    Returns the new ResultSet (the input is not modified; unweighted cell counts cleared) and a
    report: thresholds, what the rules apply to, the number of suppressed cells by reason and
    by table, and the attacker's verdict (``differencing_check``: relations checked, suppressed
    figures whose feasible interval is narrower than ``min_count`` persons).
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
    hidden, system, unprotected = _secondary(estimates, hidden, min_count)

    tables = []
    by_table: dict[str, dict[str, int]] = {}
    for t in results.tables:
        new = tuple(
            _hide(e, hidden[e.key])
            if e.key in hidden and e.estimate is not None
            else replace(e, n_cell=None)
            for e in t.estimates
        )
        counts = Counter(hidden[e.key] for e in t.estimates if e.key in hidden)
        if counts:
            by_table[t.id] = {
                "primary": sum(v for k, v in counts.items() if k != REASON_SECONDARY),
                "secondary": counts.get(REASON_SECONDARY, 0),
            }
        tables.append(ResultTable(t.id, t.section, new, t.dims, t.notes))

    reasons = Counter(hidden.values())
    report: dict[str, Any] = {
        "min_count": min_count,
        "min_base": min_base,
        "applies_to": {
            "count": sorted(COUNT_STATISTICS),
            "proportion": sorted(PROPORTION_STATISTICS),
            "base_only": "every other statistic with an unweighted base",
            "exempt_tables": [p + "*" for p in EXEMPT_TABLE_PREFIXES],
            "counts": "unweighted respondents in the cell and in its complement (n - count)",
        },
        "cells_checked": len(estimates),
        "primary_count": reasons.get(REASON_COUNT, 0) + reasons.get(REASON_COMPLEMENT, 0),
        "primary_complement": reasons.get(REASON_COMPLEMENT, 0),
        "primary_base": reasons.get(REASON_BASE, 0),
        "free_text": reasons.get(REASON_FREE_TEXT, 0),
        "primary": len(primary),
        "secondary": reasons.get(REASON_SECONDARY, 0),
        "suppressed": len(hidden),
        "by_table": dict(sorted(by_table.items())),
        "differencing_check": {
            "method": "interval attack: min and max of every suppressed figure subject to "
            "every published figure (linear programming)",
            "lines": len(system.relations),
            "unprotected": len(unprotected),
            "unprotected_examples": unprotected[:10],
            "passed": not unprotected,
        },
    }
    return replace(results, tables=tuple(tables)), report
