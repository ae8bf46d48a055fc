"""French base texts: the report must not show the English denominators analysis/ writes.

Expected French strings are written by hand from the rules' intent (labels.fr.toml wordings,
French number forms), not produced by the code under test.
"""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest

from analysis.results import ResultSet, ResultTable
from reports.bases import (
    BaseRulesError,
    BaseTranslator,
    load_base_rules,
    untranslated_bases,
)
from reports.render import render_report
from reports.viewmodel import build_view_model, load_labels

REPO = Path(__file__).resolve().parents[2]
NB, NNB = "\u00a0", "\u202f"  # no-break space, narrow no-break space
SCHOOLS = {"imt_nord_europe": "IMT Nord Europe", "imt_atlantique": "IMT Atlantique"}
IDENTITY = {"flow_run_id": "test", "generated_at": "2026-01-01T00:00:00Z", "run_name": "test"}


@pytest.fixture(scope="module")
def fr() -> BaseTranslator:
    return BaseTranslator("fr", load_labels("fr"), SCHOOLS)


# One example of each wording analysis/ writes (grep "base=" in analysis/), with the French
# a reader should see.
EXAMPLES = [
    ("no enrolment figure for 2019-20", "pas d'effectif d'inscrits pour 2019-20"),
    ("enrolled students 2020-21: 2195", f"étudiants inscrits en 2020-21{NB}: 2{NB}195"),
    (
        "enrolled students of the schools surveyed: 12345",
        f"étudiants inscrits dans les écoles enquêtées{NB}: 12{NB}345",
    ),
    (
        "respondents who answered intends_abroad (missing answers excluded)",
        f"répondants ayant répondu à «{NB}Envisage de partir à l'étranger{NB}» "
        "(réponses manquantes exclues)",
    ),
    (
        "respondents who answered barrier_finance (1-5; missing answers excluded)",
        f"répondants ayant répondu à «{NB}Le financement comme frein{NB}» "
        f"(échelle de 1 à 5{NNB}; réponses manquantes exclues)",
    ),
    (
        "respondents who answered all of barrier_finance, barrier_language",
        f"répondants ayant répondu à chacun des items «{NB}Le financement comme frein{NB}» et "
        f"«{NB}La langue comme frein{NB}»",
    ),
    (
        "intends_abroad: women minus men; respondents answering both (n = 1041 vs 1614)",
        f"Envisage de partir à l'étranger{NB}: femmes moins hommes{NNB}; répondants des deux "
        f"groupes (n = 1{NB}041 contre 1{NB}614)",
    ),
    (
        "respondents answering went_abroad and school",
        f"répondants ayant répondu à «{NB}A effectué une mobilité sortante{NB}» et à "
        f"«{NB}École{NB}»",
    ),
    (
        "all respondents of wave 2021 (rake, enrolment 2020)",
        "tous les répondants de la vague 2021 (calage sur les marges, inscrits 2020)",
    ),
    (
        "enrolled students of the school in 2014-15; numerator: its outgoing participants (1032)",
        f"étudiants inscrits dans l'école en 2014-15{NNB}; numérateur{NB}: ses participants "
        f"sortants (1{NB}032)",
    ),
    (
        "grant EUR / mobility-months (1769.5) over records with a grant and a duration",
        f"bourse en EUR / mois de mobilité (1{NB}769,5) sur les enregistrements ayant une "
        "bourse et une durée",
    ),
    (
        "imt_nord_europe share minus rest-of-group share (outgoing participants with a known "
        "destination country, all years; all schools except imt_nord_europe)",
        "part pour IMT Nord Europe moins part pour le reste du groupe (participants sortants "
        "dont le pays de destination est connu, toutes années confondues"
        f"{NNB}; toutes les écoles sauf IMT Nord Europe)",
    ),
    (
        "vs imt_atlantique; negative_binomial GLM, offset log(enrolled)",
        f"par rapport à IMT Atlantique{NNB}; GLM binomial négatif, décalage log(inscrits)",
    ),
    (
        "90,000 EUR envelope by mobility-months",
        f"enveloppe de 90{NB}000{NB}EUR répartie selon les mois de mobilité",
    ),
]


@pytest.mark.parametrize(("en", "expected"), EXAMPLES, ids=[e[:40] for e, _ in EXAMPLES])
def test_french_wording(fr: BaseTranslator, en: str, expected: str) -> None:
    assert fr.translate(en) == expected


def test_obs8_english_bases_show_labels_not_variable_or_school_ids() -> None:
    """Issue 12 obs. 8: no variable or school id in an English base; file names untouched."""
    en = BaseTranslator("en", load_labels("en"), SCHOOLS)
    text = "respondents who answered intends_abroad (missing answers excluded)"
    assert (
        en.text(text)
        == "respondents who answered “Intends to go abroad” (missing answers excluded)"
    )
    assert en.untranslated == []
    school = next(k for k in SCHOOLS if "_" in k)
    assert en.text(f"{school} share minus rest-of-group share") == (
        f"{SCHOOLS[school]} share minus rest-of-group share"
    )
    kept = f"Filtered out of survey_2021_{school}.csv (incomplete)"
    assert en.text(kept) == kept


