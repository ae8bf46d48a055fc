"""The harmonisation tables and the pure look-ups on them."""

import pandas as pd
import pytest

from analysis.mobility.tables import (
    REGIONS,
    academic_year_of,
    country_lookup,
    default_table_path,
    is_missing,
    normalise_text,
)
from analysis.schools import erasmus_code_key, school_resolver

ARCHITECTURE_IDS = {
    "imt_atlantique",
    "imt_nord_europe",
    "imt_mines_albi",
    "imt_mines_ales",
    "mines_saint_etienne",
    "telecom_paris",
    "telecom_sudparis",
    "imt_bs",
    "eurecom",
    "mines_paris",
}


def test_default_table_path_points_at_packaged_csvs():
    for name in ("schools", "countries"):
        p = default_table_path(name)
        assert p.name == f"{name}.csv" and p.is_file()
    with pytest.raises(ValueError, match="unknown table"):
        default_table_path("cities")


def test_school_table_covers_the_architecture_ids(schools):
    assert ARCHITECTURE_IDS <= set(schools["school_id"])
    assert set(schools["status"]) <= {"school", "subsidiary", "associated", "parent"}
    assert set(schools["code_verified"]) <= {"true", "false"}
    # the predecessor codes of the synthetic sample data are flagged unverified
    synthetic = schools[schools["code_verified"] == "false"]
    assert {erasmus_code_key(c) for c in synthetic["erasmus_codes"]} == {
        "FDOUAI05",
        "FLILLE15",
        "FBREST05",
        "FNANTES26",
    }


@pytest.mark.parametrize(
    ("code", "year", "school"),
    [
        ("F\u00a0 DOUAI05", 2016, "imt_nord_europe"),  # Mines Douai, NBSP padding
        ("F  DOUAI05", 2017, "imt_nord_europe"),  # IMT Lille Douai, same code
        ("F LILLE15", 2015, "imt_nord_europe"),  # Télécom Lille
        ("f lille91", 2022, "imt_nord_europe"),
        ("F\u202fBREST05", 2014, "imt_atlantique"),  # Télécom Bretagne
        ("F NANTES26", 2016, "imt_atlantique"),  # Mines Nantes
        ("F  NANTES80", 2017, "imt_atlantique"),
        ("F  ST-ETIE06", None, "mines_saint_etienne"),
        ("F  PARIS081", None, "mines_paris"),
        ("F  PARIS454", None, "imt"),
        ("F  DOUAI12", 2019, None),
    ],
)
def test_codes_resolve_across_mergers(schools, code, year, school):
    assert school_resolver(schools).school_of_code(code, year) == school


@pytest.mark.parametrize(
    ("name", "school"),
    [
        ("Mines Douai", "imt_nord_europe"),
        ("Télécom Lille", "imt_nord_europe"),
        ("TELECOM LILLE", "imt_nord_europe"),
        ("IMT Lille Douai", "imt_nord_europe"),
        ("IMT Nord Europe", "imt_nord_europe"),
        ("Télécom Bretagne", "imt_atlantique"),
        ("École des Mines de Nantes", "imt_atlantique"),
        ("ECOLE NATIONALE SUPERIEURE DES MINES D’ALES", "imt_mines_ales"),
        ("Mines St-Etienne", "mines_saint_etienne"),
        ("Télécom ParisTech", "telecom_paris"),
        ("Université de Lille", None),
    ],
)
def test_names_resolve_to_current_school(schools, name, school):
    assert school_resolver(schools).school_of_name(name) == school


def test_duplicate_name_across_schools_is_an_error(schools):
    bad = pd.concat([schools, schools.iloc[[0]].assign(school_id="other", entity="other")])
    with pytest.raises(ValueError, match="maps to both"):
        school_resolver(bad)


def test_country_table_shape(countries):
    assert 245 <= len(countries) <= 260
    assert countries["alpha2"].is_unique
    assert set(countries["region"]) == set(REGIONS)
    euro = countries[countries["region"] == "euroregion"]["alpha2"]
    assert sorted(euro) == ["BE", "DE", "NL"]
    region = dict(zip(countries["alpha2"], countries["region"], strict=True))
    assert region["US"] == region["CA"] == "north_america"
    assert region["MX"] == region["BR"] == region["CL"] == "latin_america"
    assert region["JP"] == region["CN"] == "asia"
    assert region["MA"] == region["ZA"] == "africa"
    assert region["AU"] == "oceania"
    assert region["ES"] == region["GB"] == region["CH"] == "other_europe"
    assert region["NA"] == "africa"  # Namibia survives keep_default_na=False


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("EL", "GR"),
        ("UK", "GB"),
        ("XK", "XK"),
        ("Kosovo * UN resolution", "XK"),
        ("The Republic of North Macedonia", "MK"),
        ("Allemagne", "DE"),
        ("Pays-Bas", "NL"),
        ("Pays  Bas", "NL"),
        ("Hollande", "NL"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Turquie", "TR"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("République tchèque", "CZ"),
        ("Angleterre", "GB"),
        ("USA", "US"),
        ("Etats-Unis", "US"),
        ("États-Unis", "US"),
        ("Corée du Sud", "KR"),
        ("Québec", "CA"),
        ("Côte d’Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
        ("DEU", "DE"),
        ("Belgique", "BE"),
        ("Atlantis", None),
    ],
)
def test_country_aliases(countries, value, code):
    assert country_lookup(countries).code_of(value) == code


def test_normalisation():
    assert normalise_text("  Côte\u00a0d’Ivoire ") == "cote d'ivoire"
    assert normalise_text("Pays--Bas") == normalise_text("pays bas")
    assert erasmus_code_key("F\u00a0 LILLE91") == "FLILLE91"
    assert erasmus_code_key("F \u202f\tNANTES80 ") == "FNANTES80"


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("2019-20", 2019),
        ("2019/2020", 2019),
        ("2019-2020", 2019),
        ("2019 - 20", 2019),
        ("2099-00", 2099),
        ("2019-09", 2019),  # September starts the year
        ("2019-12", 2019),
        ("2020-01", 2019),  # January-August belong to the year before
        ("2020-08", 2019),
        ("15/09/2019", 2019),
        ("03/2020", 2019),
        ("2019", 2019),
        ("2019-21", None),
        ("2019-13", None),
        ("-", None),
        ("? Unknown ?", None),
        ("soon", None),
    ],
)
def test_academic_year_of(value, year):
    assert academic_year_of(value) == year


def test_missing_markers():
    for v in ("", "-", "? Unknown ?", "??? - ? Unknown ?", "NA", None):
        assert is_missing(v)
    assert not is_missing("NA", na_is_missing=False)  # Namibia in a country-code column
    assert not is_missing("BE")
