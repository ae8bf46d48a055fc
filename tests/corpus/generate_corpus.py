"""Write a corpus of small study folders, one per study *shape*, each with the facts it must show.

    python tests/corpus/generate_corpus.py OUTPUT_DIR [--seed 2026]

Each shape is a folder ``OUTPUT_DIR/<shape>/`` holding ``study.toml``, ``codebook.toml``, the
input files and ``facts.json``. The facts are written here, from what this script put into the
files (respondents it wrote per school, participants it wrote per school and year, the years
each source covers), never from the code under test. ``tests/corpus/test_corpus.py`` runs every
shape end to end and checks its facts on ``results.json`` and on the report's text.

Deterministic: the same seed writes the same bytes (no clock, no global random state).

Facts (every key optional, see ``tests/corpus/README.md``):
``sections``            {"survey": bool, "mobility": bool, "budget": bool}: which exist
``waves``               the waves the report lists (results.json ``study.waves``)
``respondents``         {wave: {school: n}}: respondents kept (``n_unweighted`` of the response
                        rate); schools absent here have no response-rate row
``rates``               {school: {year: [participants, enrolled]}}: outgoing rate cells that
                        must exist (estimate = participants / enrolled, base = enrolled)
``no_data``             {school|"group": [years]}: rate cells that must NOT exist (no source
                        covers them): "no data", never 0
``zero_rates``          {school: [years]}: covered years with truly no outgoing student: rate 0
``budget``              {"envelope": eur, "allocation": {school: eur}}
``absent_text``         strings the report must not contain
``present_text``        strings the report must contain
``error``               {"exit": 2, "contains": [...]}: the run must stop with this one-line error
``suppressed``          estimate-key prefixes whose estimates must all be suppressed
``not_estimable``       model-term keys that must carry no number (separation)
``option_share``        {option: [selected, answered]}: unweighted counts behind pref_region
``xfail``               {fact: "waits for <helper> fix"}: facts whose fix is not on main yet
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Erasmus codes and display names (analysis/tables/schools.csv): codes that name the school
# itself in every year, so that a record's school follows from its code alone.
SCHOOLS = {
    "imt_nord_europe": ("F  LILLE91", "IMT Nord Europe", "2"),
    "telecom_paris": ("F  PARIS083", "Télécom Paris", "6"),
    "imt_mines_albi": ("F  ALBI05", "IMT Mines Albi", "3"),
    "mines_saint_etienne": ("F  ST-ETIE06", "Mines Saint-Étienne", "5"),
}
DEFAULT_SCHOOLS = ("imt_nord_europe", "telecom_paris", "imt_mines_albi")
COUNTRIES = ("BE", "DE", "NL", "ES", "IT", "SE", "CA", "JP")
REGIONS = (
    "euroregion",
    "other_europe",
    "north_america",
    "latin_america",
    "asia",
    "africa",
    "oceania",
)
KA1_HEADER = [
    "Project Reference", "Academic Year", "Mobility Start Month", "Mobility End Month",
    "Mobility Duration", "Activity (mob)", "Field of Education", "Participant Nationality",
    "Education Level", "Participant Gender", "Participant Profile", "Special Needs",
    "Fewer Opportunities", "GroupLeader", "Participant Age", "Sending Country Code",
    "Sending City", "Sending Organization", "Sending Organisation Erasmus Code",
    "Receiving Country Code", "Receiving City", "Receiving Organization",
    "Receiving Organisation Erasmus Code", "Participants",
]  # fmt: skip
QUALTRICS_META = [
    "StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage",
]  # fmt: skip
QUESTIONS = {
    "Q1": "school",
    "Q2": "study_year",
    "Q3": "gender",
    "Q4": "went_abroad",
    "Q5": "intends_abroad",
    "Q6": "interest_dual_degree",
    "Q7_1": "barrier_finance",
    "Q7_2": "barrier_language",
}
BUDGET_TOML = """
[budget]
envelope_eur = {envelope}
academic_year = {year}
allocation = "mobility_months"
"""


def year_label(y: int) -> str:
    return f"{y}-{(y + 1) % 100:02d}"


# --------------------------------------------------------------------------- data the shapes share
@dataclass
class Respondent:
    school: str
    gender: str  # F / M
    study_year: int
    went: int
    intends: int
    dual: int
    finance: int
    language: int
    regions: tuple[str, ...]
    finished: bool = True
    duration: int = 300


def respondents(
    rng: random.Random,
    per_school: dict[str, int],
    *,
    unfinished: int = 2,
    speeders: int = 1,
    intends: Callable[[str, random.Random], int] | None = None,
) -> list[Respondent]:
    """``per_school`` kept respondents per school, plus ``unfinished`` and ``speeders`` extra
    rows per school that the filters must remove (unfinished: Finished = 0; speeder: < 60 s)."""
    out = []
    for school, n in per_school.items():
        for i in range(n + unfinished + speeders):
            r = Respondent(
                school=school,
                gender="F" if rng.random() < 0.4 else "M",
                study_year=rng.randint(1, 5),
                went=int(rng.random() < 0.3),
                intends=intends(school, rng) if intends else int(rng.random() < 0.6),
                dual=rng.randint(1, 5),
                finance=rng.randint(1, 5),
                language=rng.randint(1, 5),
                regions=tuple(o for o in REGIONS if rng.random() < 0.3),
            )
            if i >= n + speeders:
                r.finished = False
            elif i >= n:
                r.duration = rng.randint(5, 50)
            out.append(r)
    rng.shuffle(out)
    return out


def kept(rs: list[Respondent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rs:
        if r.finished and r.duration >= 60:
            out[r.school] = out.get(r.school, 0) + 1
    return dict(sorted(out.items()))


def qualtrics_csv(
    rs: list[Respondent],
    wave_year: int,
    *,
    gender: bool = True,
    codes: dict[str, str] | None = None,
) -> str:
    """A Qualtrics CSV export (numeric values; three header rows)."""
    qs = [q for q in QUESTIONS if gender or q != "Q3"] + [f"Q8_{i + 1}" for i in range(7)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(QUALTRICS_META + qs)
    w.writerow(QUALTRICS_META + [f"Question {q}" for q in qs])
    w.writerow([json.dumps({"ImportId": m}) for m in QUALTRICS_META + qs])
    for i, r in enumerate(rs):
        code = (codes or {}).get(r.school, SCHOOLS[r.school][2])
        vals = {
            "Q1": code,
            "Q2": r.study_year,
            "Q3": 1 if r.gender == "F" else 2,
            "Q4": 1 if r.went else 2,
            "Q5": 1 if r.intends else 2,
            "Q6": r.dual,
            "Q7_1": r.finance,
            "Q7_2": r.language,
        }
        vals |= {f"Q8_{j + 1}": (1 if o in r.regions else "") for j, o in enumerate(REGIONS)}
        meta = [
            f"{wave_year}-03-01 10:00:00",
            f"{wave_year}-03-01 10:05:00",
            0,
            100 if r.finished else 40,
            r.duration,
            1 if r.finished else 0,
            f"{wave_year}-03-01 10:05:00",
            f"R_{wave_year}{i:05d}",
            "anonymous",
            "EN",
        ]
        w.writerow(meta + [vals[q] for q in qs])
    return buf.getvalue()


def header_only(csv_text: str) -> str:
    return "\n".join(csv_text.splitlines()[:3]) + "\n"


def codebook(*, gender: bool = True, extra_sources: str = "", school_values: str = "") -> str:
    cols = (
        "\n".join(f'{q} = "{v}"' for q, v in QUESTIONS.items() if gender or v != "gender")
        + "\n"
        + "\n".join(
            f'Q8_{i + 1} = {{ variable = "pref_region", option = "{o}" }}'
            for i, o in enumerate(REGIONS)
        )
    )
    values = school_values or "\n".join(f'"{c[2]}" = "{s}"' for s, c in SCHOOLS.items())
    return f"""version = 1

