"""What changed since the previous run: a comparison of two ``results.json`` documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _index(results: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {e["key"]: e for e in results.get("estimates", [])}


def _domain_values(results: Mapping[str, Any], dim: str) -> set[str]:
    return {
        str(e["domain"][dim])
        for e in results.get("estimates", [])
        if dim in (e.get("domain") or {})
    }


def changes_since(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, Any]:
    """Differences a reviewer should know about between the previous and the current run.

    - ``new_responses``: per (wave, school), responses now minus before (response-rate bases);
    - ``moved``: estimates whose new value lies outside the previous 95% CI (only where both
      have a CI), with both values;
    - ``new_schools`` / ``new_years`` / ``new_waves``: domain values that did not exist before;
    - ``revised``: mobility figures for past academic years whose value changed (the Erasmus+
      data are revised until projects close);
    - ``added`` / ``removed``: counts of estimate keys that appeared or disappeared.
    """
    if previous is None:
        return {"previous_run": None}
    old, new = _index(previous), _index(current)
    new_responses = []
    for key, e in new.items():
        if e.get("table") != "sample.response_rate":
            continue
        before = old.get(key, {}).get("n_unweighted") or 0
        now = e.get("n_unweighted") or 0
        if now != before:
            new_responses.append({"key": key, "domain": e["domain"], "before": before, "now": now})
    moved, revised = [], []
    for key, e in new.items():
        o = old.get(key)
        if o is None or e.get("estimate") is None or o.get("estimate") is None:
            continue
        if e["estimate"] == o["estimate"]:
            continue
        lo, hi = o.get("ci_low"), o.get("ci_high")
        if lo is not None and hi is not None and not (lo <= e["estimate"] <= hi):
            moved.append(
                {"key": key, "before": o["estimate"], "now": e["estimate"], "before_ci": [lo, hi]}
            )
        if str(e.get("table", "")).startswith("mobility.") and "academic_year" in (
            e.get("domain") or {}
        ):
            revised.append({"key": key, "before": o["estimate"], "now": e["estimate"]})
    return {
        "previous_run": (previous.get("provenance") or {}).get("run_name"),
        "new_responses": new_responses,
        "moved": moved,
        "revised": revised,
        "new_schools": sorted(
            _domain_values(current, "school") - _domain_values(previous, "school")
        ),
        "new_years": sorted(
            _domain_values(current, "academic_year") - _domain_values(previous, "academic_year")
        ),
        "new_waves": sorted(_domain_values(current, "wave") - _domain_values(previous, "wave")),
        "added": len(set(new) - set(old)),
        "removed": len(set(old) - set(new)),
    }
