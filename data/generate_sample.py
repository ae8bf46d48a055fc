"""Write the bundled SYNTHETIC sample inputs of mobility-study into ``data/raw/``.

Run as ``python data/generate_sample.py [--out data/raw] [--seed 2023]``.

Every file is made up: no real student, respondent or mobility record is in it. The files copy
the real export layouts (Qualtrics, LimeSurvey, Erasmus+ KA1 open data, a French Excel export)
so that the pipeline is exercised on realistic input, and they contain known effects so that
the report has something true to find. The same seed gives byte-identical files (numpy
``default_rng``; no clock, no locale, no hash-order dependence). ``README.md`` (written here
too) describes each file, its layout, the effects built in and the messiness planted in it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path

import numpy as np

DEFAULT_SEED = 2023
DEFAULT_OUT = Path(__file__).resolve().parent / "raw"

QUALTRICS_FILE = "survey_2023_qualtrics.csv"
LIMESURVEY_FILE = "survey_2021_limesurvey_imt_nord_europe.csv"
ERASMUS_FILE = "erasmus_ka1_2014_2022.csv"
SCHOOL_SHEET_FILE = "school_mobility_imt_nord_europe.csv"
ENROLMENT_FILE = "enrolment.csv"
CODEBOOK_FILE = "codebook.toml"
STUDY_FILE = "study.toml"
README_FILE = "README.md"

ALL_FILES = (
    QUALTRICS_FILE,
    LIMESURVEY_FILE,
    ERASMUS_FILE,
    SCHOOL_SHEET_FILE,
    ENROLMENT_FILE,
    CODEBOOK_FILE,
    STUDY_FILE,
    README_FILE,
)

NBSP = "\u00a0"
YEARS = tuple(range(2014, 2023))  # academic years 2014-15 .. 2022-23 (start years)
SURVEY_YEAR = 2022  # wave "2023" = spring 2023 = academic year 2022-23


# ------------------------------------------------------------------------------------------
# Schools: the ten IMT-group schools (ids as in docs/architecture.md)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    id: str
    name: str  # current name, as the school writes it
    code: int  # Q1 answer code in the 2023 survey
    enrol_2014: int  # enrolled students in 2014-15 (all predecessors together)
    growth: float  # yearly enrolment growth
    female_share: float  # share of women among enrolled students in 2014-15
    survey_rate: float  # completed responses / enrolment 2022-23 in the 2023 survey
    erasmus_rate: float  # Erasmus+ outgoing students / enrolment (before COVID)
    city: str
    lat: float
    lon: float


SCHOOLS = (
    School(
        "imt_atlantique", "IMT Atlantique", 1, 2050, 0.015, 0.27, 0.16, 0.06, "Nantes", 47.28, -1.52
    ),
    School(
        "imt_nord_europe",
        "IMT Nord Europe",
        2,
        2000,
        0.018,
        0.26,
        0.25,
        0.08,
        "Villeneuve d'Ascq",
        50.61,
        3.14,
    ),
    School(
        "imt_mines_albi", "IMT Mines Albi", 3, 850, 0.012, 0.30, 0.20, 0.05, "Albi", 43.92, 2.19
    ),
    School(
        "imt_mines_ales", "IMT Mines Alès", 4, 1100, 0.015, 0.29, 0.18, 0.05, "Alès", 44.13, 4.09
    ),
    School(
        "mines_saint_etienne",
        "Mines Saint-Étienne",
        5,
        1800,
        0.012,
        0.28,
        0.13,
        0.055,
        "Saint-Etienne",
        45.42,
        4.40,
    ),
    School(
        "telecom_paris", "Télécom Paris", 6, 1450, 0.02, 0.22, 0.10, 0.07, "Palaiseau", 48.71, 2.20
    ),
    School(
        "telecom_sudparis", "Télécom SudParis", 7, 1000, 0.02, 0.25, 0.17, 0.05, "Evry", 48.62, 2.44
    ),
    School(
        "imt_bs",
        "Institut Mines-Télécom Business School",
        8,
        1400,
        0.015,
        0.40,
        0.08,
        0.075,
        "Evry",
        48.63,
        2.44,
    ),
    School("eurecom", "EURECOM", 9, 620, 0.02, 0.21, 0.24, 0.05, "Biot", 43.61, 7.07),
    School(
        "mines_paris", "Mines Paris - PSL", 10, 1300, 0.012, 0.30, 0.11, 0.06, "Paris", 48.85, 2.34
    ),
)
SCHOOL_BY_ID = {s.id: s for s in SCHOOLS}

# Enrolment rows are written under the name the school had that year (predecessors before
# the 2017 mergers, IMT Lille Douai in 2017-18..2020-21), with the share of the school's total.
PREDECESSORS = {
    "imt_nord_europe": [
        (range(2014, 2017), [("Mines Douai", 0.66), ("Télécom Lille", 0.34)]),
        (range(2017, 2021), [("IMT Lille Douai", 1.0)]),
        (range(2021, 2023), [("IMT Nord Europe", 1.0)]),
    ],
    "imt_atlantique": [
        (range(2014, 2017), [("Télécom Bretagne", 0.52), ("Mines Nantes", 0.48)]),
        (range(2017, 2023), [("IMT Atlantique", 1.0)]),
    ],
}

# Erasmus+ senders per school and year: (code without padding, legal name, city, share).
# The codes of the predecessors (DOUAI05, LILLE15, BREST05, NANTES26) are SYNTHETIC.
ERASMUS_SENDERS = {
    "imt_nord_europe": [
        (
            range(2014, 2017),
            [
                ("DOUAI05", "ECOLE NATIONALE SUPERIEURE DES MINES DE DOUAI", "Douai", 0.66),
                ("LILLE15", "TELECOM LILLE", "Villeneuve D'Ascq", 0.34),
            ],
        ),
        (range(2017, 2021), [("DOUAI05", "IMT LILLE DOUAI", "Douai", 1.0)]),
        (
            range(2021, 2023),
            [("LILLE91", "Institut Mines-Télécom Nord Europe", "Villeneuve d'Ascq", 1.0)],
        ),
    ],
    "imt_atlantique": [
        (
            range(2014, 2017),
            [
                ("BREST05", "TELECOM BRETAGNE", "Brest", 0.52),
                ("NANTES26", "ECOLE DES MINES DE NANTES", "Nantes", 0.48),
            ],
        ),
        (
            range(2017, 2023),
            [("NANTES80", "IMT Atlantique Bretagne Pays de la Loire", "Nantes", 1.0)],
        ),
    ],
    "imt_mines_albi": [
        (
            range(2014, 2023),
            [
                (
                    "ALBI05",
                    "INSTITUT MINES TELECOM, ECOLE NATIONALE SUPERIEURE DES MINES ALBI CARMAUX",
                    "Albi",
                    1.0,
                )
            ],
        )
    ],
    "imt_mines_ales": [
        (
            range(2014, 2023),
            [("ALES02", "ECOLE NATIONALE SUPERIEURE DES MINES D'ALES", "Ales", 1.0)],
        )
    ],
    "mines_saint_etienne": [
        (
            range(2014, 2023),
            [
                (
                    "ST-ETIE06",
                    "Ecole Nationale Supérieure des Mines de Saint-Etienne",
                    "Saint-Etienne",
                    1.0,
                )
            ],
        )
    ],
    "telecom_paris": [
        (
            range(2014, 2019),
            [("PARIS083", "Institut Mines Telecom - Telecom Paris Tech", "Paris", 1.0)],
        ),
        (
            range(2019, 2023),
            [("PARIS083", "Institut Mines Telecom - Telecom Paris Tech", "Palaiseau", 1.0)],
        ),
    ],
    "telecom_sudparis": [(range(2014, 2023), [("EVRY11", "Télécom SudParis", "Evry", 1.0)])],
    "imt_bs": [
        (range(2014, 2023), [("EVRY12", "INSTITUT MINES-TELECOM BUSINESS SCHOOL", "Evry", 1.0)])
    ],
    "eurecom": [(range(2014, 2023), [("CANNES09", "EURECOM GIE", "Biot", 1.0)])],
    "mines_paris": [
        (
            range(2014, 2023),
            [("PARIS081", "ECOLE NATIONALE SUPERIEURE DES MINES DE PARIS", "Paris", 1.0)],
        )
    ],
}

COVID_FACTOR = {2019: 0.72, 2020: 0.40, 2021: 0.92}  # vs the trend; 2020-21 about -60 %


def _for_year(table: list, year: int) -> list:
    for years, entries in table:
        if year in years:
            return entries
    raise KeyError(year)


def _ay(year: int) -> str:
    """Academic year label ``2019-20``."""
    return f"{year}-{(year + 1) % 100:02d}"


def _pad_code(code: str, country: str = "F", nbsp: bool = False) -> str:
    """An Erasmus code as real files write it: the country letters padded to three chars."""
    pad = 3 - len(country)
    if pad <= 0:
        return f"{country} {code}"
    if nbsp:
        return country + NBSP + " " * (pad - 1) + code
    return country + " " * pad + code


# ------------------------------------------------------------------------------------------
# Output helpers: explicit encodings and line endings, never the platform's
# ------------------------------------------------------------------------------------------


def _csv_text(
    rows: Sequence[Sequence[str]], *, delimiter: str, lineterminator: str, quote_all: bool = False
) -> str:
    buf = io.StringIO()
    writer = csv.writer(
        buf,
        delimiter=delimiter,
        lineterminator=lineterminator,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerows(rows)
    return buf.getvalue()


def _write(path: Path, text: str, *, bom: bool = False) -> None:
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


def _ascii(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _cat(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """Index drawn with the given weights (pure Python: rng.choice(p=...) is slow in a loop)."""
    cum = list(accumulate(weights))
    return bisect_right(cum, rng.random() * cum[-1])


def _logistic(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------------------------------
# 5. Enrolment
# ------------------------------------------------------------------------------------------


def _enrolment(rng: np.random.Generator) -> dict[tuple[str, int], tuple[int, int]]:
    """(school id, year) -> (women, men) for the whole school (predecessors together)."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for s in SCHOOLS:
        for y in YEARS:
            total = s.enrol_2014 * (1 + s.growth) ** (y - 2014) * (1 + rng.normal(0, 0.012))
            share_f = s.female_share + 0.004 * (y - 2014) + rng.normal(0, 0.004)
            women = int(round(total * share_f))
            out[(s.id, y)] = (women, int(round(total)) - women)
    return out


def _enrolment_rows(enrol: dict[tuple[str, int], tuple[int, int]]) -> list[list[str]]:
    rows = [["school", "academic_year", "gender", "enrolled"]]
    for s in SCHOOLS:
        for y in YEARS:
            women, men = enrol[(s.id, y)]
            names = _for_year(PREDECESSORS[s.id], y) if s.id in PREDECESSORS else [(s.name, 1.0)]
            # split exactly: the parts of a merged school add up to the school's total
            f_left, m_left = women, men
            for i, (name, share) in enumerate(names):
                last = i == len(names) - 1
                f = f_left if last else int(round(women * share))
                m = m_left if last else int(round(men * share))
                f_left, m_left = f_left - f, m_left - m
                rows.append([name, _ay(y), "F", str(f)])
                rows.append([name, _ay(y), "M", str(m)])
    return rows


