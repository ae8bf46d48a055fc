"""What a reader can compute from the published figures: linear relations and interval attack.

Every figure published from a table is, on a suitable scale, a linear function of the counts
behind it. This module writes those relations down and solves, for every suppressed figure,
the smallest and largest value it can take given everything that is shown
(``scipy.optimize.linprog``). Disclosure control (:mod:`analysis.disclosure`) uses it to pick
secondary suppressions; the tests use it as the attacker.

**Scale.** Each figure becomes a variable ``t`` on an additive scale:

- a count: ``t = count``;
- a proportion/share/rate of a base: ``t = estimate x B`` where ``B`` is the base on the scale
  the estimate was computed (the unweighted base ``n``, or the sum of the weights over the base
  for a weighted estimate, :attr:`Estimate.weight_base`). For an unweighted estimate ``t`` is the
  number of persons in the cell; for a weighted one, ``t x n / B`` is the attacker's reading of
  it in persons;
- a mean: ``t = mean x B`` (the (weighted) sum of the answers), a total: ``t = total``.

**Relations** (each an equality among variables, bases being known constants):

1. *partition*: the levels of a categorical variable in one domain (Likert levels, destination
   countries or regions, activities) add up to the base ``B``;
2. *grouped levels*: a level ``"4+5"`` (top-2 box) is the sum of the levels it names;
3. *mean of levels*: the mean of a variable whose levels are published in the same domain is
   ``sum(level x t_level)`` (the mean x n constraint);
4. *margins*: cells that differ only in one domain dimension (schools, genders, years, waves)
   add up to the cell without that dimension (the margin), up to a remainder ``r`` for
   units in no listed domain (``0 <= r <= B_margin - sum B``; unbounded for counts). The cell
   ``rest_of_group`` is the margin minus the other listed unit (``group = focus + rest``);
5. *regions*: a destination region's participants are the sum of its countries' (built-in
   country table; used only where the published figures agree with it);
6. *twins*: the same figure published twice (an outgoing rate x enrolment and the count of
   participants of that school and year; the Euroregion share in two tables) is one variable.

Bounds: counts, totals and sums are ``>= 0``; a proportion or share lies in ``[0, B]``; a
Likert mean in ``[min level, max level] x B``. Shown figures are fixed to their published value
within ``rounding x B`` (``rounding`` = half the last published digit of a proportion; the JSON,
CSV and XLSX outputs publish full precision, so the default is a float tolerance).

**What the attacker does not use** (documented in docs/disclosure.md): standard errors,
confidence intervals and design effects of shown figures (non-linear in the counts: a mean's SE
carries the second moment of the distribution, which is why a mean is hidden with any level of
its distribution), model coefficients, and integrality of counts. Differences of two published
cells are hidden with either cell by :mod:`analysis.disclosure` rather than modelled here.
"""

from __future__ import annotations

import csv
import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

from analysis.results import Estimate

SHARE_STATISTICS = frozenset({"proportion", "share"})
ADDITIVE_STATISTICS = frozenset({"count", "proportion", "share", "rate", "mean", "total"})
"""Statistics that take part in the relations (others are protected by the base rule only)."""
COUNT_LIKE = frozenset({"count", "proportion", "share", "rate"})
NON_PARTITION_TABLES = frozenset({"survey.destinations", "mobility.duration", "mobility.funding"})
"""Tables whose levels do not add up to the base (multi-select options, nested thresholds)."""
EXACT_PARTITION_TABLES = frozenset(
    {"survey.dual_degree", "survey.barriers", "mobility.destinations"}
)
"""Tables whose levels cover the whole base (fixed Likert levels; destinations over known ones)."""
TOTAL_VALUES = frozenset({"group", "all", "total"})
REST_VALUE = "rest_of_group"
FOCUS = "imt_nord_europe"  # the unit the rest_of_group cells are the complement of
EXEMPT_TABLE_PREFIXES = ("sample.", "weighting.")
_TWIN_CONCEPTS = {
    ("rate", "outgoing_rate"): ("participants", None),
    ("count", "participants"): ("participants", None),
    ("count", "mobilities"): ("mobilities", None),
    ("share", "euroregion"): ("region", "euroregion"),
}