[variables.school]
type = "school"
label = {{ en = "School", fr = "École" }}
[variables.school.values]
{values}

[variables.gender]
type = "categorical"
label = {{ en = "Gender", fr = "Genre" }}
categories = ["F", "M", "X"]

[variables.study_year]
type = "numeric"
label = {{ en = "Year of study", fr = "Année d'études" }}
range = [1, 5]

[variables.went_abroad]
type = "binary"
label = {{ en = "Completed an outgoing mobility", fr = "A effectué une mobilité sortante" }}
values = {{ "1" = 1, "2" = 0 }}

[variables.intends_abroad]
type = "binary"
label = {{ en = "Intends to go abroad", fr = "Envisage une mobilité" }}
values = {{ "1" = 1, "2" = 0 }}

[variables.interest_dual_degree]
type = "likert"
label = {{ en = "Interest in a dual degree", fr = "Intérêt pour un double diplôme" }}
scale = [1, 5]

[variables.barrier_finance]
type = "likert"
label = {{ en = "Barrier: financial cost", fr = "Frein : coût financier" }}
scale = [1, 5]

[variables.barrier_language]
type = "likert"
label = {{ en = "Barrier: language", fr = "Frein : langue" }}
scale = [1, 5]

[variables.pref_region]
type = "multi-select"
label = {{ en = "Preferred destination regions", fr = "Régions de destination souhaitées" }}
options = {json.dumps(list(REGIONS))}

[[sources]]
id = "q"
platform = "qualtrics"
wave = "any"
language = "en"

[sources.columns]
{cols}