# ------------------------------------------------------------------------------------------
# 1. Qualtrics survey, wave 2023
# ------------------------------------------------------------------------------------------

FIRST_F = [
    "Léa",
    "Chloé",
    "Zoé",
    "Inès",
    "Manon",
    "Camille",
    "Hélène",
    "Noémie",
    "Sarah",
    "Emma",
    "Jade",
    "Louise",
    "Anaïs",
    "Maëlle",
    "Yasmine",
    "Clémence",
    "Lucie",
    "Margaux",
    "Océane",
    "Amélie",
]
FIRST_M = [
    "Théo",
    "Lucas",
    "Hugo",
    "Maël",
    "Benoît",
    "François",
    "Nathan",
    "Thomas",
    "Antoine",
    "Mehdi",
    "Jérôme",
    "Louis",
    "Gaëtan",
    "Quentin",
    "Valentin",
    "Rémi",
    "Adrien",
    "Bastien",
    "Yanis",
    "Cédric",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Lemaire",
    "Dupont",
    "Nguyen",
    "Benali",
    "Moreau",
    "Girard",
    "Rousseau",
    "Fournier",
    "Mercier",
    "Garnier",
    "Faure",
    "André",
    "Leclercq",
    "Vandenberghe",
    "Delattre",
    "Durand",
    "Petit",
    "Roux",
    "Laurent",
    "Morel",
    "Bonnet",
    "Lambert",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Müller",
    "Kowalski",
    "Haddad",
    "Pham",
    "Le Goff",
    "Le Gall",
    "Caron",
    "Dumont",
    "Boucher",
]

COMMENTS_EN = [
    "Erasmus grants are too small to live in Amsterdam.",
    "I would love a dual degree in Germany but the language is a problem.",
    "More information about partner universities please.",
    "Credits from my semester abroad were hard to get recognised.",
    "The international office was very helpful.",
    "Housing abroad is the main cost, not tuition.",
    "I already did an internship in Canada, great experience.",
]
COMMENTS_FR = [
    "Les bourses Erasmus ne couvrent pas le loyer à Bruxelles.",
    "J'aimerais faire un double diplôme en Belgique (Mons), c'est très intéressant.",
    "Pas assez d'informations sur les accords de double diplôme.",
    "Le coût de la vie à l'étranger est un frein énorme pour moi.",
    "Très bonne expérience à Delft, je recommande !",
    "La reconnaissance des crédits ECTS a été compliquée à mon retour.",
    "Je préfère rester en France à cause de ma situation familiale.",
    "Stage à Montréal : génial, mais démarches de visa très longues.",
    "Il faudrait plus de partenaires en Amérique latine… ¿por qué no?",
    "Cours en anglais : oui ; en allemand : non merci.",
]
# Strings that must come out harmless in HTML, CSV and spreadsheet outputs (if they ever got
# there: free text is never output). Each appears once.
COMMENTS_HOSTILE = [
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "+33 6 12 34 56 78 si vous voulez en parler",
    "@SUM(A1)",
    "-2+3",
    'Réponse avec "guillemets", virgule, et\nun saut de ligne',
]

REGIONS = (
    "euroregion",
    "other_europe",
    "north_america",
    "latin_america",
    "asia",
    "africa",
    "oceania",
)
REGION_LABELS_EN = {
    "euroregion": "Belgium, Netherlands or Germany (Euroregion)",
    "other_europe": "Other European countries",
    "north_america": "North America",
    "latin_america": "Latin America",
    "asia": "Asia",
    "africa": "Africa",
    "oceania": "Oceania",
}
REGION_LABELS_FR = {
    "euroregion": "Belgique, Pays-Bas ou Allemagne (Eurorégion)",
    "other_europe": "Autres pays d'Europe",
    "north_america": "Amérique du Nord",
    "latin_america": "Amérique latine",
    "asia": "Asie",
    "africa": "Afrique",
    "oceania": "Océanie",
}
REGION_PROB = {
    "euroregion": 0.30,
    "other_europe": 0.45,
    "north_america": 0.40,
    "latin_america": 0.12,
    "asia": 0.25,
    "africa": 0.06,
    "oceania": 0.15,
}

