"""Per-school spreadsheets (columns mapped in config) and the enrolment file."""

import math

import openpyxl
import pandas as pd
import pytest

from analysis.enrolment import read_enrolment
from analysis.mobility.readers import (
    MobilityFormatError,
    combine_mobility_records,
    read_mobility_file,
    sheet_number,
)
from analysis.numbers import COMMA
from analysis.schema import Enrolment, Mobility

from .conftest import FIXTURES

COLUMNS = {
    "Année universitaire": "academic_year",
    "Type de mobilité": "activity",
    "Pays de destination": "country",
    "Établissement d'accueil": "host",
    "Durée (mois)": "duration_months",
    "Bourse (EUR)": "grant_eur",
    "Financement": "funding",
    "Nombre d'étudiants": "participants",
}
SHEET = FIXTURES / "school_sheet_fr.csv"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2\u00a0520,00", 2520.0),
        ("1\u202f350,5", 1350.5),
        ("5,5", 5.5),
        ("1234.5", 1234.5),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("-", None),
        ("", None),
    ],
)
def test_sheet_number(text, value):
    assert sheet_number(text, COMMA) == value


def test_sheet_number_rejects_text():
    with pytest.raises(ValueError, match="six"):
        sheet_number("six", COMMA)


def test_french_school_sheet(schools, countries):
    ing = read_mobility_file(
        SHEET, "school-mobility", schools, countries, "IMT Nord Europe", COLUMNS
    )
    m = ing.manifest
    assert (m["rows_read"], m["rows_kept"], m["quarantined"]) == (7, 4, 3)
    r = ing.records.set_index(Mobility.SOURCE_ROW)
    assert set(r[Mobility.SCHOOL]) == {"imt_nord_europe"}
    assert list(r[Mobility.ACTIVITY]) == ["dual_degree", "traineeship", "study", "traineeship"]
    assert list(r[Mobility.ACADEMIC_YEAR]) == [2019, 2019, 2020, 2020]
    assert r.loc[1, Mobility.COUNTRY] == "BE" and r.loc[1, "region"] == "euroregion"
    assert r.loc[2, Mobility.COUNTRY] == "US"
    assert r.loc[3, Mobility.COUNTRY] == "KR"
    assert pd.isna(r.loc[6, Mobility.COUNTRY])
    assert ing.unknown_countries == {"Atlantide": 1}
    assert r.loc[1, Mobility.GRANT_EUR] == 2520.0
    assert r.loc[3, Mobility.GRANT_EUR] == 1350.5
    assert math.isnan(r.loc[2, Mobility.GRANT_EUR])
    assert r.loc[2, Mobility.DURATION_MONTHS] == 5.5
    assert r.loc[2, Mobility.DURATION_DAYS] == 165.0
    assert list(r[Mobility.ERASMUS_FUNDED]) == [True, False, False, False]
    assert list(r[Mobility.PARTICIPANTS]) == [3, 2, 1, 1]
    q = ing.quarantine.set_index("source_row")
    assert q.loc[4, "reason"] == "unknown_activity" and q.loc[4, "column"] == "Type de mobilité"
    assert q.loc[5, "reason"] == "bad_number" and q.loc[5, "column"] == "Durée (mois)"
    assert q.loc[7, "reason"] == "bad_year" and q.loc[7, "column"] == "Année universitaire"


def test_school_sheet_as_xlsx(tmp_path, schools, countries):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Année", "Type", "Pays", "Mois", "Bourse"])
    ws.append(["2019/2020", "Double diplôme", "Pays-Bas", 24, 1850.0])
    ws.append(["2019-20", "Études", "Hollande", "4,5", "1\u00a0200"])
    p = tmp_path / "sheet.xlsx"
    wb.save(p)
    cols = {"Année": "academic_year", "Type": "activity", "Pays": "country",
            "Mois": "duration_months", "Bourse": "grant_eur"}  # fmt: skip
    r = read_mobility_file(
        p, "school-mobility", schools, countries, "imt_nord_europe", cols
    ).records
    assert list(r[Mobility.COUNTRY]) == ["NL", "NL"]
    assert list(r[Mobility.DURATION_MONTHS]) == [24.0, 4.5]
    assert list(r[Mobility.GRANT_EUR]) == [1850.0, 1200.0]
    assert list(r[Mobility.PARTICIPANTS]) == [1, 1]  # no participants column: one each