[sources.values.gender]
"1" = "F"
"2" = "M"
{extra_sources}"""


def enrolment_csv(
    rng: random.Random, schools: tuple[str, ...], years: range, names: dict[str, str] | None = None
) -> tuple[str, dict[tuple[str, int], int]]:
    """``school;academic_year;gender;enrolled``; returns the text and enrolled per school-year."""
    lines = ["school;academic_year;gender;enrolled"]
    total: dict[tuple[str, int], int] = {}
    for s in schools:
        for y in years:
            for g in ("F", "M"):
                n = rng.randint(150, 600)
                total[(s, y)] = total.get((s, y), 0) + n
                name = (names or {}).get(s, SCHOOLS[s][1])
                lines.append(f"{name};{year_label(y)};{g};{n}")
    return "\n".join(lines) + "\n", total


@dataclass
class Mobilities:
    """Erasmus+ KA1 rows the generator wrote: participants and mobility-months per cell."""

    rows: list[list[str]] = field(default_factory=list)
    participants: dict[tuple[str, int], int] = field(default_factory=dict)
    months: dict[tuple[str, int], float] = field(default_factory=dict)


def ka1_rows(
    rng: random.Random,
    schools: tuple[str, ...],
    years: range,
    *,
    zero: frozenset[tuple[str, int]] = frozenset(),
    per_cell: tuple[int, int] = (20, 45),
) -> Mobilities:
    """Outgoing student mobilities from the schools, each row 1-3 participants; the cells in
    ``zero`` get none (the release covers the year: it is a true zero)."""
    m = Mobilities()
    for s in schools:
        code, name, _ = SCHOOLS[s]
        for y in years:
            target = 0 if (s, y) in zero else rng.randint(*per_cell)
            m.participants[(s, y)] = target
            m.months[(s, y)] = 0.0
            left = target
            while left > 0:
                k = min(left, rng.randint(1, 3))
                left -= k
                days = rng.choice((90, 150, 180, 300))
                cc = rng.choice(COUNTRIES)
                m.months[(s, y)] += k * days / 30
                m.rows.append(
                    [
                        f"{y}-1-FR01-KA103-{rng.randint(10000, 99999)}",
                        year_label(y),
                        f"{y}-09",
                        f"{y + 1}-01",
                        str(days),
                        "Student mobility for studies between Programme and Partner Countries",
                        "Engineering and engineering trades",
                        "FR",
                        "ISCED-7 - Second cycle / Master’s or equivalent level (EQF-7)",
                        rng.choice(("Female", "Male")),
                        "Learner",
                        "No",
                        "No",
                        "No",
                        str(rng.randint(19, 25)),
                        "FR",
                        "Paris",
                        name.upper(),
                        code,
                        cc,
                        "City",
                        "PARTNER UNIVERSITY",
                        "",
                        str(k),
                    ]
                )
    rng.shuffle(m.rows)
    return m


def ka1_csv(m: Mobilities) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(KA1_HEADER)
    w.writerows(m.rows)
    return buf.getvalue()


def study_toml(
    *,
    surveys: list[tuple[str, str]] = (),
    mobility: list[str] = (),
    extra_mobility: str = "",
    budget: tuple[float, int] | None = None,
    weighting_cells: tuple[str, ...] = ("school", "gender"),
    reference_year: int | None = None,
    language: str = "en",
    title: str = "Corpus study",
) -> str:
    out = [
        "[study]",
        f'title = {{ en = "{title}", fr = "{title} (fr)" }}',
        "synthetic = true",
        f'language = "{language}"',
        'data_cutoff = "2024-06-30"',
        'pseudonym_key = "corpus-key-not-secret"',
        "covid_break_years = [2019, 2020]",
        "",
        "[inputs]",
        'codebook = "codebook.toml"',
        'enrolment = "enrolment.csv"',
    ]
    for path, wave in surveys:
        out += ["", "[[inputs.surveys]]", f'path = "{path}"', 'source = "q"', f'wave = "{wave}"']
    for path in mobility:
        out += ["", "[[inputs.mobility]]", f'path = "{path}"', 'format = "erasmus-ka1"']
    out.append(extra_mobility)
    out += [
        "",
        "[filters]",
        "drop_unfinished = true",
        "min_duration_seconds = 60",
        "drop_duplicates = true",
        "",
        "[weighting]",
        'method = "poststratify"',
        f"cells = {json.dumps(list(weighting_cells))}",
    ]
    if reference_year is not None:
        out.append(f"reference_year = {reference_year}")
    out += ["", "[disclosure]", "min_count = 5", "min_base = 10"]
    if budget is not None:
        out.append(BUDGET_TOML.format(envelope=budget[0], year=budget[1]))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- shapes
@dataclass
class Shape:
    name: str
    about: str
    files: dict[str, str | bytes]
    facts: dict[str, Any]


def _rates(
    mob: Mobilities, enrolled: dict[tuple[str, int], int], covered: set[tuple[str, int]]
) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for (s, y), n in sorted(enrolled.items()):
        if (s, y) in covered:
            out.setdefault(s, {})[str(y)] = [mob.participants.get((s, y), 0), n]
    return out


def _budget_facts(mob: Mobilities, envelope: float, year: int) -> dict[str, Any]:
    months = {s: v for (s, y), v in mob.months.items() if y == year and v > 0}
    total = sum(months.values())
    return {
        "envelope": envelope,
        "allocation": {s: envelope * v / total for s, v in sorted(months.items())},
    }


def _standard(
    rng: random.Random,
    *,
    schools: tuple[str, ...] = DEFAULT_SCHOOLS,
    waves: tuple[int, ...] = (2023,),
    survey_n: int = 40,
    years: range = range(2016, 2023),
    enrol_years: range | None = None,
    survey: bool = True,
    mobility: bool = True,
    budget: tuple[float, int] | None = (60000.0, 2021),
    gender: bool = True,
) -> tuple[dict[str, str | bytes], dict[str, Any], dict[str, Any]]:
    """Files and facts of a study with Qualtrics waves, one Erasmus+ release and enrolment."""
    files: dict[str, str | bytes] = {"codebook.toml": codebook(gender=gender)}
    facts: dict[str, Any] = {
        "sections": {"survey": survey, "mobility": mobility, "budget": bool(budget and mobility)}
    }
    enrol_years = enrol_years or years
    text, enrolled = enrolment_csv(rng, schools, enrol_years)
    files["enrolment.csv"] = text
    surveys = []
    if survey:
        facts["waves"] = [str(w) for w in waves]
        facts["respondents"] = {}
        for w in waves:
            rs = respondents(rng, {s: survey_n for s in schools})
            name = f"survey_{w}.csv"
            files[name] = qualtrics_csv(rs, w, gender=gender)
            surveys.append((name, str(w)))
            facts["respondents"][str(w)] = kept(rs)
    mob = Mobilities()
    if mobility:
        mob = ka1_rows(rng, schools, years)
        files["erasmus.csv"] = ka1_csv(mob)
        covered = {(s, y) for s in schools for y in years}
        facts["rates"] = _rates(mob, enrolled, covered)
        facts["trend_cells"] = sum(len(v) for v in facts["rates"].values())
        gaps = sorted(y for y in enrol_years if y not in years)
        if gaps:
            facts["no_data"] = {"group": gaps, **{s: gaps for s in schools}}
            facts["no_data_alert"] = gaps
        if budget:
            facts["budget"] = _budget_facts(mob, *budget)
    files["study.toml"] = study_toml(
        surveys=surveys,
        mobility=["erasmus.csv"] if mobility else [],
        budget=budget if mobility else None,
        weighting_cells=("school", "gender") if gender else ("school",),
    )
    return files, facts, {"enrolled": enrolled, "mobilities": mob}


def shape_baseline(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, waves=(2021, 2023))
    return Shape(
        "baseline", "two waves, three schools, one Erasmus+ release, a budget", files, facts
    )


def shape_survey_only(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, mobility=False)
    facts["absent_text"] = ["Outgoing mobility rate by school", "No objects to concatenate"]
    facts["present_text"] = ["no mobility input"]
    return Shape("survey_only", "no [[inputs.mobility]]: survey sections only", files, facts)


def shape_mobility_only(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, survey=False)
    facts["absent_text"] = ["Response rate by wave and school"]
    facts["present_text"] = ["no survey input"]
    facts["waves"] = []
    return Shape("mobility_only", "no [[inputs.surveys]]: mobility sections only", files, facts)


def shape_one_school(rng: random.Random) -> Shape:
    # 11 years: 11 school-year cells, more than the disclosure's min_base of 10
    files, facts, _ = _standard(
        rng, schools=("imt_nord_europe",), survey_n=60, years=range(2012, 2023)
    )
    facts["no_data"] = {"group": list(range(2012, 2023))}  # a group of one is not published
    facts["absent_text"] = ["IMT group (all schools)"]
    return Shape("one_school", "every input covers IMT Nord Europe only", files, facts)


def shape_one_school_not_focus(rng: random.Random) -> Shape:
    files, facts, _ = _standard(
        rng, schools=("telecom_paris",), survey_n=60, years=range(2012, 2023)
    )
    facts["no_data"] = {"group": list(range(2012, 2023))}
    facts["absent_text"] = ["IMT group (all schools)"]
    return Shape("one_school_not_focus", "one school, not the report's focus school", files, facts)


def shape_one_wave(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, waves=(2022,))
    return Shape("one_wave", "a single survey wave", files, facts)


def shape_wave_without_year(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, waves=(2023,))
    toml = str(files["study.toml"]).replace('wave = "2023"', 'wave = "spring"')
    toml = toml.replace(
        'cells = ["school", "gender"]', 'cells = ["school", "gender"]\nreference_year = 2022'
    )
    files["study.toml"] = toml
    facts["waves"] = ["spring"]
    facts["respondents"] = {"spring": facts["respondents"]["2023"]}
    return Shape(
        "wave_without_year",
        "a wave labelled 'spring' with weighting.reference_year = 2022",
        files,
        facts,
    )


def shape_enrolment_wider(rng: random.Random) -> Shape:
    files, facts, _ = _standard(
        rng, years=range(2016, 2022), enrol_years=range(2014, 2024), budget=None
    )
    facts["absent_text"] = ["0.0%"]
    facts["present_text"] = ["2022-23", "2014-15"]  # named as years without mobility data
    return Shape(
        "enrolment_wider",
        "enrolment 2014-2023, Erasmus+ 2016-2021: 2014, 2015, 2022, 2023 are no data (latest too)",
        files,
        facts,
    )


def shape_covid_years_missing(rng: random.Random) -> Shape:
    """The release misses 2019-20 and 2020-21 (the COVID break years): no "fell to" sentence
    may quote them (observation 1: "the rate fell to 0.0% in 2019-20")."""
    files, facts, ctx = _standard(rng, years=range(2014, 2023), budget=None)
    kept_rows = [r for r in ctx["mobilities"].rows if r[1] not in ("2019-20", "2020-21")]
    files["erasmus.csv"] = ka1_csv(Mobilities(rows=kept_rows))
    gaps = [2019, 2020]
    for s in DEFAULT_SCHOOLS:
        for y in gaps:
            facts["rates"][s].pop(str(y))
    facts["trend_cells"] = sum(len(v) for v in facts["rates"].values())
    facts["no_data"] = {"group": gaps, **{s: gaps for s in DEFAULT_SCHOOLS}}
    facts["no_data_alert"] = gaps
    facts["absent_text"] = ["0.0%", "fell to", "during the COVID-19 pandemic"]
    return Shape("covid_years_missing", "no mobility data for the COVID years", files, facts)


def shape_enrolment_narrower(rng: random.Random) -> Shape:
    files, facts, ctx = _standard(
        rng, years=range(2014, 2023), enrol_years=range(2017, 2021), budget=None
    )
    schools = DEFAULT_SCHOOLS
    facts["no_data"] = {"group": [2014, 2015, 2016, 2021, 2022]}
    facts["no_data"] |= {s: [2014, 2015, 2016, 2021, 2022] for s in schools}
    facts.pop("no_data_alert", None)  # years without enrolment: no rate, nothing to alert
    facts["counts"] = {
        s: {str(y): ctx["mobilities"].participants[(s, y)] for y in (2014, 2022)} for s in schools
    }
    return Shape(
        "enrolment_narrower",
        "enrolment 2017-2020 only: rates for those years, counts for all",
        files,
        facts,
    )


def shape_true_zero(rng: random.Random) -> Shape:
    """A covered year in which one school sent nobody: 0 is data there."""
    schools = DEFAULT_SCHOOLS
    years = range(2016, 2023)
    text, enrolled = enrolment_csv(rng, schools, years)
    zero = frozenset({("imt_mines_albi", 2020), ("imt_mines_albi", 2022)})
    mob = ka1_rows(rng, schools, years, zero=zero)
    files: dict[str, str | bytes] = {
        "codebook.toml": codebook(),
        "enrolment.csv": text,
        "erasmus.csv": ka1_csv(mob),
        "study.toml": study_toml(mobility=["erasmus.csv"]),
    }
    facts = {
        "sections": {"survey": False, "mobility": True, "budget": False},
        "rates": _rates(mob, enrolled, {(s, y) for s in schools for y in years}),
        "zero_rates": {"imt_mines_albi": [2020, 2022]},
        "trend_cells": len(schools) * len(years),
    }
    return Shape("true_zero", "a school with no outgoing student in covered years", files, facts)


def shape_latest_year_one_source(rng: random.Random) -> Shape:
    """Erasmus+ covers 2016-2021; IMT Nord Europe's own sheet also covers 2022."""
    schools = DEFAULT_SCHOOLS
    text, enrolled = enrolment_csv(rng, schools, range(2016, 2023))
    mob = ka1_rows(rng, schools, range(2016, 2022))
    sheet = [
        "Année universitaire;Type de mobilité;Pays de destination;Durée (mois);Financement;Nombre d'étudiants"
    ]
    sheet_n = 0
    for _ in range(6):
        k = rng.randint(1, 4)
        sheet_n += k
        sheet.append(f"2022/2023;Stage;Canada;{rng.randint(2, 6)};Région;{k}")
    files: dict[str, str | bytes] = {
        "codebook.toml": codebook(),
        "enrolment.csv": text,
        "erasmus.csv": ka1_csv(mob),
        "sheet_ine.csv": "\n".join(sheet) + "\n",
        "study.toml": study_toml(
            mobility=["erasmus.csv"],
            extra_mobility="""
[[inputs.mobility]]
path = "sheet_ine.csv"
format = "school-mobility"
school = "imt_nord_europe"

[inputs.mobility.columns]
"Année universitaire" = "academic_year"
"Type de mobilité" = "activity"
"Pays de destination" = "country"
"Durée (mois)" = "duration_months"
"Financement" = "funding"
"Nombre d'étudiants" = "participants"
""",
        ),
    }
    covered = {(s, y) for s in schools for y in range(2016, 2022)}
    rates = _rates(mob, enrolled, covered)
    rates["imt_nord_europe"]["2022"] = [sheet_n, enrolled[("imt_nord_europe", 2022)]]
    facts = {
        "sections": {"survey": False, "mobility": True, "budget": False},
        "rates": rates,
        "no_data": {"group": [2022], "telecom_paris": [2022], "imt_mines_albi": [2022]},
        "no_data_alert": [2022],
        "trend_cells": sum(len(v) for v in rates.values()),
        "absent_text": ["0.0%"],
    }
    return Shape(
        "latest_year_one_source",
        "2022-23 only in IMT Nord Europe's own sheet: other schools and the group have no data",
        files,
        facts,
    )