@dataclass(frozen=True)
class Interval:
    """Feasible values of a suppressed figure on its additive scale and in persons."""

    key: str
    low: float
    high: float
    persons_per_unit: float  # n / B: converts the additive scale into persons
    need: float  # width (in persons) the figure must keep

    @property
    def width_persons(self) -> float:
        if math.isinf(self.high) or math.isinf(self.low):
            return math.inf
        return (self.high - self.low) * self.persons_per_unit

    @property
    def protected(self) -> bool:
        return self.width_persons >= self.need - 1e-6


@dataclass
class _Var:
    cells: list[Estimate]
    value: float | None  # value on the additive scale (None: not known from any cell)
    base: float | None  # B
    n: float | None  # persons base
    lo: float
    hi: float


def concept(e: Estimate) -> tuple[str, str | None]:
    """What the figure counts, independently of the table that publishes it."""
    twin = _TWIN_CONCEPTS.get((e.statistic, e.variable))
    if twin is not None:
        return twin
    if e.statistic in ("mean", "total"):
        return (e.variable, f"__{e.statistic}")
    return (e.variable, e.level)


def cell_domain(e: Estimate) -> tuple[tuple[str, str], ...]:
    """The domain without a dimension that repeats the level (country=BE with level BE)."""
    if e.level is None:
        return e.domain
    return tuple((k, v) for k, v in e.domain if v != e.level)


def in_scope(e: Estimate) -> bool:
    return e.statistic in ADDITIVE_STATISTICS and not e.table.startswith(EXEMPT_TABLE_PREFIXES)


def scale_base(e: Estimate) -> float | None:
    """``B``: the base on the scale the estimate was computed (weights sum or n)."""
    if e.statistic == "count" or e.statistic == "total":
        return 1.0
    if e.weight_base is not None and e.weighted:
        return float(e.weight_base)
    return None if e.n_unweighted is None else float(e.n_unweighted)