Q_META = [
    ("StartDate", "Start Date", {"ImportId": "startDate", "timeZone": "Europe/Paris"}),
    ("EndDate", "End Date", {"ImportId": "endDate", "timeZone": "Europe/Paris"}),
    ("Status", "Response Type", {"ImportId": "status"}),
    ("IPAddress", "IP Address", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"}),
    ("Finished", "Finished", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", "timeZone": "Europe/Paris"}),
    ("ResponseId", "Response ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", {"ImportId": "userLanguage"}),
]
_BARRIER_Q = "To what extent is each of the following a barrier to going abroad for you?"
_REGION_Q = "Which regions would you prefer as a destination? (select all that apply)"
Q_QUESTIONS = [
    ("Q1", "Which IMT school are you enrolled in?", {"ImportId": "QID1"}),
    ("Q2", "What is your current year of study?", {"ImportId": "QID2"}),
    ("Q3", "What is your gender?", {"ImportId": "QID3"}),
    (
        "Q4",
        "Have you already completed a study period or internship abroad during your studies?",
        {"ImportId": "QID4"},
    ),
    (
        "Q5",
        "Do you intend to go abroad (study or internship) before graduating?",
        {"ImportId": "QID5"},
    ),
    (
        "Q6",
        "How interested are you in a dual degree with a partner institution abroad?",
        {"ImportId": "QID6"},
    ),
    ("Q7_1", f"{_BARRIER_Q} - Financial cost", {"ImportId": "QID7_1"}),
    ("Q7_2", f"{_BARRIER_Q} - Language", {"ImportId": "QID7_2"}),
    ("Q7_3", f"{_BARRIER_Q} - Recognition of credits", {"ImportId": "QID7_3"}),
    *[
        (
            f"Q8_{i}",
            f"{_REGION_Q} - {REGION_LABELS_EN[r]}",
            {"ImportId": "QID8", "choiceId": str(i)},
        )
        for i, r in enumerate(REGIONS, start=1)
    ],
    (
        "Q9_TEXT",
        "Any other comment about going abroad during your studies?",
        {"ImportId": "QID9_TEXT"},
    ),
]
Q_PAGES = [["Q1", "Q2", "Q3"], ["Q4", "Q5"], ["Q6"], ["Q7_1", "Q7_2", "Q7_3"],
           [f"Q8_{i}" for i in range(1, 8)], ["Q9_TEXT"]]  # fmt: skip


@dataclass
class _Resp:
    school_code: int
    school_id: str | None
    gender: int
    study_year: int
    went_abroad: int
    intends_abroad: int
    interest_dd: int
    barriers: list[int]
    regions: list[int]
    comment: str
    lang: str


def _ip(rng: np.random.Generator) -> str:
    prefix = ("192.0.2", "198.51.100", "203.0.113")[int(rng.integers(3))]
    return f"{prefix}.{int(rng.integers(1, 255))}"


def _response_id(rng: np.random.Generator) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "R_" + "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 15))


def _likert(rng: np.random.Generator, probs: Sequence[float]) -> int:
    return _cat(rng, probs) + 1


def _draw_answers(rng: np.random.Generator, school: School, gender: int) -> _Resp:
    """One respondent's answers under the study's generating model (see README)."""
    study_year = _cat(rng, [0.22, 0.22, 0.22, 0.20, 0.14]) + 1
    went = int(rng.random() < _logistic(-3.2 + 0.85 * (study_year - 1)))
    fin = _likert(rng, [0.15, 0.20, 0.25, 0.22, 0.18])
    lang_b = _likert(rng, [0.25, 0.28, 0.22, 0.15, 0.10])
    recog = _likert(rng, [0.30, 0.30, 0.20, 0.12, 0.08])
    ine = school.id == "imt_nord_europe"
    logit = (
        1.3 - 0.75 * (fin - 3) - 0.25 * (lang_b - 3) + 0.35 * (gender == 1) + 0.3 * went + 0.4 * ine
    )
    intends = int(rng.random() < _logistic(logit))
    latent = rng.normal(2.9 + 0.9 * ine + 0.3 * intends, 1.0)
    interest = int(min(5, max(1, round(latent))))
    regions = []
    for r in REGIONS:
        p = REGION_PROB[r]
        if r == "euroregion" and ine:
            p = 0.65
        if not intends:
            p *= 0.5
        regions.append(int(rng.random() < p))
    lang = "FR" if rng.random() < 0.7 else "EN"
    comment = ""
    if rng.random() < 0.12:
        pool = COMMENTS_FR if lang == "FR" else COMMENTS_EN
        comment = pool[int(rng.integers(len(pool)))]
    return _Resp(school.code, school.id, gender, study_year, went, intends, interest,
                 [fin, lang_b, recog], regions, comment, lang)  # fmt: skip


def _answer_cells(r: _Resp, pages_answered: int) -> dict[str, str]:
    cells = {
        "Q1": str(r.school_code),
        "Q2": str(r.study_year),
        "Q3": str(r.gender),
        "Q4": "1" if r.went_abroad else "2",
        "Q5": "1" if r.intends_abroad else "2",
        "Q6": str(r.interest_dd),
        "Q7_1": str(r.barriers[0]),
        "Q7_2": str(r.barriers[1]),
        "Q7_3": str(r.barriers[2]),
        "Q9_TEXT": r.comment,
    }
    for i, sel in enumerate(r.regions, start=1):
        cells[f"Q8_{i}"] = "1" if sel else ""
    answered = {q for page in Q_PAGES[:pages_answered] for q in page}
    return {q: (v if q in answered else "") for q, v in cells.items()}


def _fmt_dt(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S")


def _qualtrics(rng: np.random.Generator, enrol: dict) -> tuple[str, dict]:
    """The 2023 survey as a modern Qualtrics CSV export; returns (text, counts for README)."""
    field_start = datetime(2023, 3, 6, 8, 0, 0)
    field_days = 40
    used_emails: dict[str, int] = {}
    records: list[dict[str, str]] = []
    stats = {"complete_by_school": {}, "unfinished": 0, "preview": 0, "spam": 0, "speeders": 0,
             "duplicates": 0, "out_of_scale": 0, "unknown_school": 0, "hostile_comments": 0}  # fmt: skip

    used_numbers: set[int] = set()

    def student_number() -> str:
        """A unique student number (a shared one would make two students one respondent)."""
        while True:
            k = int(rng.integers(100000, 999999))
            if k not in used_numbers:
                used_numbers.add(k)
                return f"STU{k}"

    def person(gender: int, school: School) -> dict[str, str]:
        if gender == 1 or (gender == 3 and rng.random() < 0.5):
            first = FIRST_F[int(rng.integers(len(FIRST_F)))]
        else:
            first = FIRST_M[int(rng.integers(len(FIRST_M)))]
        last = LAST[int(rng.integers(len(LAST)))]
        base = f"{_ascii(first)}.{_ascii(last)}".lower().replace(" ", "-")
        n = used_emails.get(base, 0) + 1
        used_emails[base] = n
        email = f"{base}{'' if n == 1 else n}@example.org"
        return {
            "RecipientLastName": last,
            "RecipientFirstName": first,
            "RecipientEmail": email,
            "ExternalReference": student_number(),
            "DistributionChannel": "email",
            "IPAddress": _ip(rng),
            "LocationLatitude": f"{school.lat + rng.normal(0, 0.05):.12f}",
            "LocationLongitude": f"{school.lon + rng.normal(0, 0.05):.12f}",
        }

    def record(resp: _Resp, who: dict, *, start: datetime, duration: int, status: int = 0,
               finished: bool = True, pages: int = len(Q_PAGES)) -> dict[str, str]:  # fmt: skip
        if finished:
            end = start + timedelta(seconds=duration)
            recorded = end
            progress = 100
        else:
            # Qualtrics closes an abandoned session after a week and records it then
            end = start + timedelta(days=7, seconds=int(rng.integers(0, 600)))
            recorded = end
            duration = int((end - start).total_seconds())
            progress = int(round(100 * pages / (len(Q_PAGES) + 1)))
        row = {
            "StartDate": _fmt_dt(start),
            "EndDate": _fmt_dt(end),
            "Status": str(status),
            "Progress": str(progress),
            "Duration (in seconds)": str(duration),
            "Finished": "1" if finished else "0",
            "RecordedDate": _fmt_dt(recorded),
            "ResponseId": _response_id(rng),
            "UserLanguage": resp.lang,
            **who,
        }
        row.update(_answer_cells(resp, pages))
        return row

    def start_time() -> datetime:
        day = int(rng.integers(0, field_days))
        sec = int(rng.integers(0, 14 * 3600))
        return field_start + timedelta(days=day, seconds=sec)

    def normal_duration() -> int:
        return int(max(75, round(rng.lognormal(np.log(430), 0.55))))

    female_or = 1.5  # odds ratio of answering, women vs men: women over-represented
    complete_rows: list[tuple[dict, _Resp, dict]] = []
    for s in SCHOOLS:
        women, men = enrol[(s.id, SURVEY_YEAR)]
        n = int(round(s.survey_rate * (women + men)))
        share_f = women / (women + men)
        p_f = female_or * share_f / (female_or * share_f + (1 - share_f))
        stats["complete_by_school"][s.id] = n
        for _ in range(n):
            u = rng.random()
            gender = 3 if u < 0.02 else (1 if u < 0.02 + 0.98 * p_f else 2)
            resp = _draw_answers(rng, s, gender)
            who = person(gender, s)
            row = record(resp, who, start=start_time(), duration=normal_duration())
            complete_rows.append((row, resp, who))
            records.append(row)

    # unfinished responses: 4-5 % of the schools' invitations that were started
    for s in SCHOOLS:
        k = int(round(0.045 * stats["complete_by_school"][s.id]))
        for _ in range(k):
            u = rng.random()
            gender = 3 if u < 0.02 else (1 if u < 0.35 else 2)
            resp = _draw_answers(rng, s, gender)
            pages = int(rng.integers(1, len(Q_PAGES) - 1))
            records.append(record(resp, person(gender, s), start=start_time(), duration=0,
                                  finished=False, pages=pages))  # fmt: skip
            stats["unfinished"] += 1

    # previews (Status 1) by staff testing the survey before fieldwork
    for _ in range(4):
        s = SCHOOLS[int(rng.integers(len(SCHOOLS)))]
        resp = _draw_answers(rng, s, 2)
        who = {
            k: ""
            for k in (
                "RecipientLastName",
                "RecipientFirstName",
                "RecipientEmail",
                "ExternalReference",
            )
        }
        who.update(DistributionChannel="preview", IPAddress=_ip(rng),
                   LocationLatitude=f"{48.71 + rng.normal(0, 0.01):.12f}",
                   LocationLongitude=f"{2.20 + rng.normal(0, 0.01):.12f}")  # fmt: skip
        start = datetime(2023, 3, 1, 9, 0, 0) + timedelta(minutes=int(rng.integers(0, 2000)))
        records.append(
            record(resp, who, start=start, duration=int(rng.integers(90, 400)), status=1)
        )
        stats["preview"] += 1

    # spam (Status 8): anonymous link, random answers, junk text
    for i in range(3):
        s = SCHOOLS[int(rng.integers(len(SCHOOLS)))]
        resp = _draw_answers(rng, s, int(rng.integers(1, 3)))
        resp.comment = ["buy cheap followers www.example.com", "asdfgh", "ok ok ok ok"][i]
        who = {
            k: ""
            for k in (
                "RecipientLastName",
                "RecipientFirstName",
                "RecipientEmail",
                "ExternalReference",
            )
        }
        who.update(DistributionChannel="anonymous", IPAddress=_ip(rng),
                   LocationLatitude=f"{rng.uniform(-40, 60):.12f}",
                   LocationLongitude=f"{rng.uniform(-100, 120):.12f}")  # fmt: skip
        records.append(
            record(resp, who, start=start_time(), duration=int(rng.integers(20, 200)), status=8)
        )
        stats["spam"] += 1

    # pick distinct complete rows for the planted problems (fixed order, no overlap)
    order = rng.permutation(len(complete_rows))
    picks = iter(int(i) for i in order)

    # speeders: finished in under a minute, straight-lined answers
    for _ in range(6):
        row, resp, _who = complete_rows[next(picks)]
        dur = int(rng.integers(18, 56))
        start = datetime.strptime(row["StartDate"], "%Y-%m-%d %H:%M:%S")
        end = start + timedelta(seconds=dur)
        row.update({"Duration (in seconds)": str(dur), "EndDate": _fmt_dt(end), "RecordedDate": _fmt_dt(end),
                    "Q6": "3", "Q7_1": "3", "Q7_2": "3", "Q7_3": "3", "Q9_TEXT": ""})  # fmt: skip
        stats["speeders"] += 1

    # duplicates: the same recipient answered twice (a reminder e-mail), a few days later
    for _ in range(5):
        row, resp, who = complete_rows[next(picks)]
        resp2 = _draw_answers(rng, SCHOOL_BY_ID[resp.school_id], resp.gender)
        resp2.study_year = resp.study_year
        resp2.went_abroad = resp.went_abroad
        start = datetime.strptime(row["StartDate"], "%Y-%m-%d %H:%M:%S") + timedelta(
            days=int(rng.integers(2, 9))
        )
        records.append(
            record(resp2, dict(who, IPAddress=_ip(rng)), start=start, duration=normal_duration())
        )
        stats["duplicates"] += 1

    # out-of-scale Likert values (a recode slip: 7 where 1-5 is expected)
    for col, val in (("Q6", "7"), ("Q7_1", "7"), ("Q7_2", "6")):
        row, _resp, _who = complete_rows[next(picks)]
        row[col] = val
        stats["out_of_scale"] += 1

    # unknown school code
    for _ in range(2):
        row, _resp, _who = complete_rows[next(picks)]
        row["Q1"] = "99"
        stats["unknown_school"] += 1

    # hostile / tricky free text
    for text in COMMENTS_HOSTILE:
        row, _resp, _who = complete_rows[next(picks)]
        row["Q9_TEXT"] = text
        stats["hostile_comments"] += 1

    records.sort(key=lambda r: (r["RecordedDate"], r["ResponseId"]))
    columns = [c for c, _, _ in Q_META] + [c for c, _, _ in Q_QUESTIONS]
    header = [
        columns,
        [lab for _, lab, _ in Q_META] + [lab for _, lab, _ in Q_QUESTIONS],
        [json.dumps(imp, separators=(",", ":")) for _, _, imp in Q_META + Q_QUESTIONS],
    ]
    body = [[r.get(c, "") for c in columns] for r in records]
    stats["rows"] = len(body)
    return _csv_text(header + body, delimiter=",", lineterminator="\n"), stats


# ------------------------------------------------------------------------------------------
# 2. LimeSurvey survey, wave 2021, IMT Nord Europe (then IMT Lille Douai) only
# ------------------------------------------------------------------------------------------

LS_COLUMNS = [
    "id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
    "G01Q01", "G01Q02", "G01Q03", "G01Q04", "G01Q05", "G01Q06",
    "G02Q07[SQ001]", "G02Q07[SQ002]",
    *[f"G02Q08[SQ{i:03d}]" for i in range(1, 8)],
    "G02Q09",
]  # fmt: skip
LS_PLACEHOLDER = "1980-01-01 00:00:00"
LS_COMMENTS = [
    "Avec le Covid, impossible de partir cette année.",
    "Le double diplôme avec Mons m'intéresse beaucoup.",
    "Les cours à distance depuis l'étranger, ce n'est pas une vraie mobilité.",
    "Trop cher de vivre à Amsterdam avec la bourse.",
    "J'attends la réouverture des frontières pour mon stage au Québec.",
    "Rien à signaler.",
    "Il faudrait plus d'accords avec l'Allemagne et les Pays-Bas.",
]


def _limesurvey(rng: np.random.Generator) -> tuple[str, dict]:
    """Spring 2021 survey of IMT Lille Douai students (LimeSurvey RemoteControl export)."""
    n_rows = 300
    n_incomplete = 24
    n_placeholder = 38  # responses imported from a non-datestamped copy of the survey
    incomplete = set(int(i) for i in rng.choice(n_rows, n_incomplete, replace=False))
    complete_idx = [i for i in range(n_rows) if i not in incomplete]
    placeholder = set(int(i) for i in rng.choice(complete_idx, n_placeholder, replace=False))
    t0 = datetime(2021, 3, 15, 8, 0, 0)
    rid = 11
    rows: list[list[str | None]] = []
    for i in range(n_rows):
        rid += 1 + int(rng.random() < 0.06)  # a few ids deleted (test responses)
        campus = "A1" if rng.random() < 0.6 else "A2"
        study_year = _cat(rng, [0.24, 0.22, 0.22, 0.20, 0.12]) + 1
        u = rng.random()
        gender = "A3" if u < 0.02 else ("A1" if u < 0.37 else "A2")
        went = rng.random() < _logistic(-3.6 + 0.8 * (study_year - 1))
        fin = _likert(rng, [0.12, 0.18, 0.25, 0.25, 0.20])
        lang_b = _likert(rng, [0.25, 0.28, 0.22, 0.15, 0.10])
        intends = rng.random() < _logistic(0.9 - 0.7 * (fin - 3) - 0.25 * (lang_b - 3))
        dual = rng.random() < (0.62 if intends else 0.35)
        regions = []
        for r in REGIONS:
            p = 0.6 if r == "euroregion" else REGION_PROB[r]
            regions.append(rng.random() < (p if intends else p / 2))
        comment = LS_COMMENTS[int(rng.integers(len(LS_COMMENTS)))] if rng.random() < 0.1 else ""
        start = t0 + timedelta(
            days=int(rng.integers(0, 45)), seconds=int(rng.integers(0, 13 * 3600))
        )
        end = start + timedelta(seconds=int(max(80, rng.lognormal(np.log(380), 0.5))))
        lang = "fr" if rng.random() < 0.9 else "en"
        seed = str(int(rng.integers(10**8, 2 * 10**9)))
        g1 = [campus, f"A{study_year}", gender, "Y" if went else "N", "Y" if intends else "N",
              "Y" if dual else "N"]  # fmt: skip
        g2 = [f"A{fin}", f"A{lang_b}", *["Y" if sel else "" for sel in regions], comment]
        if i in incomplete:
            if rng.random() < 0.5:  # left on page 1: nothing saved
                lastpage, answers = None, [None] * (len(g1) + len(g2))
            else:  # submitted page 1, left on page 2
                lastpage, answers = "1", g1 + [None] * len(g2)
            submit, dstamp = None, _fmt_dt(end)
        elif i in placeholder:
            lastpage, answers = "2", g1 + g2
            submit = dstamp = LS_PLACEHOLDER
            start = datetime(1980, 1, 1)
        else:
            lastpage, answers = "2", g1 + g2
            submit = dstamp = _fmt_dt(end)
        rows.append([str(rid), submit, lastpage, lang, seed, _fmt_dt(start), dstamp, *answers])

    # LimeSurvey's CsvWriter: BOM, every value quoted, NULL as an empty unquoted field, CRLF,
    # and a final empty line.
    def cell(v: str | None) -> str:
        return "" if v is None else '"' + v.replace('"', '""') + '"'

    lines = [";".join(cell(c) for c in LS_COLUMNS)]
    lines += [";".join(cell(v) for v in r) for r in rows]
    stats = {"rows": n_rows, "incomplete": n_incomplete, "placeholder": n_placeholder}
    return "\r\n".join(lines) + "\r\n\r\n", stats


# ------------------------------------------------------------------------------------------
# 3. Erasmus+ KA1 open data
# ------------------------------------------------------------------------------------------

ERASMUS_HEADER = [
    "Project Reference", "Academic Year", "Mobility Start Month", "Mobility End Month",
    "Mobility Duration", "Activity (mob)", "Field of Education", "Participant Nationality",
    "Education Level", "Participant Gender", "Participant Profile", "Special Needs",
    "Fewer Opportunities", "GroupLeader", "Participant Age", "Sending Country Code",
    "Sending City", "Sending Organization", "Sending Organisation Erasmus Code",
    "Receiving Country Code", "Receiving City", "Receiving Organization",
    "Receiving Organisation Erasmus Code", "Participants",
]  # fmt: skip

ACT_STUDY = "Student mobility for studies between Programme Countries"
ACT_TRAIN = "Student mobility for traineeships between Programme Countries"
ACT_PARTNER = "Student mobility for Studies To/From Partner Countries"
ACT_STAFF = ("Staff mobility for teaching between Programme Countries",
             "Staff mobility for training between Programme Countries")  # fmt: skip
LEVEL_7 = "ISCED-7 - Second cycle / Master\u2019s or equivalent level (EQF-7)"
LEVEL_6 = "ISCED-6 - First cycle / Bachelor\u2019s or equivalent level (EQF-6)"
LEVEL_8 = "ISCED-8 - Third cycle / Doctoral or equivalent level (EQF-8)"
LEVEL_UNKNOWN = "??? - ? Unknown ?"
FIELD_UNKNOWN = "? Unknown ?"
FIELDS = {
    "engineering": ["Engineering and engineering trades", "Information and Communication Technologies (ICTs)",
                    "Manufacturing and processing", "Physical sciences"],
    "telecom": ["Information and Communication Technologies (ICTs)", "Engineering and engineering trades",
                "Mathematics and statistics"],
    "business": ["Business and administration", "Information and Communication Technologies (ICTs)"],
}  # fmt: skip
SCHOOL_FIELDS = {"telecom_paris": "telecom", "telecom_sudparis": "telecom", "eurecom": "telecom",
                 "imt_bs": "business"}  # fmt: skip

# Host institutions: country code (as Erasmus+ writes it) -> [(name, city, erasmus code)]
HOSTS = {
    "BE": [("UNIVERSITE DE MONS", "Mons", "B  MONS21"), ("UNIVERSITE CATHOLIQUE DE LOUVAIN", "Louvain-La-Neuve", "B  LOUVAIN01"),
           ("UNIVERSITEIT GENT", "Gent", "B  GENT01")],
    "NL": [("TECHNISCHE UNIVERSITEIT DELFT", "Delft", "NL DELFT01"), ("TECHNISCHE UNIVERSITEIT EINDHOVEN", "Eindhoven", "NL EINDHOV17"),
           ("UNIVERSITEIT TWENTE", "Enschede", "NL ENSCHED01")],
    "DE": [("RHEINISCH-WESTFAELISCHE TECHNISCHE HOCHSCHULE AACHEN", "Aachen", "D  AACHEN01"),
           ("KARLSRUHER INSTITUT FUER TECHNOLOGIE", "Karlsruhe", "D  KARLSRU01"),
           ("TECHNISCHE UNIVERSITAET DRESDEN", "Dresden", "D  DRESDEN02")],
    "ES": [("UNIVERSIDAD POLITECNICA DE MADRID", "Madrid", "E  MADRID05"), ("UNIVERSITAT POLITECNICA DE CATALUNYA", "Barcelona", "E  BARCELO03")],
    "IT": [("POLITECNICO DI MILANO", "Milano", "I  MILANO02"), ("POLITECNICO DI TORINO", "Torino", "I  TORINO02")],
    "SE": [("KUNGLIGA TEKNISKA HOEGSKOLAN", "Stockholm", "S  STOCKHO04"), ("CHALMERS TEKNISKA HOEGSKOLA AB", "Goteborg", "S  GOTEBOR02")],
    "UK": [("IMPERIAL COLLEGE OF SCIENCE TECHNOLOGY AND MEDICINE", "London", "UK LONDON029"), ("CRANFIELD UNIVERSITY", "Cranfield", "UK CRANFIE01")],
    "FI": [("AALTO-KORKEAKOULUSAATIO SR", "Espoo", "SF ESPOO12")],
    "PT": [("UNIVERSIDADE DE LISBOA", "Lisboa", "P  LISBOA109")],
    "IE": [("THE PROVOST, FELLOWS, FOUNDATION SCHOLARS & THE OTHER MEMBERS OF BOARD OF THE COLLEGE OF THE HOLY & UNDIVIDED TRINITY OF QUEEN ELIZABETH NEAR DUBLIN", "Dublin", "IRL DUBLIN02")],
    "CZ": [("CESKE VYSOKE UCENI TECHNICKE V PRAZE", "Praha", "CZ PRAHA10")],
    "EL": [("NATIONAL TECHNICAL UNIVERSITY OF ATHENS - NTUA", "Athina", "G  ATHINE42")],
    "NO": [("NORGES TEKNISK-NATURVITENSKAPELIGE UNIVERSITET NTNU", "Trondheim", "N  TRONDHE01")],
    "AT": [("TECHNISCHE UNIVERSITAET WIEN", "Wien", "A  WIEN02")],
    "PL": [("POLITECHNIKA WARSZAWSKA", "Warszawa", "PL WARSZAW02")],
}  # fmt: skip
COMPANIES = {
    "BE": [("Solvay SA", "Bruxelles"), ("Engie Laborelec", "Linkebeek")],
    "NL": [("ASML Netherlands B.V.", "Veldhoven"), ("Royal HaskoningDHV", "Amersfoort")],
    "DE": [("Siemens Mobility GmbH", "Braunschweig"), ("Fraunhofer-Gesellschaft", "Muenchen"), ("BASF SE", "Ludwigshafen")],
    "ES": [("Airbus Defence and Space SAU", "Getafe")],
    "IT": [("STMicroelectronics Srl", "Agrate Brianza")],
    "SE": [("Ericsson AB", "Stockholm")],
    "UK": [("Arup Group Ltd", "London")],
    "FI": [("Nokia Oyj", "Espoo")],
    "PT": [("Critical Software SA", "Coimbra")],
    "IE": [("Intel Ireland Ltd", "Leixlip")],
    "CZ": [("Skoda Auto a.s.", "Mlada Boleslav")],
    "EL": [("Hellenic Petroleum SA", "Athina")],
    "NO": [("Equinor ASA", "Stavanger")],
    "AT": [("Voestalpine AG", "Linz")],
    "PL": [("ABB Sp. z o.o.", "Krakow")],
}  # fmt: skip
PARTNER_HOSTS = [
    ("MA", "ECOLE MOHAMMADIA D'INGENIEURS", "Rabat"), ("TN", "ECOLE NATIONALE D'INGENIEURS DE TUNIS", "Tunis"),
    ("BR", "UNIVERSIDADE DE SAO PAULO", "Sao Paulo"), ("CN", "TONGJI UNIVERSITY", "Shanghai"),
    ("VN", "HANOI UNIVERSITY OF SCIENCE AND TECHNOLOGY", "Hanoi"), ("CA", "POLYTECHNIQUE MONTREAL", "Montreal"),
    ("CL", "UNIVERSIDAD TECNICA FEDERICO SANTA MARIA", "Valparaiso"), ("LB", "UNIVERSITE SAINT-JOSEPH", "Beyrouth"),
]  # fmt: skip
# Destination weights (programme countries) for studies and traineeships
DEST_DEFAULT = {"ES": 16, "DE": 14, "IT": 10, "SE": 9, "UK": 10, "BE": 4, "NL": 5, "FI": 5, "PT": 5,
                "IE": 5, "CZ": 4, "PL": 3, "EL": 3, "NO": 4, "AT": 3}  # fmt: skip
DEST_INE = {"BE": 30, "NL": 17, "DE": 23, "ES": 6, "IT": 4, "SE": 4, "UK": 4, "FI": 2, "PT": 2,
            "IE": 2, "CZ": 2, "PL": 1, "EL": 1, "NO": 1, "AT": 1}  # fmt: skip
NATIONALITIES = ["MA", "CN", "BR", "LB", "TN", "VN", "CM", "SN", "DE", "IT"]


def _month(year: int, month: int, add: int) -> str:
    m = month - 1 + add
    return f"{year + m // 12}-{m % 12 + 1:02d}"


def _project_ref(rng: np.random.Generator, year: int, action: str) -> str:
    serial = int(rng.integers(1000, 99999))
    if year >= 2021:
        new = {"KA103": "KA131", "KA107": "KA171"}[action]
        return f"{year}-1-FR01-{new}-HED-{serial:09d}"
    return f"{year}-1-FR01-{action}-{serial:06d}"


def _erasmus(rng: np.random.Generator, enrol: dict) -> tuple[str, dict]:
    agg: dict[tuple[str, ...], int] = {}
    stats: dict = {
        "imt_participants": {},
        "other_senders": 0,
        "staff": 0,
        "incoming": 0,
        "unknown_code": 0,
        "tally": dict.fromkeys(("all", "traineeship", "ine", "ine_euro", "ine_programme"), 0),
    }

    def add(row: tuple[str, ...], n: int = 1) -> None:
        agg[row] = agg.get(row, 0) + n

    projects: dict[tuple[str, int, str], str] = {}

    def ref(sender: str, year: int, action: str = "KA103") -> str:
        """One grant project per sender, year and action, as in the real files."""
        key = (sender, year, action)
        if key not in projects:
            projects[key] = _project_ref(rng, year, action)
        return projects[key]

    def cat(weights: Sequence[float]) -> int:
        return _cat(rng, weights)

    def pick(weights: dict[str, int], year: int) -> str:
        keys = [k for k in weights if not (k == "UK" and year >= 2021)]  # Brexit: UK left Erasmus+
        return keys[cat([weights[k] for k in keys])]

    def age_str(lo: int = 19, hi: int = 25) -> str:
        if rng.random() < 0.02:
            return "-"
        ages = list(range(lo, hi + 1))
        mode = lo + 2
        return str(ages[cat([1.0 / (1 + abs(a - mode)) ** 3 for a in ages])])

    def nationality() -> str:
        u = rng.random()
        if u < 0.01:
            return "-"
        return "FR" if u < 0.9 else NATIONALITIES[int(rng.integers(len(NATIONALITIES)))]

    def gender(share_f: float) -> str:
        u = rng.random()
        return "Undefined" if u < 0.003 else ("Female" if u < share_f else "Male")

    def level(year_level: int) -> str:
        if rng.random() < 0.03:
            return LEVEL_UNKNOWN
        return {6: LEVEL_6, 7: LEVEL_7, 8: LEVEL_8}[year_level]

    def field(school_id: str, host: str) -> str:
        if rng.random() < 0.03:
            return FIELD_UNKNOWN
        if host == "UNIVERSITE DE MONS" and rng.random() < 0.5:
            return "Architecture and construction"
        opts = FIELDS[SCHOOL_FIELDS.get(school_id, "engineering")]
        return opts[0] if rng.random() < 0.75 else opts[int(rng.integers(1, len(opts)))]

    def period(year: int, activity: str, host: str) -> tuple[str, str, str]:
        if activity == ACT_TRAIN:
            start_m = 2 + cat([1, 2, 3, 3, 2, 1])
            months = 2 + cat([0.15, 0.25, 0.2, 0.15, 0.25])
            y0 = year + 1
        else:
            start_m, months = [(9, 5), (9, 10), (2, 5), (1, 6)][cat([0.45, 0.25, 0.22, 0.08])]
            y0 = year if start_m >= 9 else year + 1
        # a host's term dates fix the length of a stay: same host and term, same days
        days = int(round(months * 30.4)) + (-9, -4, 0, 3)[sum(map(ord, host)) % 4]
        return f"{y0}-{start_m:02d}", _month(y0, start_m, months - 1), str(days)

    # ---- IMT senders (the rows the pipeline keeps)
    for s in SCHOOLS:
        total_part = 0
        for y in YEARS:
            women, men = enrol[(s.id, y)]
            trend = (women + men) * s.erasmus_rate * COVID_FACTOR.get(y, 1.0)
            n_total = int(round(trend * (1 + rng.normal(0, 0.05))))
            share_f = women / (women + men) + 0.03
            senders = _for_year(ERASMUS_SENDERS[s.id], y)
            nbsp = bool((s.code + y) % 3 == 0)  # some files write NBSP padding, others spaces
            refs = {}
            for code, _org, _city, _share in senders:
                refs[(code, "KA103")] = ref(code, y, "KA103")
                refs[(code, "KA107")] = ref(code, y, "KA107")
            for _ in range(n_total):
                idx = cat([x[3] for x in senders])
                code, org, city, _ = senders[idx]
                u = rng.random()
                if u < 0.07 and y >= 2015:
                    activity = ACT_PARTNER
                    cc, host, hcity = PARTNER_HOSTS[int(rng.integers(len(PARTNER_HOSTS)))]
                    hcode, action = "", "KA107"
                else:
                    activity = ACT_TRAIN if u < 0.40 else ACT_STUDY
                    cc = pick(DEST_INE if s.id == "imt_nord_europe" else DEST_DEFAULT, y)
                    action = "KA103"
                    if activity == ACT_TRAIN:
                        host, hcity = COMPANIES[cc][int(rng.integers(len(COMPANIES[cc])))]
                        hcode = ""
                    else:
                        host, hcity, hcode = HOSTS[cc][int(rng.integers(len(HOSTS[cc])))]
                lvl = (7, 6, 8)[cat([0.82, 0.15, 0.03])]
                start_m, end_m, days = period(y, activity, host)
                row = (
                    refs[(code, action)], _ay(y), start_m, end_m, days, activity,
                    field(s.id, host), nationality(), level(lvl), gender(share_f), "Learner",
                    "Yes" if rng.random() < 0.01 else "No", "Yes" if rng.random() < 0.04 else "No", "No",
                    age_str(20 if lvl >= 7 else 19, 26 if lvl == 8 else 24), "FR", city, org,
                    _pad_code(code, nbsp=nbsp), cc, hcity, host, hcode,
                )  # fmt: skip
                add(row)
                tally = stats["tally"]
                tally["all"] += 1
                tally["traineeship"] += activity == ACT_TRAIN
                if s.id == "imt_nord_europe":
                    tally["ine"] += 1
                    tally["ine_euro"] += cc in ("BE", "NL", "DE")
                    tally["ine_programme"] += activity != ACT_PARTNER
            total_part += n_total
            stats["imt_participants"][(s.id, y)] = n_total
        stats["imt_participants"][s.id] = total_part

    # two age outliers (as in the real files: ages < 5 and > 90)
    keys = sorted(agg)
    picked = [keys[int(i)] for i in rng.choice(len(keys), 2, replace=False)]
    for k, bad_age in zip(picked, ("3", "99"), strict=True):
        n = agg.pop(k)
        add(k[:14] + (bad_age,) + k[15:], n)

    # ---- rows the pipeline must leave out, and count
    others = [("F  LILLE103", "UNIVERSITE DE LILLE", "Lille"), ("F  TOULOUS28", "INSTITUT NATIONAL DES SCIENCES APPLIQUEES DE TOULOUSE", "Toulouse"),
              ("F  GRENOBL22", "INSTITUT POLYTECHNIQUE DE GRENOBLE", "Grenoble")]  # fmt: skip
    for y in YEARS:
        for code, org, city in others:
            for _ in range(int(rng.integers(5, 9))):
                cc = pick(DEST_DEFAULT, y)
                host, hcity, hcode = HOSTS[cc][int(rng.integers(len(HOSTS[cc])))]
                start_m, end_m, days = period(y, ACT_STUDY, host)
                n = int(rng.integers(1, 4))
                add((ref(code, y), _ay(y), start_m, end_m, days, ACT_STUDY,
                     FIELDS["engineering"][0], "FR", LEVEL_7, gender(0.4), "Learner", "No", "No", "No",
                     age_str(), "FR", city, org, code, cc, hcity, host, hcode), n)  # fmt: skip
                stats["other_senders"] += n
    for y in YEARS:
        for s in SCHOOLS:
            code, org, city, _ = _for_year(ERASMUS_SENDERS[s.id], y)[0]
            for _ in range(int(rng.integers(0, 3))):
                cc = pick(DEST_DEFAULT, y)
                host, hcity, hcode = HOSTS[cc][int(rng.integers(len(HOSTS[cc])))]
                start_m = f"{y + 1}-{int(rng.integers(1, 7)):02d}"
                n = int(rng.integers(1, 3))
                add((ref(code, y), _ay(y), start_m, start_m, str(int(rng.integers(2, 8))),
                     ACT_STAFF[int(rng.integers(2))], FIELD_UNKNOWN, "FR", LEVEL_UNKNOWN, gender(0.35), "Staff",
                     "No", "No", "No", str(int(rng.integers(28, 63))), "FR", city, org, _pad_code(code),
                     cc, hcity, host, hcode), n)  # fmt: skip
                stats["staff"] += n
    for y in YEARS:
        for s in SCHOOLS:
            code, org, city, _ = _for_year(ERASMUS_SENDERS[s.id], y)[0]
            for _ in range(int(rng.integers(1, 3))):
                cc = pick(DEST_INE if s.id == "imt_nord_europe" else DEST_DEFAULT, y)
                host, hcity, hcode = HOSTS[cc][int(rng.integers(len(HOSTS[cc])))]
                start_m, end_m, days = period(y, ACT_STUDY, host)
                n = int(rng.integers(1, 4))
                add((ref(hcode, y).replace("FR01", "XX01"), _ay(y), start_m, end_m, days, ACT_STUDY,
                     FIELDS["engineering"][0], cc, LEVEL_7, gender(0.35), "Learner", "No", "No", "No", age_str(),
                     cc, hcity, host, hcode, "FR", city, org, _pad_code(code, nbsp=True), ), n)  # fmt: skip
                stats["incoming"] += n
    for y in (2018, 2019, 2019, 2020, 2021):
        cc = pick(DEST_INE, y)
        host, hcity, hcode = HOSTS[cc][int(rng.integers(len(HOSTS[cc])))]
        start_m, end_m, days = period(y, ACT_STUDY, host)
        add((ref("DOUAI12", y), _ay(y), start_m, end_m, days, ACT_STUDY, FIELDS["engineering"][0],
             "FR", LEVEL_7, gender(0.3), "Learner", "No", "No", "No", age_str(), "FR", "Douai",
             "IMT LILLE DOUAI - SITE DE DOUAI", _pad_code("DOUAI12", nbsp=True), cc, hcity, host, hcode))  # fmt: skip
        stats["unknown_code"] += 1

    body = [list(k) + [str(n)] for k, n in agg.items()]
    # the incoming rows carry a project of the sending country's agency
    body = [
        [c.replace("-XX01-", f"-{r[15]}01-") if i == 0 else c for i, c in enumerate(r)]
        for r in body
    ]
    body.sort(key=lambda r: (r[1], r[0], r[18], r[5], r[19], r[21], r[2], r[9], r[14], r[23]))
    stats["rows"] = len(body)
    return _csv_text([ERASMUS_HEADER] + body, delimiter=";", lineterminator="\n"), stats


# ------------------------------------------------------------------------------------------
# 4. IMT Nord Europe's own mobility spreadsheet (what Erasmus+ does not cover)
# ------------------------------------------------------------------------------------------

SHEET_HEADER = [
    "Année universitaire", "Type de mobilité", "Pays de destination", "Ville",
    "Établissement d'accueil", "Durée (mois)", "Bourse (EUR)", "Financement", "Nombre d'étudiants",
]  # fmt: skip
# (type, country (French), city, host, months, funding, grant per student EUR, yearly mean count)
SHEET_PROGRAMMES = [
    ("Double diplôme", "Belgique", "Mons", "Université de Mons – Faculté polytechnique (Ingénieur-Architecte)", 24, "Erasmus+", 2520, 6.0),
    ("Double diplôme", "Allemagne", "Dresde", "Technische Universität Dresden", 18, "Erasmus+", 2340, 2.0),
    ("Double diplôme", "Pays-Bas", "Delft", "TU Delft", 24, "Région", 1850, 1.5),
    ("Double diplôme", "Canada", "Montréal", "Polytechnique Montréal", 18, "Aucun", 0, 3.0),
    ("Double diplôme", "Chine", "Shanghai", "Tongji University", 24, "Région", 2400, 1.2),
    ("Double diplôme", "Brésil", "São Paulo", "Universidade de São Paulo", 24, "Aucun", 0, 1.0),
    ("Études", "Canada", "Sherbrooke", "Université de Sherbrooke", 4.5, "Région", 1200, 4.0),
    ("Études", "Japon", "Tokyo", "Tokyo Institute of Technology", 5.5, "Région", 1500, 1.5),
    ("Études", "Corée du Sud", "Daejeon", "KAIST", 5, "Aucun", 0, 1.2),
    ("Études", "Chili", "Santiago", "Pontificia Universidad Católica de Chile", 5, "Région", 1350, 1.0),
    ("Stage", "Canada", "Montréal", "Hydro-Québec", 5.5, "Région", 1100, 5.0),
    ("Stage", "États-Unis", "Boston", "MIT – laboratoire d'accueil", 6, "Aucun", 0, 2.0),
    ("Stage", "Chine", "Shenzhen", "Entreprise (confidentiel)", 6, "Région", 1650, 2.0),
    ("Stage", "Singapour", "Singapour", "A*STAR", 5, "Aucun", 0, 1.5),
    ("Stage", "Suisse", "Lausanne", "EPFL", 4, "Région", 950, 2.0),
    ("Stage", "Maroc", "Casablanca", "OCP Group", 3, "Aucun", 0, 1.5),
    ("Stage", "Royaume-Uni", "Londres", "Arup", 5, "Région", 1200, 1.5),
    ("Stage", "Belgique", "Bruxelles", "Engie", 6, "Erasmus+", 2100, 2.0),
]  # fmt: skip
SHEET_COVID = {2019: 0.7, 2020: 0.35, 2021: 0.9}


def _fr_number(x: float, decimals: int) -> str:
    """French number: NO-BREAK SPACE between thousands, decimal comma."""
    s = f"{x:,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    return s


def _fr_months(m: float) -> str:
    return str(int(m)) if float(m).is_integer() else _fr_number(m, 1)


def _school_sheet(rng: np.random.Generator) -> tuple[str, dict]:
    rows: list[list[str]] = []
    for y in range(2017, 2023):
        for typ, country, city, host, months, funding, grant, mean in SHEET_PROGRAMMES:
            if country == "Royaume-Uni" and y < 2021:
                continue  # before Brexit these internships were Erasmus+-funded
            lam = (
                mean
                * SHEET_COVID.get(y, 1.0)
                * (1.15 if typ == "Double diplôme" and y >= 2021 else 1.0)
            )
            n = int(rng.poisson(lam))
            if typ == "Double diplôme" and country == "Belgique":
                n = max(n, 3)  # the flagship dual degree runs every year
            if n == 0:
                continue
            # a few students stay shorter (half a month less): a separate line, as the school does
            short = int(rng.binomial(n, 0.2)) if typ != "Double diplôme" and months > 3 else 0
            grant_y = grant * (1 + 0.02 * (y - 2017)) if grant else 0
            for k, m in ((n - short, months), (short, months - 0.5)):
                if k == 0:
                    continue
                year_label = f"{y}/{y + 1}"
                country_label = "Etats-Unis" if country == "États-Unis" and y == 2018 else country
                bourse = _fr_number(grant_y * m / months, 2) if funding != "Aucun" else ""
                rows.append(
                    [
                        year_label,
                        typ,
                        country_label,
                        city,
                        host,
                        _fr_months(m),
                        bourse,
                        funding,
                        str(k),
                    ]
                )
    stats = {"rows": len(rows)}
    return _csv_text([SHEET_HEADER] + rows, delimiter=";", lineterminator="\r\n"), stats


# ------------------------------------------------------------------------------------------
# 6. Codebook and 7. study config
# ------------------------------------------------------------------------------------------

LIKERT_EN = '["Not at all", "Slightly", "Moderately", "Strongly", "Very strongly"]'
LIKERT_FR = '["Pas du tout", "Un peu", "Moyennement", "Fortement", "Très fortement"]'
INTEREST_EN = '["Not at all interested", "Slightly interested", "Moderately interested", "Very interested", "Extremely interested"]'
INTEREST_FR = '["Pas du tout intéressé·e", "Peu intéressé·e", "Moyennement intéressé·e", "Très intéressé·e", "Extrêmement intéressé·e"]'


def _codebook() -> str:
    school_values = "\n".join(f'"{s.code}" = "{s.id}"' for s in SCHOOLS)
    ls_likert = ", ".join(f'"A{i}" = {i}' for i in range(1, 6))
    q_regions = "\n".join(
        f'Q8_{i} = {{ variable = "pref_region", option = "{r}" }}' for i, r in enumerate(REGIONS, 1)
    )
    ls_regions = "\n".join(
        f'"G02Q08[SQ{i:03d}]" = {{ variable = "pref_region", option = "{r}" }}'
        for i, r in enumerate(REGIONS, 1)
    )
    yn = '{ "1" = 1, "2" = 0, "Y" = 1, "N" = 0, "Oui" = 1, "Non" = 0, "Yes" = 1, "No" = 0 }'
    return f"""# Codebook of the SYNTHETIC sample surveys (written by data/generate_sample.py).
# Maps both survey sources onto the study variables of docs/architecture.md.
version = 1

# ---------------------------------------------------------------- variables
[variables.school]
type = "school"                        # values resolved through the school table after the value map
label = {{ en = "School", fr = "École" }}

[variables.school.values]              # Q1 codes of the 2023 Qualtrics survey
{school_values}

[variables.gender]
type = "categorical"
label = {{ en = "Gender", fr = "Genre" }}
categories = ["F", "M", "X"]           # X = other / prefer not to say
values = {{ "F" = "F", "M" = "M", "X" = "X" }}
labels.en = {{ F = "Women", M = "Men", X = "Other / not said" }}
labels.fr = {{ F = "Femmes", M = "Hommes", X = "Autre / non précisé" }}

[variables.study_year]
type = "numeric"
label = {{ en = "Year of study", fr = "Année d'études" }}
range = [1, 5]

[variables.went_abroad]
type = "binary"
label = {{ en = "Completed an outgoing mobility", fr = "A effectué une mobilité sortante" }}
values = {yn}

[variables.intends_abroad]
type = "binary"
label = {{ en = "Intends to go abroad", fr = "Envisage une mobilité" }}
values = {yn}

[variables.interest_dual_degree]
type = "likert"
label = {{ en = "Interest in a dual degree", fr = "Intérêt pour un double diplôme" }}
scale = [1, 5]
direction = "ascending"                # 5 = strongest interest
labels.en = {INTEREST_EN}
labels.fr = {INTEREST_FR}

[variables.interest_dual_degree_yn]
type = "binary"                        # wave 2021 asked yes/no: see [[breaks]]
label = {{ en = "Interested in a dual degree (yes/no)", fr = "Intéressé·e par un double diplôme (oui/non)" }}
values = {yn}

[variables.barrier_finance]
type = "likert"
label = {{ en = "Barrier: financial cost", fr = "Frein : coût financier" }}
scale = [1, 5]
direction = "ascending"                # 5 = strongest barrier
labels.en = {LIKERT_EN}
labels.fr = {LIKERT_FR}

[variables.barrier_language]
type = "likert"
label = {{ en = "Barrier: language", fr = "Frein : langue" }}
scale = [1, 5]
direction = "ascending"
labels.en = {LIKERT_EN}
labels.fr = {LIKERT_FR}

[variables.barrier_recognition]
type = "likert"
label = {{ en = "Barrier: recognition of credits", fr = "Frein : reconnaissance des crédits" }}
scale = [1, 5]
direction = "ascending"
labels.en = {LIKERT_EN}
labels.fr = {LIKERT_FR}

[variables.pref_region]
type = "multi-select"                  # a source column per option; any non-empty value = selected
label = {{ en = "Preferred destination regions", fr = "Régions de destination souhaitées" }}
options = {json.dumps(list(REGIONS))}
# option labels per language (docs/codebook.md): shown in the report instead of the ids
labels.en = {{ euroregion = "Euroregion (Belgium, Netherlands, Germany)", other_europe = "Other Europe", north_america = "North America", latin_america = "Latin America", asia = "Asia", africa = "Africa", oceania = "Oceania" }}
labels.fr = {{ euroregion = "Eurorégion (Belgique, Pays-Bas, Allemagne)", other_europe = "Autre Europe", north_america = "Amérique du Nord", latin_america = "Amérique latine", asia = "Asie", africa = "Afrique", oceania = "Océanie" }}

[variables.comment]
type = "free-text"                     # quality checks only: never output
label = {{ en = "Comment", fr = "Commentaire" }}

# duration_seconds and finished are not defined here on purpose: the survey reader takes them
# from each platform's metadata, so that every source gets them (Qualtrics
# `Duration (in seconds)` and `Finished`; LimeSurvey `submitdate`, empty = incomplete, and
# `startdate` -> `submitdate` as the duration). The filters' identifiers (Qualtrics
# `ResponseId`, `RecipientEmail`, `ExternalReference`; LimeSurvey `id`) are personal columns:
# the reader uses them for the duplicate check and drops them; no variable maps them.

# ---------------------------------------------------------------- sources
[[sources]]
id = "imt_survey_2023"
platform = "qualtrics"
wave = "2023"
language = "en"

[sources.columns]                      # source column ID (row 1) -> variable
Q1 = "school"
Q2 = "study_year"
Q3 = "gender"
Q4 = "went_abroad"
Q5 = "intends_abroad"
Q6 = "interest_dual_degree"
Q7_1 = "barrier_finance"
Q7_2 = "barrier_language"
Q7_3 = "barrier_recognition"
{q_regions}
Q9_TEXT = "comment"

[sources.values.gender]
"1" = "F"
"2" = "M"
"3" = "X"

[[sources]]
id = "ine_survey_2021"
platform = "limesurvey"
wave = "2021"
language = "fr"
# No respondent identifier (anonymous survey, no participant table): duplicates cannot be
# detected in this wave. A response is complete when `submitdate` is not empty
# (1980-01-01 00:00:00 is the placeholder of a non-datestamped, submitted response, not a date).

[sources.columns]
G01Q01 = "school"
G01Q02 = "study_year"
G01Q03 = "gender"
G01Q04 = "went_abroad"
G01Q05 = "intends_abroad"
G01Q06 = "interest_dual_degree_yn"
"G02Q07[SQ001]" = "barrier_finance"
"G02Q07[SQ002]" = "barrier_language"
{ls_regions}
G02Q09 = "comment"

[sources.values.school]                # campus codes of IMT Lille Douai, now IMT Nord Europe
"A1" = "imt_nord_europe"
"A2" = "imt_nord_europe"

[sources.values.study_year]
{ls_likert.replace(", ", chr(10))}

[sources.values.gender]
"A1" = "F"
"A2" = "M"
"A3" = "X"

[sources.values.barrier_finance]
{ls_likert.replace(", ", chr(10))}

[sources.values.barrier_language]
{ls_likert.replace(", ", chr(10))}

# ---------------------------------------------------------------- breaks in series
[[breaks]]
variable = "interest_dual_degree"
waves = ["2021", "2023"]
note = {{ en = "Asked yes/no in 2021 (variable interest_dual_degree_yn) and on a 1-5 scale in 2023: the waves are not comparable.", fr = "Question posée en oui/non en 2021 (variable interest_dual_degree_yn) et sur une échelle de 1 à 5 en 2023 : les vagues ne sont pas comparables." }}

[[breaks]]
variable = "barrier_recognition"
waves = ["2021", "2023"]
note = {{ en = "Not asked in 2021: no comparison over time.", fr = "Non demandé en 2021 : pas de comparaison dans le temps." }}
"""


SCHOOL_SHEET_COLUMNS = {
    "Année universitaire": "academic_year",
    "Type de mobilité": "activity",
    "Pays de destination": "country",
    "Établissement d'accueil": "host",
    "Durée (mois)": "duration_months",
    "Bourse (EUR)": "grant_eur",
    "Financement": "funding",
    "Nombre d'étudiants": "participants",
}


#: The analysis settings of the study config, shared with benchmarks/generate_scale.py.
ANALYSIS_SETTINGS_TOML = """[filters]
drop_unfinished = true
min_duration_seconds = 60
drop_duplicates = true

[weighting]
method = "poststratify"
cells = ["school", "gender"]

[design]
type = "stratified"
ci_method = "logit"

[disclosure]
min_count = 5
min_base = 10

[budget]
envelope_eur = 90000
academic_year = 2020
allocation = "mobility_months"
"""


def _study(seed: int) -> str:
    cols = "\n".join(f'"{k}" = "{v}"' for k, v in SCHOOL_SHEET_COLUMNS.items())
    return f"""# Study configuration for the bundled SYNTHETIC sample data (written by data/generate_sample.py
# with seed {seed}). Paths are relative to this file's folder.

[study]
title = {{ en = "IMT group study: outgoing mobility and dual-degree interest", fr = "Étude du groupe IMT : mobilité sortante et intérêt pour les doubles diplômes" }}
synthetic = true                       # every input in this folder is made up
language = "en"
data_cutoff = "2023-06-30"
pseudonym_key = "synthetic-sample-key-not-secret"
covid_break_years = [2019, 2020]

[inputs]
codebook = "{CODEBOOK_FILE}"
enrolment = "{ENROLMENT_FILE}"

[[inputs.surveys]]
path = "{QUALTRICS_FILE}"
source = "imt_survey_2023"
wave = "2023"

[[inputs.surveys]]
path = "{LIMESURVEY_FILE}"
source = "ine_survey_2021"
wave = "2021"

[[inputs.mobility]]
path = "{ERASMUS_FILE}"
format = "erasmus-ka1"

[[inputs.mobility]]
path = "{SCHOOL_SHEET_FILE}"
format = "school-mobility"
school = "imt_nord_europe"

[inputs.mobility.columns]              # the sheet's French headers -> mobility fields
{cols}

{ANALYSIS_SETTINGS_TOML}"""


# ------------------------------------------------------------------------------------------
# README
# ------------------------------------------------------------------------------------------


def _readme(seed: int, q: dict, ls: dict, er: dict, sh: dict, enrol: dict) -> str:
    rates = []
    for s in SCHOOLS:
        w, m = enrol[(s.id, SURVEY_YEAR)]
        n = q["complete_by_school"][s.id]
        rates.append(
            f"| {s.code} | `{s.id}` | {s.name} | {w + m} | {n} | {100 * n / (w + m):.1f} % |"
        )
    rate_table = "\n".join(rates)
    era = er["imt_participants"]
    t = er["tally"]

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.0f} %"

    era_years = " | ".join(_ay(y) for y in YEARS)
    era_counts = " | ".join(str(sum(era[(s.id, y)] for s in SCHOOLS)) for y in YEARS)
    ine_counts = " | ".join(str(era[("imt_nord_europe", y)]) for y in YEARS)
    return f"""# Sample inputs — SYNTHETIC DATA

**Everything in this folder is synthetic.** No row describes a real student, respondent or
mobility. The files copy the layouts of real exports so that the pipeline runs on realistic
input, and they contain known effects so that the report has something true to find. Names,
e-mail addresses (`@example.org`), IP addresses (documentation ranges 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24), coordinates and student numbers are invented; they are here
so that tests can prove personal data never reaches an output.

Written by `python data/generate_sample.py --seed {seed}` (numpy `default_rng`; the same seed
gives byte-identical files; `tests/test_sample_data.py` checks that these files equal a fresh
generation, so **do not edit them by hand**: change the generator and re-run it).

| file | what it is |
|---|---|
| `{QUALTRICS_FILE}` | IMT student survey, wave "2023" (spring 2023 = academic year 2022-23), modern Qualtrics CSV export |
| `{LIMESURVEY_FILE}` | earlier wave "2021" of IMT Nord Europe (then IMT Lille Douai) only, LimeSurvey RemoteControl CSV export |
| `{ERASMUS_FILE}` | outgoing mobility 2014-15 .. 2022-23 in the Erasmus+ KA1 open-data CSV layout |
| `{SCHOOL_SHEET_FILE}` | IMT Nord Europe's own spreadsheet (dual degrees, non-European destinations, internships), French Excel CSV |
| `{ENROLMENT_FILE}` | enrolled students per school, academic year and gender |
| `{CODEBOOK_FILE}` | maps both survey sources onto the study variables |
| `{STUDY_FILE}` | the study config for this sample (`synthetic = true`) |

## 1. `{QUALTRICS_FILE}`

Layout: modern Qualtrics export, "Use numeric values". Comma separated, LF line ends, UTF-8
without BOM, three header rows: (1) column IDs, (2) English labels, (3) `{{"ImportId":...}}`
JSON (dates carry `"timeZone":"Europe/Paris"`; the split multi-select carries `"choiceId"`).
Data from row 4, one row per response, sorted by `RecordedDate`. {q["rows"]} data rows.

Metadata columns: `StartDate`, `EndDate` (`YYYY-MM-DD HH:MM:SS`, Europe/Paris), `Status`
(0 = IP address, 1 = survey preview, 8 = spam), `IPAddress`, `Progress` (0-100),
`Duration (in seconds)`, `Finished` (1/0), `RecordedDate`, `ResponseId` (`R_` + 15 chars),
`RecipientLastName`, `RecipientFirstName`, `RecipientEmail`, `ExternalReference` (student
number `STU######`), `LocationLatitude`, `LocationLongitude`, `DistributionChannel` (`email`,
`anonymous`, `preview`), `UserLanguage` (`EN`/`FR`).

| column | question | values |
|---|---|---|
| `Q1` | school | 1..10 (codes below), 99 = not in the list (planted error) |
| `Q2` | year of study | 1..5 |
| `Q3` | gender | 1 female, 2 male, 3 other / prefer not to say |
| `Q4` | completed an outgoing mobility (`went_abroad`) | 1 yes, 2 no |
| `Q5` | intends to go abroad before graduating (`intends_abroad`) | 1 yes, 2 no |
| `Q6` | interest in a dual degree | 1..5 (5 = extremely interested) |
| `Q7_1`, `Q7_2`, `Q7_3` | barriers: financial cost, language, recognition of credits (matrix) | 1..5 (5 = very strong barrier) |
| `Q8_1` .. `Q8_7` | preferred destination regions (split multi-select) | `1` selected, empty not selected; options in order: {", ".join(REGIONS)} (`euroregion` = Belgium, Netherlands, Germany) |
| `Q9_TEXT` | free-text comment | text (never output) |

Unanswered questions are empty cells.

School codes, enrolment 2022-23 and completed responses (response rate = complete responses /
enrolment; unfinished, preview, spam, speeder and duplicate rows come on top):

| code | id | name | enrolled | complete | rate |
|---|---|---|---|---|---|
{rate_table}

Planted messiness (each a small, known number of rows):

- {q["preview"]} previews (`Status` = 1, `DistributionChannel` = `preview`) and {q["spam"]} spam responses (`Status` = 8).
- {q["unfinished"]} unfinished responses: `Finished` = 0, `Progress` < 100, the later questions
  empty; Qualtrics recorded them one week after the start, so their `Duration` is about 604,800 s.
- {q["speeders"]} speeders: finished in under 60 s (`Duration` 18-55 s), straight-lined answers.
- {q["duplicates"]} duplicate respondents: the same `RecipientEmail` answered twice (the second
  answer a few days later, different `ResponseId`).
- {q["out_of_scale"]} Likert values out of scale: one `Q6` = 7, one `Q7_1` = 7, one `Q7_2` = 6.
- {q["unknown_school"]} unknown school codes (`Q1` = 99).
- {q["hostile_comments"]} hostile or tricky free-text comments: `<script>alert(1)</script>`,
  `=HYPERLINK("http://x","y")`, a phone number `+33 6 ...`, `@SUM(A1)`, `-2+3`, and a comment with
  quotes, commas and an embedded line break; other comments contain accents and French text.

Built-in effects (true in the generating model):

- intends to go abroad: logistic, log-odds fall by 0.75 per point of the financial barrier
  (and 0.25 per point of the language barrier); women +0.35, students who already went abroad
  +0.3, IMT Nord Europe +0.4.
- went abroad rises with the year of study (log-odds +0.85 per year; about 4 % in year 1,
  about 55 % in year 5).
- response rates differ by school (table above, 8 % - 25 % of enrolment).
- women answer more often than men (odds ratio 1.5 on top of their enrolment share), so
  respondents are more female than the enrolment: weighting by school x gender matters.
  About 2 % answer gender 3 (other / prefer not to say), a category the enrolment (F/M only)
  does not have.
- interest in a dual degree is higher at IMT Nord Europe (latent mean +0.9 on the 1-5 scale),
  and IMT Nord Europe students pick the euroregion more often (65 % vs 30 %).

## 2. `{LIMESURVEY_FILE}`

Layout: LimeSurvey RemoteControl `export_responses` CSV, code headings, short answers (codes):
UTF-8 with BOM, `;` separated, every value quoted, `""` for an empty answer, an empty
**unquoted** field for NULL (question never reached), CRLF, a final empty line. {ls["rows"]} rows.

Columns: `id`, `submitdate` (empty = incomplete), `lastpage`, `startlanguage` (`fr`/`en`), `seed`,
`startdate`, `datestamp`, then:

| code | question | answer codes |
|---|---|---|
| `G01Q01` | campus of IMT Lille Douai (now IMT Nord Europe) | `A1` Douai, `A2` Villeneuve d'Ascq |
| `G01Q02` | year of study | `A1`..`A5` = 1..5 |
| `G01Q03` | gender | `A1` female, `A2` male, `A3` other / prefer not to say |
| `G01Q04` | completed an outgoing mobility | `Y` / `N` |
| `G01Q05` | intends to go abroad | `Y` / `N` |
| `G01Q06` | interested in a dual degree | `Y` / `N` (**yes/no, not a 1-5 scale: a break in series**, mapped to `interest_dual_degree_yn`) |
| `G02Q07[SQ001]`, `G02Q07[SQ002]` | barriers: financial cost, language | `A1`..`A5` = 1..5 (no recognition-of-credits barrier in this wave) |
| `G02Q08[SQ001]` .. `G02Q08[SQ007]` | preferred regions, same order as the 2023 options | `Y` selected, empty not selected |
| `G02Q09` | free-text comment (French) | text |

Planted messiness: {ls["incomplete"]} incomplete responses (`submitdate` NULL; `lastpage` NULL with
no answers, or `1` with only page 1 answered); {ls["placeholder"]} complete responses imported from a
non-datestamped copy carry the placeholder `1980-01-01 00:00:00` in `submitdate`, `startdate`
and `datestamp` (not a real date). Same effects as 2023 (financial barrier lowers the intention
to go abroad; going abroad rises with the year of study), at a lower level (COVID spring).
No respondent identifier (anonymous survey, no token): no duplicate check is possible. No
timing columns: a duration can only be derived from `startdate` and `submitdate` (none is
under 60 s; unknown for the placeholder rows).

## 3. `{ERASMUS_FILE}`

Layout: the Erasmus+ KA1 open-data CSV ("Erasmus+ mobility statistics"), the 24 columns
exactly as the Commission spells them (`Sending Organization` / `Sending Organisation Erasmus
Code`, `GroupLeader`), `;` separated, UTF-8 without BOM, LF. Rows are aggregated: identical
profiles are merged and `Participants` counts them. {er["rows"]} rows.

Values: `Academic Year` `2019-20`; `Mobility Start Month` / `Mobility End Month` `YYYY-MM`;
`Mobility Duration` in calendar days; `Project Reference` `2019-1-FR01-KA103-012345` (from 2021,
`2021-1-FR01-KA131-HED-000012345`; partner-country projects KA107 / KA171; the 2021-27 action
codes are not verified against real files); activities `{ACT_STUDY}`, `{ACT_TRAIN}`,
`{ACT_PARTNER}` (and staff activities, to be left out).

Senders: the IMT schools by their Erasmus codes (`F  NANTES80`, `F  LILLE91`, `F  ALBI05`,
`F  ALES02`, `F  ST-ETIE06`, `F  PARIS083`, `F  EVRY11`, `F  EVRY12`, `F  CANNES09`,
`F  PARIS081`), padded as in real files: some school-years with NO-BREAK SPACE + space
(`F\\u00a0 LILLE91`), the others with two spaces. Predecessors (**these codes are SYNTHETIC**:
the real codes were not found): Mines Douai `F  DOUAI05` and Télécom Lille `F  LILLE15` for
2014-15..2016-17; IMT Lille Douai `F  DOUAI05` for 2017-18..2020-21; IMT Nord Europe
`F  LILLE91` from 2021-22. Télécom Bretagne `F  BREST05` and Mines Nantes `F  NANTES26` until
2016-17, then IMT Atlantique `F  NANTES80`.

Rows to leave out (and count): {er["other_senders"]} participants from other French senders
(`F  LILLE103`, `F  TOULOUS28`, `F  GRENOBL22`, non-IMT), {er["staff"]} staff participants
(`Participant Profile` = `Staff`), {er["incoming"]} incoming students (sending country not FR,
receiving an IMT school), {er["unknown_code"]} rows with the unknown IMT-looking code `F  DOUAI12`.

Quirks: country codes `EL` (Greece) and `UK` (United Kingdom, no longer a destination from
2021-22, after Brexit); `-` for a missing nationality or age; two impossible ages (3 and 99);
`? Unknown ?` field of education; `??? - ? Unknown ?` education level; education levels with
U+2019 (`Master’s`); traineeship hosts (companies) and partner-country hosts without an Erasmus
code (empty).

Effects: Belgium, the Netherlands and Germany take {pct(t["ine_euro"], t["ine_programme"])} of the
programme-country destinations of IMT Nord Europe and its predecessors ({pct(t["ine_euro"], t["ine"])} of all
its outgoing students); the other schools spread over ES, DE, IT, UK, SE, … ; traineeships are
{pct(t["traineeship"], t["all"])} of the IMT students; a COVID dip in 2020-21 (0.40 x trend, about -60 %)
and a partial dip in 2019-20 (0.72 x) and 2021-22 (0.92 x). Volume: Erasmus+ outgoing students
are {100 * min(s.erasmus_rate for s in SCHOOLS):.1f} %-{100 * max(s.erasmus_rate for s in SCHOOLS):.1f} % of enrolment per school-year (before COVID, by school).

IMT participants (students, outgoing) per academic year:

| | {era_years} |
|---|{"---|" * len(YEARS)}
| all IMT schools | {era_counts} |
| IMT Nord Europe (+ predecessors) | {ine_counts} |

## 4. `{SCHOOL_SHEET_FILE}`

IMT Nord Europe's own export of what Erasmus+ does not cover (dual degrees, including the
Engineer-Architect dual degree with the University of Mons (Belgium), destinations outside
Europe, internships). French Excel style: `;` separated, UTF-8 with BOM, CRLF. {sh["rows"]} rows,
academic years 2017/2018 .. 2022/2023 (written `2019/2020`), one row per programme and
duration, with the number of students.

| column | mapped to (study.toml) | values |
|---|---|---|
| `Année universitaire` | `academic_year` | `2019/2020` |
| `Type de mobilité` | `activity` | `Double diplôme`, `Stage`, `Études` |
| `Pays de destination` | `country` | French country names (`Belgique`, `Allemagne`, `Pays-Bas`, `Canada`, `Chine`, `États-Unis` (written `Etats-Unis` in 2018/2019), `Corée du Sud`, …) |
| `Ville` | (not mapped) | host city |
| `Établissement d'accueil` | `host` | host institution or company |
| `Durée (mois)` | `duration_months` | decimal comma (`5,5`) |
| `Bourse (EUR)` | `grant_eur` | grant per student for the whole stay, NO-BREAK SPACE thousands separator and decimal comma (`2\\u00a0520,00`); empty when there is none |
| `Financement` | `funding` | `Erasmus+`, `Région`, `Aucun` |
| `Nombre d'étudiants` | `participants` | integer >= 1 |

Rows with `Financement` = `Erasmus+` are mobilities that Erasmus+ also funds, so they are also
counted in the Erasmus+ file: count them from one source only. COVID dip in 2019/2020 and
2020/2021.

## 5. `{ENROLMENT_FILE}`

`school;academic_year;gender;enrolled`, `;` separated, UTF-8 without BOM, LF. Academic years
`2014-15` .. `2022-23`, gender `F`/`M`. Schools by the name they had that year: `Mines Douai`
and `Télécom Lille` (2014-15..2016-17), `IMT Lille Douai` (2017-18..2020-21), `IMT Nord Europe`
(from 2021-22); `Télécom Bretagne` and `Mines Nantes` (until 2016-17), `IMT Atlantique` (from
2017-18); the other schools by their current names. Women are 20 %-45 % of enrolment.

## 6. `{CODEBOOK_FILE}` and 7. `{STUDY_FILE}`

The codebook maps both sources (`imt_survey_2023`, Qualtrics; `ine_survey_2021`, LimeSurvey)
onto the variables of `docs/architecture.md`, with per-source value maps and two breaks in
series (`interest_dual_degree`: yes/no in 2021, 1-5 in 2023; `barrier_recognition`: not asked
in 2021). `study.toml` points at these files (paths relative to this folder), marks the study
`synthetic = true`, and sets the filters (speeders under 60 s), post-stratification by school
x gender on the 2022-23 enrolment, the stratified design, disclosure thresholds and the
90,000 EUR envelope of 2020-21.
"""


# ------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------


def generate(out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write every sample file into ``out_dir`` (created if needed); return name -> path.

    Each file draws from its own child generator (``default_rng([seed, k])``), so a change
    to one file's model does not shift the others.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, k])

    enrol = _enrolment(rng(5))
    q_text, q_stats = _qualtrics(rng(1), enrol)
    ls_text, ls_stats = _limesurvey(rng(2))
    er_text, er_stats = _erasmus(rng(3), enrol)
    sh_text, sh_stats = _school_sheet(rng(4))

    paths = {name: out_dir / name for name in ALL_FILES}
    _write(paths[QUALTRICS_FILE], q_text)
    _write(paths[LIMESURVEY_FILE], ls_text, bom=True)
    _write(paths[ERASMUS_FILE], er_text)
    _write(paths[SCHOOL_SHEET_FILE], sh_text, bom=True)
    _write(
        paths[ENROLMENT_FILE], _csv_text(_enrolment_rows(enrol), delimiter=";", lineterminator="\n")
    )
    _write(paths[CODEBOOK_FILE], _codebook())
    _write(paths[STUDY_FILE], _study(seed))
    _write(paths[README_FILE], _readme(seed, q_stats, ls_stats, er_stats, sh_stats, enrol))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the SYNTHETIC sample inputs of mobility-study."
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/raw)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: 2023)"
    )
    args = parser.parse_args(argv)
    paths = generate(args.out, args.seed)
    for name, p in paths.items():
        print(f"{p.stat().st_size:>9,d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