def shape_no_gender(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, gender=False)
    facts["absent_text"] = ["women minus men"]
    return Shape("no_gender", "no gender question; weighting by school only", files, facts)


def shape_no_budget(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, budget=None)
    facts["absent_text"] = ["90,000", "90 000", "envelope"]
    return Shape("no_budget", "no [budget] in the config: no budget anywhere", files, facts)


def shape_header_only(rng: random.Random) -> Shape:
    """Two exports of wave 2023, one per school; IMT Nord Europe's has its header only."""
    schools = ("imt_nord_europe", "telecom_paris")
    text, _ = enrolment_csv(rng, schools, range(2016, 2023))
    rs_tp = respondents(rng, {"telecom_paris": 60})
    rs_ine = respondents(rng, {"imt_nord_europe": 60})
    rs_old = respondents(rng, {"telecom_paris": 50})
    files: dict[str, str | bytes] = {
        "codebook.toml": codebook(),
        "enrolment.csv": text,
        "survey_2023_tp.csv": qualtrics_csv(rs_tp, 2023),
        "survey_2023_ine.csv": header_only(qualtrics_csv(rs_ine, 2023)),
        "survey_2021_ine.csv": header_only(qualtrics_csv(rs_ine, 2021)),
        "survey_2022_tp.csv": qualtrics_csv(rs_old, 2022),
        "study.toml": study_toml(
            surveys=[
                ("survey_2023_tp.csv", "2023"),
                ("survey_2023_ine.csv", "2023"),
                ("survey_2021_ine.csv", "2021"),
                ("survey_2022_tp.csv", "2022"),
            ]
        ),
    }
    facts = {
        "sections": {"survey": True, "mobility": False, "budget": False},
        "waves": ["2022", "2023"],
        "respondents": {"2023": kept(rs_tp), "2022": kept(rs_old)},
        "present_text": ["survey_2023_ine.csv", "survey_2021_ine.csv"],
        "empty_files": ["survey_2023_ine.csv", "survey_2021_ine.csv"],
        "one_school_waves": {"2023": "telecom_paris", "2022": "telecom_paris"},
    }
    return Shape("header_only", "header-only exports next to good ones", files, facts)