class PublishedSystem:
    """The variables and linear relations of a set of figures (published or about to be).

    ``estimates`` carry their values; ``hidden`` names the keys a reader does not see. When an
    estimate's base is missing (a hidden cell read back from results.json), the base of a shown
    cell of the same table, variable and domain is used.
    """

    def __init__(self, estimates: Iterable[Estimate], hidden: Iterable[str] = ()) -> None:
        self.hidden = set(hidden)
        cells = [e for e in estimates if in_scope(e)]
        self._fill_bases(cells)
        self.vars: dict[tuple, _Var] = {}
        self.var_of: dict[str, tuple] = {}
        for e in cells:
            vid = (concept(e), cell_domain(e))
            if e.statistic in ("mean", "total"):
                vid = (*vid, e.table)
            v = self.vars.get(vid)
            if v is None:
                v = self.vars[vid] = _Var([], None, None, None, 0.0, math.inf)
                self._bounds(v, e)
            v.cells.append(e)
            self.var_of[e.key] = vid
        for v in self.vars.values():
            known = [c for c in v.cells if c.estimate is not None]
            if known:
                v.value = self._t(known[0])
        self._memo: dict[tuple, tuple[float, float]] = {}  # the LP depends on its unknowns only
        self.relations: list[tuple[dict[tuple, float], float, float, float]] = []
        """(coefficients, rhs, remainder low, remainder high): sum(c x) + r = rhs."""
        self._partition_and_levels()
        self._margins()
        self._regions()

    # ------------------------------------------------------------------ cells
    def _fill_bases(self, cells: list[Estimate]) -> None:
        sibling: dict[tuple, tuple[float | None, float | None]] = {}
        for e in cells:
            if e.n_unweighted is not None:
                k = (e.table, e.variable, cell_domain(e))
                sibling.setdefault(k, (float(e.n_unweighted), e.weight_base))
        self._sibling = sibling

    def _base_and_n(self, e: Estimate) -> tuple[float | None, float | None]:
        b = scale_base(e)
        n = None if e.n_unweighted is None else float(e.n_unweighted)
        if e.statistic in ("count", "total"):
            return 1.0, None
        if b is None or n is None:
            sn, sw = self._sibling.get((e.table, e.variable, cell_domain(e)), (None, None))
            n = n if n is not None else sn
            if b is None:
                b = float(sw) if (e.weighted and sw is not None) else n
        return b, n

    def _bounds(self, v: _Var, e: Estimate) -> None:
        b, n = self._base_and_n(e)
        v.base, v.n = b, n
        if e.statistic in SHARE_STATISTICS and b is not None:
            v.hi = b
        elif e.statistic == "mean" and b is not None and _likert_levels(e) is not None:
            v.lo, v.hi = 1.0 * b, 5.0 * b

    def _t(self, e: Estimate) -> float | None:
        if e.estimate is None:
            return None
        if e.statistic in ("count", "total"):
            return float(e.estimate)
        b, _ = self._base_and_n(e)
        return None if b is None else float(e.estimate) * b

    # ------------------------------------------------------------------ relations
    def _partition_and_levels(self) -> None:
        groups: dict[tuple, dict[str, tuple]] = defaultdict(dict)
        means: dict[tuple, tuple] = {}
        for vid, v in self.vars.items():
            e = v.cells[0]
            if e.statistic in SHARE_STATISTICS and e.level is not None:
                groups[(e.table, e.statistic, e.variable, cell_domain(e))][e.level] = vid
            elif e.statistic == "mean":
                means[(e.table, e.variable, cell_domain(e))] = vid
        for (table, _stat, var, dom), levels in groups.items():
            plain = {lv: vid for lv, vid in levels.items() if "+" not in lv}
            base = self.vars[next(iter(levels.values()))].base
            if base is None:
                continue
            if table not in NON_PARTITION_TABLES and len(plain) >= 2:
                # sum(levels) + r = base, r = the base's units in no published level (none for
                # Likert items and destinations; activities outside the list otherwise): exact
                # when every level's value is known, else anywhere in [0, base]
                vals = [self.vars[vid].value for vid in plain.values()]
                if table in EXACT_PARTITION_TABLES:
                    r_lo = r_hi = 0.0
                elif None in vals:
                    r_lo, r_hi = 0.0, base
                else:
                    r_lo = r_hi = max(0.0, base - sum(vals))  # type: ignore[arg-type]
                self.relations.append(({vid: 1.0 for vid in plain.values()}, base, r_lo, r_hi))
            for lv, vid in levels.items():
                if "+" in lv:
                    parts = lv.split("+")
                    if all(p in plain for p in parts):
                        coefs = {plain[p]: 1.0 for p in parts}
                        coefs[vid] = -1.0
                        self.relations.append((coefs, 0.0, 0.0, 0.0))
            mvid = means.get((table, var, dom))
            numeric = {lv: vid for lv, vid in plain.items() if _is_number(lv)}
            if mvid is not None and numeric and len(numeric) == len(plain):
                coefs = {vid: float(lv) for lv, vid in numeric.items()}
                coefs[mvid] = -1.0
                self.relations.append((coefs, 0.0, 0.0, 0.0))

    def _margins(self) -> None:
        lines: dict[tuple, dict[str, tuple]] = defaultdict(dict)
        for vid, v in self.vars.items():
            e = v.cells[0]
            dom = cell_domain(e)
            for dim, value in dom:
                if value in TOTAL_VALUES:
                    continue
                rest = tuple((k, x) for k, x in dom if k != dim)
                lines[(vid[0], dim, rest, vid[2:])][value] = vid
        for (conc, dim, rest, extra), members in lines.items():
            mvid: tuple | None = (conc, rest, *extra)
            if mvid not in self.vars:
                mvid = (conc, tuple(sorted((*rest, (dim, "group")))), *extra)
            if mvid not in self.vars:
                continue
            # only units published with the margin's own statistic add up to it (a school
            # with outgoing students but no enrolment is in no outgoing rate of the group)
            stats = {c.statistic for c in self.vars[mvid].cells}
            members = {
                u: vid
                for u, vid in members.items()
                if stats & {c.statistic for c in self.vars[vid].cells}
            }
            rest_vid = members.pop(REST_VALUE, None)
            if rest_vid is not None and FOCUS in members:
                self._add_sum(mvid, [rest_vid, members[FOCUS]])  # group = focus + rest
            if members:
                self._add_sum(mvid, list(members.values()))

    def _regions(self) -> None:
        """A region's participants are the sum of its countries' (same unit), when the
        published figures agree with the country table (a study may bring its own table)."""
        region_of = _country_regions()
        by_dom: dict[tuple, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
        regions: dict[tuple, dict[str, tuple]] = defaultdict(dict)
        for vid, v in self.vars.items():
            (var, level), dom = vid[0], vid[1]
            if level is None or v.cells[0].statistic not in SHARE_STATISTICS:
                continue
            if var == "country" and level in region_of:
                by_dom[dom][region_of[level]].append(vid)
            elif var == "region":
                regions[dom][level] = vid
        for dom, countries in by_dom.items():
            for region, parts in countries.items():
                rvid = regions[dom].get(region)
                if rvid is None:
                    continue
                vals = [self.vars[x].value for x in (rvid, *parts)]
                if None not in vals:
                    total = float(vals[0])  # type: ignore[arg-type]
                    if abs(sum(vals[1:]) - total) > 1e-6 * (1.0 + abs(total)):  # type: ignore[arg-type]
                        continue
                self._add_sum(rvid, parts, exact=True)

    def _add_sum(self, margin: tuple, parts: list[tuple], exact: bool = False) -> None:
        """``margin = sum(parts) + r``; r: units in no listed domain (see module docstring)."""
        m = self.vars[margin]
        cells = [c for vid in (margin, *parts) for c in self.vars[vid].cells]
        if any(c.weighted and c.weight_base is None for c in cells):
            return  # weighted shares read back without their weight sums: no exact margin
        coefs: dict[tuple, float] = {vid: 1.0 for vid in parts}
        coefs[margin] = coefs.get(margin, 0.0) - 1.0
        bases = [self.vars[p].base for p in parts]
        stat = m.cells[0].statistic
        r_lo, r_hi = 0.0, 0.0 if exact else math.inf
        if exact:
            pass
        elif stat not in ("count", "total", "rate") and m.base is not None and None not in bases:
            spare = max(0.0, m.base - sum(b for b in bases if b is not None))
            if stat in SHARE_STATISTICS:
                r_hi = spare
            elif _likert_levels(m.cells[0]):
                r_lo, r_hi = 1.0 * spare, 5.0 * spare
            elif spare <= 1e-9 * m.base:
                r_hi = 0.0  # a mean whose domains cover the margin's base: no remainder
        # sum(parts) - margin + r = 0
        self.relations.append((coefs, 0.0, r_lo, r_hi))

    # ------------------------------------------------------------------ attack
    def intervals(
        self,
        min_count: int,
        keys: Iterable[str] | None = None,
        rounding: float = 0.0,
        hidden: Iterable[str] | None = None,
    ) -> dict[str, Interval]:
        """Min and max of every hidden figure (or of ``keys``) given everything shown.

        ``hidden`` replaces the hidden keys of the system (a trial suppression)."""
        if hidden is not None:
            saved = self.hidden
            self.hidden = set(hidden)
            try:
                return self.intervals(min_count, keys, rounding)
            finally:
                self.hidden = saved
        hidden_vids = {self.var_of[k] for k in self.hidden if k in self.var_of}
        targets = (
            hidden_vids if keys is None else {self.var_of[k] for k in keys if k in self.var_of}
        )
        unknown = self.unknown()
        out: dict[str, Interval] = {}
        for vid in targets - unknown:  # a hidden figure published elsewhere (a twin)
            val = self.vars[vid].value
            out.update(self._interval(vid, val, val, min_count))  # type: ignore[arg-type]
        comps = _components(self.relations, unknown)
        for comp in comps:
            wanted = [vid for vid in comp if vid in targets]
            if wanted:
                for vid, (lo, hi) in self._solve(comp, wanted, rounding).items():
                    out.update(self._interval(vid, lo, hi, min_count))
        return out

    def _interval(self, vid: tuple, lo: float, hi: float, min_count: int) -> dict[str, Interval]:
        v = self.vars[vid]
        ppu = (v.n / v.base) if (v.n and v.base) else 1.0
        return {
            c.key: Interval(c.key, lo, hi, ppu, self._need(c, v, min_count))
            for c in v.cells
            if c.key in self.hidden
        }

    def unknown(self) -> set[tuple]:
        """Variables a reader does not see: every cell hidden, or no value at all."""
        return {
            vid
            for vid, v in self.vars.items()
            if v.value is None or all(c.key in self.hidden for c in v.cells)
        }

    def _need(self, e: Estimate, v: _Var, min_count: int) -> float:
        """Width the figure must keep: ``min_count`` persons (or answer points of a sum),
        capped by what its base allows a priori (n persons; 4 points per Likert answer)."""
        if e.statistic in COUNT_LIKE and v.n is not None and e.statistic != "rate":
            return float(min(min_count, v.n))
        if e.statistic == "mean" and v.n is not None and _likert_levels(e):
            return float(min(min_count, 4.0 * v.n))
        return float(min_count)

    def _solve(
        self, comp: list[tuple], wanted: list[tuple], rounding: float
    ) -> dict[tuple, tuple[float, float]]:
        try:
            return self._solve_with(comp, wanted, rounding, 1e-9)
        except ValueError:  # float error beyond 1e-9 in a big weighted sum: one retry
            return self._solve_with(comp, wanted, rounding, 1e-6)

    def _solve_with(
        self, comp: list[tuple], wanted: list[tuple], rounding: float, rel_tol: float
    ) -> dict[tuple, tuple[float, float]]:
        if all((frozenset(comp), vid, rounding) in self._memo for vid in wanted):
            return {vid: self._memo[(frozenset(comp), vid, rounding)] for vid in wanted}
        idx = {vid: i for i, vid in enumerate(comp)}
        rels = [r for r in self.relations if any(vid in idx for vid in r[0])]
        nvar = len(comp) + len(rels)  # one remainder per relation
        bounds = [(self.vars[vid].lo, _inf(self.vars[vid].hi)) for vid in comp]
        a_eq, b_eq = [], []
        for j, (coefs, rhs, r_lo, r_hi) in enumerate(rels):
            row = np.zeros(nvar)
            const, scale = 0.0, abs(rhs) + 1.0
            for vid, c in coefs.items():
                if vid in idx:
                    row[idx[vid]] += c
                else:
                    val = self._fixed(vid)
                    const += c * val
                    scale += abs(c * val)
            # sum(c x) + r = rhs, the remainder r absorbing float error and rounding
            row[len(comp) + j] = 1.0
            tol = rel_tol * scale
            for vid in coefs:  # rounding of a shown figure widens the relation
                if vid not in idx and rounding:
                    tol += abs(coefs[vid]) * rounding * (self.vars[vid].base or 0.0)
            bounds.append((r_lo - tol, _inf(r_hi + tol)))
            a_eq.append(row)
            b_eq.append(rhs - const)
        a = np.array(a_eq) if a_eq else None
        b = np.array(b_eq) if b_eq else None
        out = {}
        for vid in wanted:
            memo = (frozenset(comp), vid, rounding)
            if memo in self._memo:
                out[vid] = self._memo[memo]
                continue
            c = np.zeros(nvar)
            c[idx[vid]] = 1.0
            low, high = _optimum(c, a, b, bounds), -_optimum(-c, a, b, bounds)
            if math.isnan(low) or math.isnan(high):
                raise ValueError(
                    f"disclosure attack: the published figures around {vid} are inconsistent"
                )
            out[vid] = self._memo[memo] = (float(low), float(high))
        return out

    def _fixed(self, vid: tuple) -> float:
        v = self.vars[vid]
        if v.value is None:
            raise ValueError(f"disclosure attack: no value for {vid}")
        return v.value


def _optimum(c: np.ndarray, a, b, bounds) -> float:
    """min c.x (``-inf`` when unbounded, ``nan`` when infeasible); HiGHS presolve is retried
    off when it cannot tell infeasible from unbounded."""
    for presolve in (True, False):
        r = linprog(
            c, A_eq=a, b_eq=b, bounds=bounds, method="highs", options={"presolve": presolve}
        )
        if r.status == 0:
            return float(r.fun)
        if r.status == 3:
            return -math.inf
    return math.nan


def _inf(x: float) -> float | None:
    return None if math.isinf(x) else x


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


@functools.cache
def _country_regions() -> dict[str, str]:
    """ISO alpha-2 code -> region, from the built-in country table."""
    path = Path(__file__).resolve().parent / "tables" / "countries.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {r["alpha2"]: r["region"] for r in csv.DictReader(f) if r.get("region")}


def _likert_levels(e: Estimate) -> bool | None:
    return True if e.table in ("survey.dual_degree", "survey.barriers") else None


def _components(
    relations: list[tuple[dict[tuple, float], float, float, float]], hidden: set[tuple]
) -> list[list[tuple]]:
    """Hidden variables linked by relations (shown ones are constants and do not link)."""
    parent = {vid: vid for vid in hidden}

    def find(x: tuple) -> tuple:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for coefs, *_ in relations:
        hv = [vid for vid in coefs if vid in parent]
        for a, b in zip(hv, hv[1:], strict=False):
            parent[find(a)] = find(b)
    comps: dict[tuple, list[tuple]] = defaultdict(list)
    for vid in hidden:
        comps[find(vid)].append(vid)
    return [sorted(c, key=repr) for c in comps.values()]


def attack(
    estimates: Iterable[Estimate], min_count: int = 5, rounding: float = 0.0
) -> dict[str, Interval]:
    """The attacker: feasible interval of every suppressed figure of ``estimates``.

    ``estimates`` are the published ones (suppressed cells have ``suppressed`` set and no
    value). Returns one :class:`Interval` per suppressed figure that must stay protected
    (:func:`must_protect`); ``protected`` says
    whether it stays at least ``min_count`` persons wide (or as wide as its base when the base
    is smaller). A figure's unpublished base is taken from a shown cell of its domain.
    """
    ests = list(estimates)
    hidden = [e.key for e in ests if e.suppressed]
    ivs = PublishedSystem(ests, hidden).intervals(min_count, rounding=rounding)
    by_key = {e.key: e for e in ests}
    return {k: iv for k, iv in ivs.items() if must_protect(by_key[k], by_key[k].suppressed)}


def must_protect(e: Estimate, reason: str | None) -> bool:
    """Suppressed figures that must keep a wide interval: the sensitive ones, hidden for
    themselves (a small count, complement or base; free text).

    A complementary (``secondary``) cell is not sensitive: its count and complement are at
    least ``min_count`` and its base at least ``min_base``, so narrowing it discloses no person;
    it is hidden so that the sensitive cells keep their interval, and the attacker's feasible
    region is joint, so whatever can be learnt about it is already accounted for in theirs.
    Requiring ``min_count`` persons of it too would cascade: next to a school of one
    respondent, the other school hidden with it can only vary by that one person, and so on up
    to the group figures (seen on the corpus's separation shape)."""
    return reason not in (None, "secondary")


def estimates_from_results_json(d: Mapping) -> list[Estimate]:
    """Estimates read back from ``results.json`` (what any reader of the outputs has)."""
    out = []
    fields = set(Estimate.__dataclass_fields__)
    for e in d["estimates"]:
        kw = {k: v for k, v in e.items() if k in fields}
        kw["domain"] = tuple(sorted((k, str(v)) for k, v in (e.get("domain") or {}).items()))
        out.append(Estimate(**kw))
    return out
