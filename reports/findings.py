"""Which sentences the results earn: one function per finding, each returning a structured
:class:`Finding` (a template id and what it quotes) or ``None``.

Every sentence of the summary and of the comparisons section comes from here, so that the
condition under which it is said is written once and can be tested by flipping it. The
report (``reports/viewmodel.py``) only renders a Finding: it looks its template up in
``templates/labels.<lang>.toml`` and fills it with the quoted estimate fields and names.

Conditions (what a survey statistician reviewing the report expects):

* **enough respondents**: an estimate hidden by disclosure control, without a value, or
  whose unweighted base is below the disclosure ``min_base`` earns no sentence at all;
* **a claim of a difference or an association** (higher, lower, "weighs on") needs the
  95% CI to exclude the null value (0 for a difference, 1 for an odds ratio) *and* the
  p-value to be below :data:`ALPHA` (for comparisons the Benjamini-Hochberg adjusted p over
  the report's family of comparisons; a model term, outside that family, its own p); the
  direction is the side of the null the CI lies on;
* otherwise the **neutral** sentence ("no clear difference", "no clear association"), which
  still quotes the estimate and its CI;
* descriptive sentences (a rate, a share, a mean) need only the first condition, and a CI
  when they quote one; "the rate fell during COVID" needs the COVID-year CI to lie entirely
  below the pre-COVID CI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from analysis.results import Estimate, ResultSet

ALPHA = 0.05
DEFAULT_MIN_BASE = 10  # analysis.disclosure.apply_disclosure_control's default
TOTAL_VALUES = frozenset({"group", "all", "total"})
REST_VALUES = frozenset({"rest", "rest_of_group", "others"})
NORD_EUROPE = "imt_nord_europe"
PCT_STATISTICS = frozenset({"proportion", "share", "rate"})
HIGHER, LOWER, UNCLEAR = "higher", "lower", "unclear"


@dataclass(frozen=True)
class Quote:
    """A number quoted from an estimate: ``field`` of the Estimate with key ``key``."""

    key: str
    field: str = "estimate"


@dataclass(frozen=True)
class Name:
    """A name the report writes in its language: a variable (``dim == "variable"``), an
    academic year (``dim == "academic_year"``) or a value of a domain dimension."""

    dim: str
    value: str


@dataclass(frozen=True)
class Finding:
    """One sentence: the id of its template (``[findings]`` or ``[text]`` of the labels),
    the values that fill it, and the tables/figures it may link to (first present wins)."""

    template: str
    values: Mapping[str, Quote | Name] = field(default_factory=dict)
    refs: tuple[str, ...] = ()


# --------------------------------------------------------------------------- conditions
def min_base_of(results: ResultSet) -> int:
    """The disclosure ``min_base`` the run used (the applied one, else the configured one)."""
    d = results.data_quality.get("disclosure") or {}
    if isinstance(d, Mapping) and d.get("min_base") is not None:
        return int(d["min_base"])
    cfg = (results.provenance.get("config") or {}).get("disclosure") or {}
    return int(cfg.get("min_base", DEFAULT_MIN_BASE))


def enough_respondents(e: Estimate, min_base: int) -> bool:
    """Shown, with a value, and resting on at least ``min_base`` respondents."""
    return (
        not e.suppressed
        and e.estimate is not None
        and e.n_unweighted is not None
        and e.n_unweighted >= min_base
    )


def has_ci(e: Estimate) -> bool:
    return e.ci_low is not None and e.ci_high is not None


def evidence(e: Estimate, null: float, p_field: str) -> str:
    """``"higher"`` / ``"lower"`` than ``null`` when the CI excludes it and ``p_field`` is
    below :data:`ALPHA`; ``"unclear"`` otherwise (no p, CI across the null, p too large)."""
    p = getattr(e, p_field)
    if p is None or not has_ci(e) or p >= ALPHA:
        return UNCLEAR
    assert e.ci_low is not None and e.ci_high is not None
    if e.ci_low > null:
        return HIGHER
    if e.ci_high < null:
        return LOWER
    return UNCLEAR


# --------------------------------------------------------------------------- helpers
def _table(results: ResultSet, tid: str) -> list[Estimate]:
    try:
        return list(results.table(tid).estimates)
    except KeyError:
        return []


def _find(
    results: ResultSet, tid: str, min_base: int, pred: Callable[[Estimate], bool]
) -> list[Estimate]:
    return [e for e in _table(results, tid) if enough_respondents(e, min_base) and pred(e)]


def _overall(e: Estimate) -> bool:
    return all(v in TOTAL_VALUES for _, v in e.domain)


def _year(e: Estimate) -> str | None:
    return e.domain_dict().get("academic_year")


def _ci_quotes(e: Estimate, value_name: str) -> dict[str, Quote | Name]:
    return {
        value_name: Quote(e.key),
        "lo": Quote(e.key, "ci_low"),
        "hi": Quote(e.key, "ci_high"),
    }


# --------------------------------------------------------------------------- key findings
def outgoing_rate_finding(
    results: ResultSet, min_base: int, covid_years: Sequence[str]
) -> Finding | None:
    """The group's outgoing rate in the latest year; the COVID fall is added only when the
    lowest COVID-year rate's CI lies entirely below the CI of the year before COVID."""
    group = sorted(
        _find(results, "mobility.outgoing_rate_group", min_base, lambda e: _year(e) is not None),
        key=lambda e: int(_year(e) or 0),
    )
    if not group:
        return None
    last = group[-1]
    by_year = {_year(e): e for e in group}
    refs = ("mobility.trend", "mobility.outgoing_rate_group")
    values: dict[str, Quote | Name] = {
        "year": Name("academic_year", str(_year(last))),
        "rate": Quote(last.key),
    }
    covid = [by_year[y] for y in covid_years if y in by_year and has_ci(by_year[y])]
    pre = by_year.get(str(int(covid_years[0]) - 1)) if covid_years else None
    if covid and pre is not None and has_ci(pre) and _year(last) not in covid_years:
        low = min(covid, key=lambda e: e.estimate)  # type: ignore[arg-type, return-value]
        assert low.ci_high is not None and pre.ci_low is not None
        if low.ci_high < pre.ci_low:
            values |= {
                "covid_rate": Quote(low.key),
                "covid_year": Name("academic_year", str(_year(low))),
                "pre_rate": Quote(pre.key),
                "pre_year": Name("academic_year", str(_year(pre))),
            }
            return Finding("outgoing_rate", values, refs)
    return Finding("outgoing_rate_short", values, refs)