@pytest.mark.parametrize(
    "text",
    [
        "something analysis/ has never written",
        # a known wording around an unknown id must not come out half translated
        "respondents who answered no_such_variable (missing answers excluded)",
        "vs no_such_school; poisson GLM, offset log(enrolled)",
        "all respondents of wave 2021 (some_new_method, enrolment 2020)",
        "enrolled students 2020-21: 2 195",  # not an English number
    ],
)
def test_untranslatable_base_falls_back_to_english_and_is_recorded(
    fr: BaseTranslator, text: str
) -> None:
    tr = BaseTranslator("fr", load_labels("fr"), SCHOOLS)
    assert tr.translate(text) is None
    assert tr.text(text) == text
    assert tr.untranslated == [text]


def test_untranslated_base_is_reported_in_the_french_report(results: ResultSet) -> None:
    odd = "a base no rule knows about"
    t0 = results.tables[0]
    changed = dataclasses.replace(
        t0, estimates=tuple(dataclasses.replace(e, base=odd) for e in t0.estimates)
    )
    rs = dataclasses.replace(results, tables=(changed, *results.tables[1:]))
    vm = build_view_model(rs, "fr", IDENTITY)
    dq = next(s for s in vm["sections"] if s["key"] == "data_quality")
    alerts = [a for b in dq["blocks"] if b.get("type") == "alerts" for a, _ in b["entries"]]
    hits = [a for a in alerts if odd in a]
    assert len(hits) == 1 and "sans traduction" in hits[0]
    # English: nothing to translate, no alert
    vm_en = build_view_model(rs, "en", IDENTITY)
    dq_en = next(s for s in vm_en["sections"] if s["key"] == "data_quality")
    assert odd not in repr(dq_en["blocks"])


def test_rule_file_errors_name_the_file_and_rule(monkeypatch, tmp_path: Path) -> None:
    import reports.bases as B

    (tmp_path / "bases.xx.toml").write_text(
        "[[rule]]\nen = 'ok'\nxx = 'ok'\n[[rule]]\nen = '(?P<a>\\\\d+)'\nxx = '{b}'\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(B, "TEMPLATES", tmp_path)
    B.load_base_rules.cache_clear()
    try:
        with pytest.raises(BaseRulesError, match=r"bases\.xx\.toml, rule 2: .*\['b'\]"):
            B.load_base_rules("xx")
    finally:
        B.load_base_rules.cache_clear()


def test_every_french_rule_is_valid_and_reachable() -> None:
    rules = load_base_rules("fr").rules
    assert rules
    # no rule is shadowed by an earlier one on its own literal wording
    for r in rules:
        if not r.pattern.groupindex:
            first = next(
                x for x in rules if x.pattern.fullmatch(r.pattern.pattern.replace("\\", ""))
            )
            assert first is r, f"rule {r.number} is shadowed by rule {first.number}"


# --------------------------------------------------------------------------- whole result sets
def _bases(results: ResultSet) -> list[str]:
    return [e.base for t in results.tables for e in t.estimates if e.base]


def _assert_no_english_base_in_french_report(results: ResultSet) -> None:
    labels, schools = load_labels("fr"), results.study.get("schools") or {}
    assert untranslated_bases(_bases(results), "fr", labels, schools) == []
    page = html.unescape(render_report(results, "fr", IDENTITY))
    shown = [b for b in set(_bases(results)) if b in page]
    assert shown == []
    assert "sans traduction" not in page


def test_fixture_bases_all_translated(results: ResultSet, raw_results: ResultSet) -> None:
    labels = load_labels("fr")
    assert (
        untranslated_bases(
            _bases(raw_results), "fr", labels, raw_results.study.get("schools") or {}
        )
        == []
    )
    _assert_no_english_base_in_french_report(results)


@pytest.fixture(scope="module")
def bundled_results(tmp_path_factory: pytest.TempPathFactory) -> ResultSet:
    """The bundled study (data/raw), computed by the flow's task bodies without Prefect."""
    from flows.settings import apply_prefect_defaults

    apply_prefect_defaults()
    from prefect.logging import disable_run_logger

    from flows import study
    from flows.config_io import load_config

    out = tmp_path_factory.mktemp("bundled")
    interim = out / "interim"
    interim.mkdir()
    with disable_run_logger():
        config = load_config(REPO / "data" / "raw" / "study.toml")
        surveys = [
            study.ingest_survey.fn(str(s.path), s.source, s.wave, config, str(interim))
            for s in config.surveys
        ]
        mobility = [
            study.ingest_mobility.fn(i, config, str(interim)) for i in range(len(config.mobility))
        ]
        enrol = study.load_enrolment.fn(config, str(interim))
        s_tables = study.survey_statistics.fn([*surveys, enrol], config)
        m_tables = study.mobility_statistics.fn([*mobility, enrol], config)
        done = {"survey": surveys, "mobility": mobility, "enrol": [enrol]}
        raw = ResultSet({}, tuple([*s_tables, *m_tables]))
        results = study.assemble_results(config, s_tables, m_tables, done, out, "t", "t")
    return raw, results


def test_bundled_study_bases_all_translated(bundled_results) -> None:
    raw, results = bundled_results
    assert all(isinstance(t, ResultTable) for t in raw.tables)
    # before disclosure control (which blanks the bases of hidden cells): every wording
    bases = _bases(raw)
    assert len({re.sub(r"\d+", "#", b) for b in bases}) >= 40  # the study really ran
    labels, schools = load_labels("fr"), results.study["schools"]
    assert untranslated_bases(bases, "fr", labels, schools) == []
    _assert_no_english_base_in_french_report(results)
