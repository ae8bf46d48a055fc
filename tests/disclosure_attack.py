"""The disclosure attacker for tests: run it on any study's results.

Usage (a ResultSet from the pipeline, or the dict of a run's ``results.json``)::

    from tests.disclosure_attack import assert_resists_attack
    assert_resists_attack(results)            # min_count read from the results

It checks that no suppressed figure carries a number, then solves, for every suppressed
figure, its smallest and largest value subject to everything published (linear programming,
:func:`analysis.disclosure_attack.attack`) and fails naming every figure whose feasible
interval is narrower than ``min_count`` persons (or than its base, when the base is smaller).

What the attacker knows is documented in docs/disclosure.md. Read back from ``results.json``,
weighted shares lose their weight sums, so the margins between weighted domains (school shares
adding up to the group share) are not used there; an in-memory ResultSet from the pipeline
keeps them (``Estimate.weight_base``), so prefer it when a test has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.disclosure_attack import Interval, attack, estimates_from_results_json
from analysis.results import Estimate, ResultSet

NUMBER_FIELDS = ("estimate", "se", "ci_low", "ci_high", "n_unweighted", "p_value", "p_adjusted")


def _estimates(results: ResultSet | Mapping[str, Any]) -> list[Estimate]:
    if isinstance(results, ResultSet):
        return list(results.estimates())
    return estimates_from_results_json(results)


def _min_count(results: ResultSet | Mapping[str, Any]) -> int:
    dq = results.data_quality if isinstance(results, ResultSet) else results["data_quality"]
    disc = dq.get("disclosure") or {}
    return int(disc.get("min_count", 5))


def attack_intervals(
    results: ResultSet | Mapping[str, Any], min_count: int | None = None
) -> dict[str, Interval]:
    """Feasible interval of every suppressed figure (key -> Interval)."""
    mc = _min_count(results) if min_count is None else min_count
    return attack(_estimates(results), mc)


def assert_resists_attack(
    results: ResultSet | Mapping[str, Any], min_count: int | None = None
) -> dict[str, Interval]:
    """Fail if a suppressed figure carries a number or its interval is too narrow."""
    ests = _estimates(results)
    leaks = [
        (e.key, f) for e in ests if e.suppressed for f in NUMBER_FIELDS if getattr(e, f) is not None
    ]
    assert not leaks, f"suppressed figures still carry numbers: {leaks[:10]}"
    ivs = attack_intervals(results, min_count)
    weak = sorted(
        f"{k}: [{iv.low:.3f}, {iv.high:.3f}] = {iv.width_persons:.2f} persons < {iv.need:g}"
        for k, iv in ivs.items()
        if not iv.protected
    )
    assert not weak, "the attacker narrows suppressed figures:\n" + "\n".join(weak[:20])
    return ivs
