"""Regenerate ``countries.csv`` from pycountry (ISO 3166-1) and Babel (CLDR names).

A one-off maintenance script, not a runtime dependency: the committed CSV is the data the
pipeline reads.  It prints the CSV on stdout (``analysis`` never writes files)::

    pip install pycountry babel
    python -m analysis.tables.generate_countries > analysis/tables/countries.csv

Regions are the report's groups: ``euroregion`` (BE, NL, DE: IMT Nord Europe's cross-border
partners), ``other_europe``, ``north_america`` (US, CA, and the North-American territories
listed below), ``latin_america`` (rest of the Americas incl. the Caribbean), ``asia``
(incl. the Middle East), ``africa``, ``oceania``.  They are derived from the CLDR time zone of
each territory, with the explicit overrides below where the zone is misleading.
"""

from __future__ import annotations

import csv
import sys

EUROREGION = {"BE", "NL", "DE"}
NORTH_AMERICA = {"US", "CA", "PM", "GL", "BM", "UM"}
OVERRIDES = {
    # Zone prefix says Asia/Atlantic/Indian but the report groups them differently.
    "CY": "other_europe",
    "TR": "other_europe",
    "RU": "other_europe",
    "GE": "asia",
    "AM": "asia",
    "AZ": "asia",
    "KZ": "asia",
    "IS": "other_europe",
    "FO": "other_europe",
    "SJ": "other_europe",
    "GI": "other_europe",
    "PT": "other_europe",
    "ES": "other_europe",
    "CV": "africa",
    "SH": "africa",
    "MU": "africa",
    "SC": "africa",
    "KM": "africa",
    "MG": "africa",
    "YT": "africa",
    "RE": "africa",
    "MV": "asia",
    "IO": "asia",
    "CC": "oceania",
    "CX": "oceania",
    "HM": "oceania",
    "AQ": "oceania",
    "TF": "africa",
    "BV": "other_europe",
    "GS": "latin_america",
    "FK": "latin_america",
    "XK": "other_europe",
    "EG": "africa",
}
EXTRA_ALIASES = {
    "GR": ["EL", "Grèce", "Greece", "Hellas"],
    "GB": [
        "UK",
        "United Kingdom",
        "Royaume-Uni",
        "Angleterre",
        "England",
        "Grande-Bretagne",
        "Great Britain",
        "Écosse",
        "Scotland",
        "Pays de Galles",
        "Wales",
        "Irlande du Nord",
        "Northern Ireland",
    ],
    "XK": ["Kosovo", "Kosovo * UN resolution", "Kosovo * UN resolution 1244"],
    "DE": ["Allemagne", "Germany", "Deutschland"],
    "NL": ["Pays-Bas", "Hollande", "Netherlands", "The Netherlands", "Holland", "Nederland"],
    "BE": ["Belgique", "Belgium", "België", "Belgien"],
    "TR": ["Türkiye", "Turkey", "Turquie"],
    "CZ": ["Czech Republic", "Czechia", "République tchèque", "Tchéquie"],
    "MK": [
        "The Republic of North Macedonia",
        "North Macedonia",
        "Macédoine du Nord",
        "Former Yugoslav Republic of Macedonia",
        "Macédoine",
        "FYROM",
    ],
    "US": ["USA", "U.S.A.", "Etats-Unis", "États-Unis d'Amérique", "United States of America"],
    "KR": ["Corée du Sud", "Corée", "South Korea", "Korea", "Republic of Korea"],
    "KP": ["Corée du Nord", "North Korea"],
    "CA": ["Québec", "Quebec"],
    "RU": ["Russie", "Russia", "Russian Federation"],
    "IR": ["Iran"],
    "SY": ["Syrie", "Syria"],
    "VN": ["Vietnam", "Viet Nam"],
    "TW": ["Taïwan", "Taiwan"],
    "CN": ["Chine", "China", "République populaire de Chine"],
    "HK": ["Hong Kong", "Hong-Kong"],
    "MO": ["Macao", "Macau"],
    "CI": ["Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast"],
    "CH": ["Suisse", "Switzerland"],
    "LI": ["Liechtenstein"],
    "BO": ["Bolivia", "Bolivie"],
    "VE": ["Venezuela"],
    "TZ": ["Tanzania", "Tanzanie"],
    "MD": ["Moldova", "Moldavie"],
    "LA": ["Laos"],
    "PS": ["Palestine"],
    "VA": ["Holy See", "Vatican", "Saint-Siège"],
    "CD": ["RDC", "République démocratique du Congo", "Congo-Kinshasa"],
    "CG": ["Congo", "Congo-Brazzaville"],
    "SK": ["Slovak Republic", "Slovaquie"],
}


def _region(code: str, zones: dict[str, list[str]]) -> str:
    if code in EUROREGION:
        return "euroregion"
    if code in OVERRIDES:
        return OVERRIDES[code]
    if code in NORTH_AMERICA:
        return "north_america"
    tz = (zones.get(code) or ["?/"])[0]
    prefix = tz.split("/")[0]
    return {
        "Europe": "other_europe",
        "America": "latin_america",
        "Africa": "africa",
        "Asia": "asia",
        "Australia": "oceania",
        "Pacific": "oceania",
        "Indian": "asia",
        "Atlantic": "other_europe",
        "Antarctica": "oceania",
    }.get(prefix, "?")


def rows() -> list[dict[str, str]]:
    import pycountry
    from babel import Locale
    from babel.core import get_global

    en = Locale("en").territories
    fr = Locale("fr").territories
    zones = get_global("territory_zones")
    records = [(c.alpha_2, c.alpha_3, c) for c in pycountry.countries]
    records.append(("XK", "XKX", None))
    out = []
    for a2, a3, c in sorted(records, key=lambda r: r[0]):
        name_en = en.get(a2) or (c.name if c else a2)
        name_fr = fr.get(a2) or name_en
        aliases: list[str] = []
        if c is not None:
            for attr in ("name", "official_name", "common_name"):
                v = getattr(c, attr, None)
                if v:
                    aliases.append(v)
        aliases += EXTRA_ALIASES.get(a2, [])
        if "’" in name_fr:
            aliases.append(name_fr.replace("’", "'"))
        seen = {name_en.casefold(), name_fr.casefold()}
        uniq = []
        for a in aliases:
            if a.casefold() not in seen:
                seen.add(a.casefold())
                uniq.append(a)
        region = _region(a2, zones)
        if region == "?":
            raise SystemExit(f"no region for {a2}")
        out.append(
            {
                "alpha2": a2,
                "alpha3": a3,
                "name_en": name_en,
                "name_fr": name_fr,
                "region": region,
                "aliases": "|".join(uniq),
            }
        )
    return out


def main() -> None:
    w = csv.DictWriter(
        sys.stdout,
        fieldnames=["alpha2", "alpha3", "name_en", "name_fr", "region", "aliases"],
        delimiter=",",
        lineterminator="\n",
    )
    w.writeheader()
    w.writerows(rows())


if __name__ == "__main__":
    main()