def shape_all_empty(rng: random.Random) -> Shape:
    schools = DEFAULT_SCHOOLS
    text, _ = enrolment_csv(rng, schools, range(2016, 2023))
    rs = respondents(rng, {s: 0 for s in schools}, unfinished=3, speeders=0)
    files: dict[str, str | bytes] = {
        "codebook.toml": codebook(),
        "enrolment.csv": text,
        "survey_2023.csv": header_only(qualtrics_csv([], 2023)),
        "survey_2022.csv": qualtrics_csv(rs, 2022),
        "study.toml": study_toml(
            surveys=[("survey_2023.csv", "2023"), ("survey_2022.csv", "2022")]
        ),
    }
    facts = {
        "error": {
            "exit": 2,
            "contains": ["survey_2023.csv", "survey_2022.csv", "unfinished", "no data rows"],
        }
    }
    return Shape(
        "all_empty",
        "one header-only export, one whose rows are all unfinished, no mobility: an error",
        files,
        facts,
    )


def shape_all_empty_with_mobility(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, survey=False)
    files["survey_2023.csv"] = header_only(qualtrics_csv([], 2023))
    files["study.toml"] = (
        str(files["study.toml"]).replace("[inputs]\n", "[inputs]\n", 1)
        + '\n[[inputs.surveys]]\npath = "survey_2023.csv"\nsource = "q"\nwave = "2023"\n'
    )
    facts["waves"] = []
    facts["present_text"] = ["survey_2023.csv", "no respondent"]
    return Shape(
        "all_empty_with_mobility",
        "the only survey export is header-only, mobility inputs exist: mobility-only report",
        files,
        facts,
    )


