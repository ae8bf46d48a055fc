"""Observation 11 of issue 12 in the report: a term that cannot be estimated is shown as
"not estimable" with its reason (EN/FR), never as a number, and no sentence quotes it."""

from __future__ import annotations

import re
from dataclasses import replace

from analysis.results import ResultSet
from reports import findings as RF
from reports.render import render_report

TERM = "models.intends_abroad.odds_ratio.school.eurecom"
FIN = "models.intends_abroad.odds_ratio.barrier_finance"
BLANK = dict(estimate=None, se=None, ci_low=None, ci_high=None, p_value=None, n_unweighted=None)


def _not_estimable(results: ResultSet, key: str, reason: str) -> ResultSet:
    tables = tuple(
        replace(
            t,
            estimates=tuple(
                replace(e, **BLANK, not_estimable=reason) if e.key == key else e
                for e in t.estimates
            ),
        )
        for t in results.tables
    )
    return replace(results, tables=tables)


def _row(page: str, key: str) -> str:
    i = page.index(f'data-key="{key}"')
    return page[page.rindex("<tr>", 0, i) : page.index("</tr>", i)]


def test_obs11_not_estimable_term_shows_its_reason_in_both_languages(results):
    res = _not_estimable(results, TERM, "separation")
    en = render_report(res, "en", {})
    assert f'data-key="{TERM}">not estimable</td>' in en
    assert "Not estimable (no number is published for these terms): School: EURECOM: complete" in en
    fr = render_report(res, "fr", {})
    assert f'data-key="{TERM}">non estimable</td>' in fr
    assert "séparation complète" in fr
    # no number in the term's row (estimate, CI, n, p)
    assert not re.search(r">\s*[\d−-][\d.,\s]*</td>", _row(en, TERM))


def test_obs11_no_sentence_quotes_a_not_estimable_term(results):
    res = _not_estimable(results, FIN, "unstable")
    assert RF.finance_finding(res, 10) is None
    page = render_report(res, "en", {})
    assert "finance barrier is" not in page
    assert "standard error too large" in page