def euroregion_finding(results: ResultSet, min_base: int) -> Finding | None:
    """IMT Nord Europe's share of mobilities to the Euroregion (latest year when by year),
    with the other schools' share of the same year when it is shown."""

    def euro(pred: Callable[[str | None], bool]) -> list[Estimate]:
        return _find(
            results,
            "mobility.euroregion",
            min_base,
            lambda e: e.statistic in PCT_STATISTICS and pred(e.domain_dict().get("school")),
        )

    ne = euro(lambda s: s == NORD_EUROPE)
    if not ne:
        return None
    e = max(ne, key=lambda x: int(_year(x) or 0))
    y = _year(e)
    values: dict[str, Quote | Name] = {"share": Quote(e.key)}
    if y:
        values["year"] = Name("academic_year", y)
    template = "euroregion" if y else "euroregion_noyear"
    rest = [r for r in euro(lambda s: s in REST_VALUES) if _year(r) == y]
    if rest:
        values["rest"] = Quote(rest[0].key)
        template += "+euroregion_rest"
    return Finding(template, values, ("mobility.euroregion",))


def finance_finding(results: ResultSet, min_base: int) -> Finding | None:
    """The odds ratio of the finance barrier in the model of the intention to go abroad:
    "weighs on" only when the CI lies below 1 and p < 0.05; the opposite sentence above 1;
    "no clear association" otherwise. No sentence without the term or its CI."""
    fin = _find(
        results,
        "models.intends_abroad",
        min_base,
        lambda e: (
            e.statistic == "odds_ratio"
            and "barrier_finance" in (e.level or e.variable)
            and has_ci(e)
        ),
    )
    if not fin:
        return None
    e = fin[0]
    p_field = "p_adjusted" if e.p_adjusted is not None else "p_value"
    template = {HIGHER: "finance_positive", LOWER: "finance", UNCLEAR: "finance_unclear"}[
        evidence(e, 1.0, p_field)
    ]
    return Finding(template, _ci_quotes(e, "or"), ("models.intends_abroad",))


