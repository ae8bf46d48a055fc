"""Every corpus shape run end to end; each fact the generator wrote is checked on results.json
and on the report's text (tests/corpus/generate_corpus.py writes the shapes and their facts).

One test per (shape, fact): a shape runs once per session (tests/corpus/runner.py: the flow's
own functions, no PDF) and its facts are checked against that run. A fact whose fix has not
landed yet is marked ``xfail(strict=True)`` by the generator (``facts["xfail"]``): it must
fail until the fix lands, and then the mark must go.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from .generate_corpus import build_shapes
from .runner import Outcome, report_text

SHAPES = build_shapes()


def _params() -> list[Any]:
    out = []
    for shape in SHAPES:
        waits = shape.facts.get("xfail", {})
        for fact in sorted(k for k in shape.facts if k != "xfail"):
            marks = [pytest.mark.xfail(strict=True, reason=waits[fact])] if fact in waits else []
            out.append(pytest.param(shape.name, fact, id=f"{shape.name}-{fact}", marks=marks))
    return out


def _by_key(o: Outcome) -> dict[str, dict]:
    return {e["key"]: e for e in o.results["estimates"]}


def _domain(e: dict) -> dict[str, str]:
    d = e["domain"]
    return {str(k): str(v) for k, v in (d.items() if isinstance(d, dict) else d)}


# --------------------------------------------------------------------------- fact checkers
def check_sections(o: Outcome, want: dict[str, bool]) -> None:
    tables = {t["id"] for t in o.results["tables"]}
    has = {
        "survey": any(t.startswith(("survey.", "sample.")) for t in tables),
        "mobility": any(t.startswith("mobility.") for t in tables),
        "budget": "mobility.budget" in tables,
    }
    assert has == want, f"tables present {sorted(tables)}"
    for part, sec in (("survey", "sec-survey"), ("mobility", "sec-mobility")):
        assert (f'id="{sec}"' in o.html) is want[part], f"report section {sec}"
    assert ('id="tbl-mobility-budget"' in o.html) is want["budget"]


def check_waves(o: Outcome, want: list[str]) -> None:
    assert o.results["study"]["waves"] == want
    rates = [
        _domain(e).get("wave")
        for e in o.results["estimates"]
        if e["table"] == "sample.response_rate"
    ]
    assert sorted(set(rates)) == sorted(want)


def check_respondents(o: Outcome, want: dict[str, dict[str, int]]) -> None:
    got: dict[str, dict[str, int]] = {}
    for e in o.results["estimates"]:
        d = _domain(e)
        if e["table"] == "sample.response_rate" and d.get("school") not in ("group", None):
            got.setdefault(d["wave"], {})[d["school"]] = e["n_unweighted"]
    assert got == want


def check_rates(o: Outcome, want: dict[str, dict[str, list[int]]]) -> None:
    est = _by_key(o)
    for school, years in want.items():
        for year, (participants, enrolled) in years.items():
            e = est.get(f"mobility.outgoing_rate.{school}.{year}")
            assert e is not None, f"no rate for {school} {year}"
            assert e["n_unweighted"] == enrolled, (school, year)
            assert math.isclose(e["estimate"], participants / enrolled, rel_tol=1e-9, abs_tol=1e-12)
    assert 'id="tbl-mobility-outgoing-rate"' in o.html


def check_no_data(o: Outcome, want: dict[str, list[int]]) -> None:
    est = _by_key(o)
    for who, years in want.items():
        for y in years:
            key = (
                f"mobility.outgoing_rate_group.{y}"
                if who == "group"
                else f"mobility.outgoing_rate.{who}.{y}"
            )
            e = est.get(key)
            assert e is None or e["estimate"] is None, f"{key} published as {e['estimate']}"


def check_no_data_alert(o: Outcome, years: list[int]) -> None:
    text = report_text(o.html)
    for y in years:  # the data-quality section names each year without mobility data
        label = f"{y}-{(y + 1) % 100:02d}"
        assert re.search(
            rf"(No mobility data|Pas de données de mobilité) (for|pour) {label}", text
        ), label


def check_trend_cells(o: Outcome, want: int) -> None:
    e = _by_key(o).get("mobility.trend.model_choice")
    assert e is not None and e["n_unweighted"] == want


def check_zero_rates(o: Outcome, want: dict[str, list[int]]) -> None:
    est = _by_key(o)
    for school, years in want.items():
        for y in years:
            e = est[f"mobility.outgoing_rate.{school}.{y}"]
            assert e["estimate"] == 0.0 and not e.get("suppressed")


def check_counts(o: Outcome, want: dict[str, dict[str, int]]) -> None:
    est = _by_key(o)
    for school, years in want.items():
        for y, n in years.items():
            assert est[f"mobility.counts.participants.{school}.{y}"]["estimate"] == n


def check_budget(o: Outcome, want: dict[str, Any]) -> None:
    est = _by_key(o)
    assert est["mobility.budget.envelope"]["estimate"] == want["envelope"]
    for school, eur in want["allocation"].items():
        got = est[f"mobility.budget.allocation.by_school.{school}"]["estimate"]
        assert math.isclose(got, eur, rel_tol=1e-6), school


def check_absent_text(o: Outcome, want: list[str]) -> None:
    text = report_text(o.html)
    for s in want:  # "0.0%" must not match inside "10.0%"
        m = re.search(r"(?<![\d.,])" + re.escape(s), text)
        assert m is None, f"{s!r} in the report: ...{text[max(0, m.start() - 150) : m.end() + 50]}"


def check_present_text(o: Outcome, want: list[str]) -> None:
    text = report_text(o.html)
    for s in want:
        assert s.casefold() in text.casefold(), f"{s!r} not in the report"


def check_empty_files(o: Outcome, want: list[str]) -> None:
    alerts = json.dumps(o.results["data_quality"].get("alerts", []))
    section = report_text(o.html).split("Data quality")[-1]
    for f in want:
        assert f in alerts and f in section


def check_one_school_waves(o: Outcome, want: dict[str, str]) -> None:
    text = report_text(o.html)
    for wave, school in want.items():
        rows = [
            e
            for e in o.results["estimates"]
            if e["table"] == "sample.response_rate" and _domain(e).get("wave") == wave
        ]
        assert [_domain(e)["school"] for e in rows] == [school]
    assert "IMT group (all schools)" not in text


def check_suppressed(o: Outcome, want: list[str]) -> None:
    for prefix in want:
        hits = [e for e in o.results["estimates"] if e["key"].startswith(prefix)]
        assert hits, prefix
        assert all(e.get("suppressed") and e["estimate"] is None for e in hits), prefix


def check_not_estimable(o: Outcome, want: list[str]) -> None:
    est = _by_key(o)
    for key in want:
        e = est.get(key)
        assert e is None or e["estimate"] is None, f"{key} = {e['estimate']}"


def check_proportion(o: Outcome, want: dict[str, float]) -> None:
    est = _by_key(o)
    for key, p in want.items():
        e = est[key]
        assert e.get("suppressed") or math.isclose(e["estimate"], p)


def check_option_share(o: Outcome, want: dict[str, list[int]]) -> None:
    est = [e for e in o.results["estimates"] if e["table"] == "survey.destinations"]
    for option, (_selected, answered) in want.items():
        hits = [e for e in est if e.get("level") == option and not _domain(e)]
        assert hits and hits[0]["n_unweighted"] == answered, option


CHECKS = {name[6:]: fn for name, fn in globals().items() if name.startswith("check_")}


@pytest.mark.parametrize(("shape", "fact"), _params())
def test_corpus_shape_shows_its_facts(corpus: Path, corpus_run, shape: str, fact: str) -> None:
    facts = json.loads((corpus / "shapes" / shape / "facts.json").read_text(encoding="utf-8"))
    got = corpus_run(shape)
    if fact == "error":
        assert isinstance(got, BaseException), "the run should have stopped with an error"
        from flows.cli import _is_input_error

        msg = str(got)
        assert "\n" not in msg and _is_input_error(got)
        for s in facts["error"]["contains"]:
            assert s in msg, f"{s!r} not in {msg!r}"
        return
    if isinstance(got, BaseException):
        raise got
    CHECKS[fact](got, facts[fact])


def test_every_fact_has_a_checker() -> None:
    facts = {k for s in SHAPES for k in s.facts} - {"xfail"}
    assert facts <= set(CHECKS) | {"error"}, facts - set(CHECKS)
    assert len(SHAPES) >= 20


@pytest.mark.parametrize("shape", [s.name for s in SHAPES])
def test_corpus_shape_resists_the_disclosure_attacker(corpus_run, shape: str) -> None:
    """Issue 12.10 on every corpus run: the interval attacker (linear programming over every
    figure published in results.json) narrows no suppressed figure below the threshold."""
    from tests.disclosure_attack import assert_resists_attack

    got = corpus_run(shape)
    spec = next(s for s in SHAPES if s.name == shape)
    if "error" in spec.facts:  # the run stops before publishing anything: nothing to attack
        assert isinstance(got, BaseException)
        return
    if isinstance(got, BaseException):
        raise got
    assert_resists_attack(got.results)