def shape_small_school(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, schools=("imt_nord_europe", "telecom_paris"), survey_n=60)
    rs = respondents(rng, {"imt_nord_europe": 60, "telecom_paris": 60, "imt_mines_albi": 4})
    files["survey_2023.csv"] = qualtrics_csv(rs, 2023)
    text, _ = enrolment_csv(rng, DEFAULT_SCHOOLS, range(2016, 2023))
    files["enrolment.csv"] = text
    facts["respondents"] = {"2023": kept(rs)}
    facts.pop("rates")  # enrolment rewritten: the rates are checked in other shapes
    facts.pop("budget")
    facts["sections"]["budget"] = True
    facts["suppressed"] = [
        "survey.intends_abroad.by_school.imt_mines_albi",
        "survey.went_abroad.by_school.imt_mines_albi",
        "survey.interest_dual_degree.mean.by_school.imt_mines_albi",
    ]
    # the Erasmus+ release never mentions IMT Mines Albi: no data (not zeros), so the model has
    # 2 schools x 7 years and the group rate (it would miss a school) is never published
    facts["trend_cells"] = 14
    years = list(range(2016, 2023))
    facts["no_data"] = {"group": years, "imt_mines_albi": years}
    facts["no_data_alert"] = years
    return Shape("small_school", "a school with 4 respondents (under min_base = 10)", files, facts)


def shape_everyone_yes(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, survey_n=40)
    rs = respondents(
        rng,
        {s: 40 for s in DEFAULT_SCHOOLS},
        intends=lambda s, r: 1 if s == "telecom_paris" else int(r.random() < 0.5),
    )
    files["survey_2023.csv"] = qualtrics_csv(rs, 2023)
    facts["respondents"] = {"2023": kept(rs)}
    facts["proportion"] = {"survey.intends_abroad.by_school.telecom_paris": 1.0}
    facts["not_estimable"] = ["models.intends_abroad.odds_ratio.school.telecom_paris"]
    return Shape(
        "everyone_yes", "every respondent of one school intends to go abroad", files, facts
    )


def shape_separation(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, survey_n=40)
    rs = respondents(rng, {s: 40 for s in DEFAULT_SCHOOLS})
    rs += [
        Respondent("mines_saint_etienne", "F", 3, 0, 1, 4, 2, 2, ("asia",)),
    ]
    files["survey_2023.csv"] = qualtrics_csv(rs, 2023)
    text, _ = enrolment_csv(rng, (*DEFAULT_SCHOOLS, "mines_saint_etienne"), range(2016, 2023))
    files["enrolment.csv"] = text
    facts["respondents"] = {"2023": kept(rs)}
    facts.pop("rates")
    facts.pop("budget")
    facts["sections"]["budget"] = True
    facts["not_estimable"] = ["models.intends_abroad.odds_ratio.school.mines_saint_etienne"]
    facts["trend_cells"] = 21  # 3 schools x 7 years: no source mentions Mines Saint-Étienne
    facts["absent_text"] = ["115,627"]
    return Shape(
        "separation", "a school with one respondent: its model term is separated", files, facts
    )


def shape_french(rng: random.Random) -> Shape:
    files, facts, _ = _standard(rng, waves=(2021, 2023), enrol_years=range(2016, 2024))
    files["study.toml"] = str(files["study.toml"]).replace('language = "en"', 'language = "fr"')
    facts["absent_text"] = ["0,0 %"]
    return Shape("french", "French report; enrolment one year past the release", files, facts)


def _sav_bytes(df: Any, **kw: Any) -> bytes:
    import tempfile

    import pyreadstat

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sav"
        pyreadstat.write_sav(df, str(path), **kw)
        return path.read_bytes()


def shape_qualtrics_sav(rng: random.Random) -> Shape:
    """A Qualtrics survey downloaded as SPSS .sav: previews and unfinished rows must go."""
    import pandas as pd

    files, facts, _ = _standard(rng, mobility=False)
    rs = respondents(rng, {s: 40 for s in DEFAULT_SCHOOLS}, unfinished=3, speeders=0)
    previews = respondents(rng, {"telecom_paris": 6}, unfinished=0, speeders=0)
    rows = [(r, 0.0) for r in rs] + [(r, 1.0) for r in previews]  # Status 1 = Survey Preview
    rng.shuffle(rows)
    qs = list(QUESTIONS) + [f"Q8_{i + 1}" for i in range(7)]
    data: dict[str, list[Any]] = {
        "StartDate": ["2023-03-01 10:00:00"] * len(rows),
        "Status": [st for _, st in rows],
        "Progress": [100.0 if r.finished else 40.0 for r, _ in rows],
        "Duration__in_seconds_": [float(r.duration) for r, _ in rows],
        "Finished": [1.0 if r.finished else 0.0 for r, _ in rows],
        "ResponseId": [f"R_sav{i:05d}" for i in range(len(rows))],
    }
    for q in qs:
        data[q] = []
    for r, _ in rows:
        data["Q1"].append(float(SCHOOLS[r.school][2]))
        data["Q2"].append(float(r.study_year))
        data["Q3"].append(1.0 if r.gender == "F" else 2.0)
        data["Q4"].append(1.0 if r.went else 2.0)
        data["Q5"].append(1.0 if r.intends else 2.0)
        data["Q6"].append(float(r.dual))
        data["Q7_1"].append(float(r.finance))
        data["Q7_2"].append(float(r.language))
        for j, o in enumerate(REGIONS):
            data[f"Q8_{j + 1}"].append(1.0 if o in r.regions else float("nan"))
    files["survey_2023.sav"] = _sav_bytes(
        pd.DataFrame(data),
        variable_value_labels={
            "Status": {0.0: "IP Address", 1.0: "Survey Preview"},
            "Finished": {0.0: "False", 1.0: "True"},
        },
    )
    del files["survey_2023.csv"]
    files["study.toml"] = str(files["study.toml"]).replace("survey_2023.csv", "survey_2023.sav")
    facts["respondents"] = {"2023": kept(rs)}  # no preview, no unfinished row
    return Shape("qualtrics_sav", "a Qualtrics SPSS download (.sav) with previews", files, facts)