def dual_degree_finding(results: ResultSet, min_base: int) -> Finding | None:
    """The share interested in a dual degree (top-2-box), else the mean, with its CI."""

    def overall(pred: Callable[[Estimate], bool]) -> list[Estimate]:
        return _find(
            results, "survey.dual_degree", min_base, lambda e: _overall(e) and has_ci(e) and pred(e)
        )

    top2 = overall(
        lambda e: e.statistic in PCT_STATISTICS and (e.key.endswith(".top2") or e.level == "top2")
    )
    if top2:
        return Finding("dual_degree_top2", _ci_quotes(top2[0], "p"), ("survey.dual_degree",))
    mean = overall(lambda e: e.statistic == "mean")
    if mean:
        return Finding("dual_degree", _ci_quotes(mean[0], "mean"), ("survey.dual_degree",))
    return None


def intends_finding(results: ResultSet, min_base: int) -> Finding | None:
    """The share of respondents who intend to go abroad, with its CI."""
    it = _find(
        results,
        "survey.experience",
        min_base,
        lambda e: e.variable == "intends_abroad" and _overall(e) and has_ci(e),
    )
    return Finding("intends", _ci_quotes(it[0], "p"), ("survey.experience",)) if it else None


def key_findings(results: ResultSet, covid_years: Sequence[str] | None = None) -> list[Finding]:
    """At most five findings, in a fixed order, each earned by its own condition."""
    mb = min_base_of(results)
    if covid_years is None:
        cfg = results.provenance.get("config") or {}
        covid_years = [str(y) for y in cfg.get("covid_break_years", (2019, 2020))]
    out = [
        f
        for f in (
            outgoing_rate_finding(results, mb, covid_years),
            euroregion_finding(results, mb),
            finance_finding(results, mb),
            dual_degree_finding(results, mb),
            intends_finding(results, mb),
        )
        if f is not None
    ]
    return out[:5]


# --------------------------------------------------------------------------- comparisons
def _contrast(e: Estimate) -> tuple[str, str, str] | None:
    """(dimension, group a, group b) of a difference whose domain value is ``a_vs_b``."""
    for dim, value in e.domain:
        if "_vs_" in value:
            a, b = value.split("_vs_", 1)
            return dim, a, b
    return None


def comparison_finding(e: Estimate, min_base: int) -> Finding | None:
    """The sentence of one difference ``a - b`` of ``comparisons.differences``: higher or
    lower when the CI excludes 0 and the BH-adjusted p < 0.05, "no clear difference"
    otherwise; none when the cell is hidden, small, without CI or adjusted p, or when its
    two groups cannot be named."""
    ab = _contrast(e)
    if ab is None or not enough_respondents(e, min_base) or not has_ci(e):
        return None
    if e.p_adjusted is None:
        return None
    dim, a, b = ab
    template = {
        HIGHER: "comparison_higher",
        LOWER: "comparison_lower",
        UNCLEAR: "comparison_unclear",
    }[evidence(e, 0.0, "p_adjusted")]
    values: dict[str, Quote | Name] = {
        "what": Name("variable", e.variable),
        "a": Name(dim, a),
        "b": Name(dim, b),
        "diff": Quote(e.key),
        "lo": Quote(e.key, "ci_low"),
        "hi": Quote(e.key, "ci_high"),
        "p": Quote(e.key, "p_adjusted"),
    }
    return Finding(template, values, ("comparisons.differences",))


def comparison_findings(results: ResultSet) -> list[Finding]:
    """One sentence per difference that earns one, in table order."""
    mb = min_base_of(results)
    out = (comparison_finding(e, mb) for e in _table(results, "comparisons.differences"))
    return [f for f in out if f is not None]
