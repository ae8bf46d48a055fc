"""Observation 12 of issue 12: two school-name resolvers and two number parsers disagreed.

"Mines Paris – PSL" (en dash), "Telecom Paris." and "IMT (Nord Europe)" resolved for surveys
but not for mobility or enrolment files, and "1,234" was 1234.0 in the survey reader and 1.234
in the mobility reader.  Each reader is run here on the same written values; the expected
school ids come from the school table's names (docs/architecture.md) and the expected numbers
from the notation rules of docs/codebook.md ("Numbers"), by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.config import FilterConfig
from analysis.enrolment import read_enrolment
from analysis.ingest import load_codebook, read_survey_export
from analysis.mobility.readers import read_mobility_file
from analysis.mobility.tables import default_table_path
from analysis.schema import Enrolment, Mobility, Quarantine

CODEBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "surveys" / "codebook_test.toml"
VARIANTS = {
    "Mines Paris \u2013 PSL": "mines_paris",  # en dash
    "Mines Paris \u2014 PSL": "mines_paris",  # em dash
    "Telecom Paris.": "telecom_paris",
    "IMT (Nord Europe)": "imt_nord_europe",
    "T\u00e9l\u00e9com\u00a0ParisTech": "telecom_paris",  # NBSP, former name
    "MINES-TELECOM LILLE": "imt_nord_europe",  # old working name
    "Mines St-Etienne": "mines_saint_etienne",
}
SHEET_COLUMNS = {
    "Année": "academic_year",
    "Type": "activity",
    "Pays": "country",
    "Bourse": "grant_eur",
}


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(default_table_path(name), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def schools() -> pd.DataFrame:
    return _table("schools")


@pytest.fixture(scope="module")
def countries() -> pd.DataFrame:
    return _table("countries")


def _survey(path: Path, schools: pd.DataFrame):
    return read_survey_export(
        path,
        load_codebook(CODEBOOK),
        "generic_csv",
        wave="2022",
        filters=FilterConfig(),
        pseudonym_key="k",
        schools=schools,
    )


def _sheet(path: Path, schools, countries, school="imt_nord_europe"):
    return read_mobility_file(path, "school-mobility", schools, countries, school, SHEET_COLUMNS)


# ----------------------------------------------------------------------------- school names
def test_obs12_school_name_variants_in_survey_reader(tmp_path, schools):
    p = tmp_path / "s.csv"
    p.write_text("ecole;budget;date\n" + "".join(f"{n};1;\n" for n in VARIANTS), encoding="utf-8")
    res = _survey(p, schools)
    assert list(res.responses["school"].astype(str)) == list(VARIANTS.values())


def test_obs12_school_name_variants_in_enrolment_reader(tmp_path, schools):
    p = tmp_path / "enrolment.csv"
    p.write_text(
        "school;academic_year;gender;enrolled\n"
        + "".join(f"{n};2021-22;F;{i + 1}\n" for i, n in enumerate(VARIANTS)),
        encoding="utf-8",
    )
    enrol, q, m = read_enrolment(p, schools)
    assert m["quarantined"] == 0 and m["unknown_schools"] == {}
    got = enrol.groupby(Enrolment.SCHOOL)[Enrolment.ENROLLED].sum().to_dict()
    # rows 1-2 Mines Paris (1 + 2), 3 + 5 Télécom Paris, 4 + 6 IMT Nord Europe, 7 Mines St-É.
    assert got == {
        "mines_paris": 3,
        "telecom_paris": 8,
        "imt_nord_europe": 10,
        "mines_saint_etienne": 7,
    }


@pytest.mark.parametrize(("name", "school"), list(VARIANTS.items()))
def test_obs12_school_name_variants_in_school_sheet_reader(tmp_path, schools, countries, name,
                                                            school):  # fmt: skip
    p = tmp_path / "sheet.csv"
    p.write_text("Année;Type;Pays;Bourse\n2021-22;Stage;Belgique;100\n", encoding="utf-8")
    rec = _sheet(p, schools, countries, school=name).records
    assert list(rec[Mobility.SCHOOL]) == [school]


def test_obs12_erasmus_codes_resolve_through_the_same_resolver(schools):
    from analysis.schools import school_resolver

    r = school_resolver(schools)
    # the resolver the Erasmus+ readers use: codes with NBSP / narrow NBSP padding, and names
    assert r.resolve("F\u00a0 PARIS081") == "mines_paris"
    assert r.resolve("F\u202fLILLE91") == "imt_nord_europe"
    assert all(r.resolve(n) == s for n, s in VARIANTS.items())


# ----------------------------------------------------------------------------- numbers
def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("delimiter", "other", "expected"),
    [
        # a ';' file with a decimal-comma cell: "1,234" is one point two three four
        (";", "2,5", 1.234),
        # a ',' file whose other number has a decimal point: "1,234" is a thousand and more
        (",", "2.5", 1234.0),
    ],
)
def test_obs12_same_number_in_survey_and_mobility_readers(
    tmp_path, schools, countries, delimiter, other, expected
):
    d = delimiter
    survey = _write(
        tmp_path / "s.csv", f'ecole{d}budget{d}date\nEMA{d}"1,234"{d}\nEMA{d}"{other}"{d}\n'
    )
    sheet = _write(
        tmp_path / "m.csv",
        f'Année{d}Type{d}Pays{d}Bourse\n2021-22{d}Stage{d}Belgique{d}"1,234"\n'
        f'2021-22{d}Stage{d}Belgique{d}"{other}"\n',
    )
    s = _survey(survey, schools).responses["budget_eur"].tolist()
    m = _sheet(sheet, schools, countries).records[Mobility.GRANT_EUR].tolist()
    assert s[0] == m[0] == expected
    assert s[1] == m[1] == 2.5


def test_obs12_ambiguous_number_is_flagged_by_both_readers(tmp_path, schools, countries):
    # a ',' file with no other decimal number: "1,234" is not guessed
    survey = _write(tmp_path / "s.csv", 'ecole,budget,date\nEMA,"1,234",\nEMA,7,\n')
    sheet = _write(
        tmp_path / "m.csv",
        'Année,Type,Pays,Bourse\n2021-22,Stage,Belgique,"1,234"\n2021-22,Stage,Belgique,7\n',
    )
    s = _survey(survey, schools)
    assert pd.isna(s.responses["budget_eur"].iloc[0]) and s.responses["budget_eur"].iloc[1] == 7
    assert s.quarantine[Quarantine.REASON].tolist() == ["ambiguous_number"]
    m = _sheet(sheet, schools, countries)
    assert m.manifest["rows_read"] == 2 and m.manifest["rows_kept"] == 1
    assert m.quarantine[Quarantine.REASON].tolist() == ["ambiguous_number"]


def test_obs12_numbers_in_enrolment_reader(tmp_path, schools):
    p = _write(
        tmp_path / "e.csv",
        "school;academic_year;gender;enrolled\n"
        "EMA;2021-22;F;1\u202f234\n"  # narrow NBSP thousands: 1234
        "EMA;2021-22;M;1 020\n"  # space thousands: 1020
        "EMA;2022-23;F;1,234\n"  # ';' file, decimal comma: 1.234 is not a head-count
        "EMA;2022-23;M;12,5\n",  # not a whole number
    )
    enrol, q, m = read_enrolment(p, schools)
    assert enrol[Enrolment.ENROLLED].tolist() == [1234, 1020]
    assert q[Quarantine.REASON].tolist() == ["bad_count", "bad_count"]
    assert m["rows_read"] == m["rows_kept"] + m["quarantined"] == 4


def test_obs12_numbers_in_erasmus_ka1_reader(tmp_path, schools, countries):
    from analysis.mobility.readers import KA1_HEADER

    def row(part: str) -> str:
        cells = dict.fromkeys(KA1_HEADER, "-")
        cells.update({
            "Project Reference": "2021-1-FR01-KA131-000001", "Academic Year": "2021-22",
            "Mobility Duration": "1\u00a0234" if part == "2" else "120",
            "Activity (mob)": "Student mobility for studies between Programme Countries",
            "Participant Profile": "Learner", "Sending Country Code": "FR",
            "Sending Organisation Erasmus Code": "F  ALES02", "Receiving Country Code": "BE",
            "Participants": part,
        })  # fmt: skip
        return ";".join(cells[h] for h in KA1_HEADER)

    p = _write(
        tmp_path / "ka1.csv", ";".join(KA1_HEADER) + "\n" + row("2") + "\n" + row("1,234") + "\n"
    )
    ing = read_mobility_file(p, "erasmus-ka1", schools, countries)
    # ';' release, decimal comma: "1,234" participants is 1.234, not a count -> quarantined
    assert ing.records[Mobility.PARTICIPANTS].tolist() == [2]
    assert ing.records[Mobility.DURATION_DAYS].tolist() == [1234.0]  # NBSP thousands
    assert ing.quarantine[Quarantine.REASON].tolist() == ["bad_participants"]