def test_school_sheet_config_errors(schools, countries):
    with pytest.raises(MobilityFormatError, match="unknown school"):
        read_mobility_file(SHEET, "school-mobility", schools, countries, "Mines Nowhere", COLUMNS)
    bad = {**COLUMNS, "Colonne absente": "host"}
    with pytest.raises(
        MobilityFormatError, match=r"school_sheet_fr.csv: row 1, column Colonne absente"
    ):
        read_mobility_file(SHEET, "school-mobility", schools, countries, "imt_nord_europe", bad)
    with pytest.raises(MobilityFormatError, match="unknown field"):
        read_mobility_file(
            SHEET,
            "school-mobility",
            schools,
            countries,
            "imt_nord_europe",
            {"Financement": "money"},
        )


def test_double_counting_with_erasmus_is_removed(schools, countries):
    sheet = read_mobility_file(
        SHEET, "school-mobility", schools, countries, "imt_nord_europe", COLUMNS
    )
    ka1 = read_mobility_file(FIXTURES / "ka1_sample.csv", "erasmus-ka1", schools, countries)
    # KA1 has no imt_nord_europe record in 2019: the Erasmus+-funded sheet row stays
    rec, man = combine_mobility_records([ka1, sheet])
    assert len(rec) == len(ka1.records) + len(sheet.records)
    assert man["double_counted"]["school_sheet_fr.csv"] == {"rows": 0, "participants": 0}
    # an Erasmus+ source covering imt_nord_europe 2019: the funded row (3 students) goes
    cover = ka1.records.assign(**{Mobility.SCHOOL: "imt_nord_europe", Mobility.ACADEMIC_YEAR: 2019})
    ka1_cover = type(ka1)(cover, ka1.quarantine, ka1.manifest)
    rec, man = combine_mobility_records([ka1_cover, sheet])
    assert len(rec) == len(ka1.records) + len(sheet.records) - 1
    assert man["double_counted"]["school_sheet_fr.csv"] == {"rows": 1, "participants": 3}


def test_enrolment_names_and_years(schools):
    enrol, q, m = read_enrolment(FIXTURES / "enrolment_names.csv", schools)
    assert (m["rows_read"], m["rows_kept"], m["quarantined"]) == (11, 7, 4)
    assert m["unknown_schools"] == {"Ecole Imaginaire": 2}
    got = {(r.school, r.academic_year, r.gender): r.enrolled for r in enrol.itertuples(index=False)}
    assert got == {
        ("imt_nord_europe", 2016, "F"): 150,  # Mines Douai 100 + Télécom Lille 50
        ("imt_nord_europe", 2016, "M"): 300,
        ("imt_nord_europe", 2017, "F"): 160,
        ("imt_nord_europe", 2017, "M"): 310,
        ("imt_atlantique", 2016, "F"): 40,
        ("imt_atlantique", 2017, "F"): 1020,
    }
    assert list(enrol.columns) == list(Enrolment.SCHEMA.required)
    assert sorted(q["reason"]) == ["bad_gender", "bad_year", "unknown_school", "unknown_school"]
    assert set(q["source_row"]) == {7, 8, 10, 11}


def test_enrolment_missing_column(tmp_path, schools):
    p = tmp_path / "e.csv"
    p.write_text("school;year;gender;enrolled\nX;2019-20;F;1\n", encoding="utf-8")
    with pytest.raises(MobilityFormatError, match=r"e.csv: row 1, column academic_year"):
        read_enrolment(p, schools)