GOOGLE_REGIONS = {
    "euroregion": "Belgium, Netherlands or Germany",
    "other_europe": "Other European countries",
    "north_america": "North America",
    "latin_america": "Latin America",
    "asia": "Asia",
    "africa": "Africa",
    "oceania": "Oceania",
}


def shape_multiselect_other(rng: random.Random) -> Shape:
    """Google Forms, regions ticked in one joined column, some with a free "Other" answer."""
    files, facts, _ = _standard(rng, mobility=False)
    rs = respondents(rng, {s: 40 for s in DEFAULT_SCHOOLS}, unfinished=0, speeders=0)
    others = ("Afrique du Sud", "Other: Antarctica", "Mars, peut-être")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Timestamp", "Your school", "Gender", "Year of study", "Went abroad",
                "Intends to go abroad", "Preferred regions"])  # fmt: skip
    selected = dict.fromkeys(REGIONS, 0)
    answered = 0
    with_other = 0
    for i, r in enumerate(rs):
        parts = [GOOGLE_REGIONS[o] for o in r.regions]
        if i % 5 == 0:
            parts.append(rng.choice(others))
            with_other += 1
        if parts:
            answered += 1
            for o in r.regions:
                selected[o] += 1
        w.writerow([f"2023/03/01 10:{i % 60:02d}:00", SCHOOLS[r.school][1],
                    "Female" if r.gender == "F" else "Male", r.study_year,
                    "Yes" if r.went else "No", "Yes" if r.intends else "No", ", ".join(parts)])  # fmt: skip
    files["survey_2023.csv"] = buf.getvalue()
    region_values = "\n".join(f'"{label}" = "{o}"' for o, label in GOOGLE_REGIONS.items())
    files["codebook.toml"] = (
        str(files["codebook.toml"]).replace(
            f"options = {json.dumps(list(REGIONS))}\n",
            f"options = {json.dumps(list(REGIONS))}\n[variables.pref_region.values]\n{region_values}\n",
        )
        + """
[[sources]]
id = "g"
platform = "google-forms"
wave = "2023"
language = "en"

[sources.columns]
"Your school" = "school"
"Gender" = "gender"
"Year of study" = "study_year"
"Went abroad" = "went_abroad"
"Intends to go abroad" = "intends_abroad"
"Preferred regions" = "pref_region"

[sources.values.gender]
"Female" = "F"
"Male" = "M"
"""
    )
    files["study.toml"] = str(files["study.toml"]).replace('source = "q"', 'source = "g"')
    facts["respondents"] = {"2023": kept(rs)}
    facts["option_share"] = {o: [selected[o], answered] for o in REGIONS}
    facts["absent_text"] = ["Antarctica", "Afrique du Sud", "Mars"]  # free text never output
    return Shape(
        "multiselect_other", f"{with_other} Google Forms answers with a free 'Other'", files, facts
    )


def shape_erasmus_xlsx(rng: random.Random) -> Shape:
    """The Erasmus+ KA1 release as a workbook, its rows over two sheets."""
    from openpyxl import Workbook

    files, facts, ctx = _standard(rng, survey=False, budget=None)
    rows = ctx["mobilities"].rows
    wb = Workbook()
    first = wb.active
    first.title = "KA1 2016-2018"
    second = wb.create_sheet("KA1 2019-2022")
    for ws in (first, second):
        ws.append(KA1_HEADER)
    for r in rows:
        (first if int(r[1][:4]) <= 2018 else second).append(r)
    buf = io.BytesIO()
    wb.save(buf)
    files["erasmus.xlsx"] = buf.getvalue()
    del files["erasmus.csv"]
    files["study.toml"] = str(files["study.toml"]).replace('"erasmus.csv"', '"erasmus.xlsx"')
    return Shape("erasmus_xlsx", "the Erasmus+ KA1 XLSX release, two sheets", files, facts)


def shape_school_name_variants(rng: random.Random) -> Shape:
    """School names written every which way (dashes, punctuation, brackets, former names) in
    the enrolment file and the survey: every row resolves to its school."""
    names = {
        "imt_nord_europe": "IMT (Nord Europe)",
        "telecom_paris": "Telecom Paris.",
        "imt_mines_albi": "IMT Mines Albi–Carmaux",
    }
    schools = tuple(names)
    years = range(2015, 2023)
    text, enrolled = enrolment_csv(rng, schools, years, names)
    # 2015-16: IMT Nord Europe's predecessors report separately (their sum is its head-count)
    lines = [
        ln for ln in text.splitlines() if not ln.startswith(f"{names['imt_nord_europe']};2015-16")
    ]
    enrolled[("imt_nord_europe", 2015)] = 0
    for old in ("Mines Douai", "Télécom Lille"):
        for g in ("F", "M"):
            n = rng.randint(100, 300)
            enrolled[("imt_nord_europe", 2015)] += n
            lines.append(f"{old};2015-16;{g};{n}")
    mob = ka1_rows(rng, schools, years)
    rs = respondents(rng, {s: 40 for s in schools})
    variants = {
        "imt_nord_europe": ("IMT (Nord Europe)", "IMT Nord-Europe", "IMT Nord Europe"),
        "telecom_paris": ("Telecom Paris.", "Télécom Paris", "TELECOM PARIS"),
        "imt_mines_albi": ("IMT Mines Albi–Carmaux", "IMT Mines Albi - Carmaux", "Mines Albi"),
    }
    buf = qualtrics_csv(rs, 2023)
    out = []
    for i, line in enumerate(buf.splitlines()):
        if i >= 3:
            cells = next(csv.reader([line]))
            school = next(s for s, c in SCHOOLS.items() if c[2] == cells[len(QUALTRICS_META)])
            cells[len(QUALTRICS_META)] = rng.choice(variants[school])
            sio = io.StringIO()
            csv.writer(sio, lineterminator="").writerow(cells)
            line = sio.getvalue()
        out.append(line)
    files: dict[str, str | bytes] = {
        "codebook.toml": codebook(school_values='"99" = "imt_nord_europe"'),
        "enrolment.csv": "\n".join(lines) + "\n",
        "erasmus.csv": ka1_csv(mob),
        "survey_2023.csv": "\n".join(out) + "\n",
        "study.toml": study_toml(surveys=[("survey_2023.csv", "2023")], mobility=["erasmus.csv"]),
    }
    covered = {(s, y) for s in schools for y in years}
    rates = _rates(mob, enrolled, covered)
    facts = {
        "sections": {"survey": True, "mobility": True, "budget": False},
        "waves": ["2023"],
        "respondents": {"2023": kept(rs)},
        "rates": rates,
        "trend_cells": sum(len(v) for v in rates.values()),
        "absent_text": ["unknown_school", "Unknown school names"],
    }
    return Shape("school_name_variants", "dashes, dots, brackets and former names", files, facts)


def shape_option_labels(rng: random.Random) -> Shape:
    """Custom option ids with French and English labels in the codebook; a French report shows
    the French labels and never the ids."""
    files, facts, _ = _standard(rng, mobility=False)
    ids = ("benelux", "germany", "far_east", "americas", "other_places", "africa_south", "pacific")
    fr = ("Pays du Benelux", "Allemagne", "Extrême-Orient", "Amériques", "Autres pays",
          "Afrique australe", "Pacifique")  # fmt: skip
    en = ("Benelux countries", "Germany", "Far East", "The Americas", "Other countries",
          "Southern Africa", "Pacific")  # fmt: skip
    cb = str(files["codebook.toml"]).replace(
        f"options = {json.dumps(list(REGIONS))}\n",
        f"options = {json.dumps(list(ids))}\n"
        + "[variables.pref_region.labels.en]\n"
        + "".join(f'{i} = "{label}"\n' for i, label in zip(ids, en, strict=True))
        + "[variables.pref_region.labels.fr]\n"
        + "".join(f'{i} = "{label}"\n' for i, label in zip(ids, fr, strict=True)),
    )
    for o, i in zip(REGIONS, ids, strict=True):
        cb = cb.replace(f'option = "{o}" }}', f'option = "{i}" }}')
    files["codebook.toml"] = cb
    files["study.toml"] = str(files["study.toml"]).replace('language = "en"', 'language = "fr"')
    facts["absent_text"] = list(ids)  # case-sensitive: "benelux" is not "Pays du Benelux"
    facts["present_text"] = list(fr[:4])
    return Shape(
        "option_labels", "custom option ids with FR/EN labels, French report", files, facts
    )


def shape_complement(rng: random.Random) -> Shape:
    """A school where 11 of 12 respondents intend to go abroad: publishing 91.7 % of 12
    reveals the one who does not (the complement counts as a small cell)."""
    files, facts, _ = _standard(rng, survey_n=40, budget=None)
    counter = {"n": 0}

    def intends(school: str, r: random.Random) -> int:
        if school != "imt_mines_albi":
            return int(r.random() < 0.5)
        counter["n"] += 1
        return 0 if counter["n"] == 1 else 1

    rs = respondents(
        rng, {"imt_nord_europe": 40, "telecom_paris": 40, "imt_mines_albi": 12},
        unfinished=0, speeders=0, intends=intends,
    )  # fmt: skip
    files["survey_2023.csv"] = qualtrics_csv(rs, 2023)
    facts["respondents"] = {"2023": kept(rs)}
    facts["suppressed"] = ["survey.intends_abroad.by_school.imt_mines_albi"]
    return Shape("complement", "11 of 12 answer yes in one school", files, facts)


SHAPES: tuple[Callable[[random.Random], Shape], ...] = (
    shape_baseline,
    shape_survey_only,
    shape_mobility_only,
    shape_one_school,
    shape_one_school_not_focus,
    shape_one_wave,
    shape_wave_without_year,
    shape_enrolment_wider,
    shape_enrolment_narrower,
    shape_covid_years_missing,
    shape_true_zero,
    shape_latest_year_one_source,
    shape_no_gender,
    shape_no_budget,
    shape_header_only,
    shape_all_empty,
    shape_all_empty_with_mobility,
    shape_small_school,
    shape_everyone_yes,
    shape_separation,
    shape_french,
    shape_qualtrics_sav,
    shape_multiselect_other,
    shape_erasmus_xlsx,
    shape_school_name_variants,
    shape_option_labels,
    shape_complement,
)


def build_shapes(seed: int = 2026) -> list[Shape]:
    out = []
    for i, make in enumerate(SHAPES):
        out.append(make(random.Random(seed * 1000 + i)))
    return out


def write_corpus(root: Path, seed: int = 2026) -> list[Path]:
    """Write every shape under ``root``; return the shape folders."""
    root = Path(root)
    folders = []
    for shape in build_shapes(seed):
        d = root / shape.name
        d.mkdir(parents=True, exist_ok=True)
        for name, content in shape.files.items():
            if isinstance(content, bytes):
                (d / name).write_bytes(content)
            else:
                (d / name).write_text(content, encoding="utf-8")
        facts = {"shape": shape.name, "about": shape.about, **shape.facts}
        (d / "facts.json").write_text(
            json.dumps(facts, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
        folders.append(d)
    return folders


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", type=Path)
    p.add_argument("--seed", type=int, default=2026)
    a = p.parse_args(argv)
    for d in write_corpus(a.output, a.seed):
        print(d)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
