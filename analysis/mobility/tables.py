"""Harmonisation as data: the school and country tables and pure look-ups on them.

The tables live in ``analysis/tables/*.csv`` (see the README there); the flow reads them (with
``dtype=str, keep_default_na=False``) and passes the DataFrames in.  Every function here is
pure: it takes the tables as frames and returns values or new frames.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

MISSING_MARKERS = frozenset({"", "-", "na", "n/a", "? unknown ?", "???", "#n/a", "unknown", "nan"})
_SPACE_HYPHEN = re.compile(r"[\s\-_]+")
_UNKNOWN = re.compile(r"^\?+\s*-?\s*\?\s*unknown\s*\?$")


def default_table_path(name: str) -> Path:
    """Path of a packaged table (``"schools"`` or ``"countries"``); reading stays in the caller."""
    if name not in ("schools", "countries"):
        raise ValueError(f"unknown table {name!r}: expected 'schools' or 'countries'")
    return Path(str(resources.files("analysis") / "tables" / f"{name}.csv"))


def normalise_text(value: object) -> str:
    """Key for matching names: NFKD without accents, casefolded, ’->', NBSP->space,
    spaces and hyphens collapsed to one space."""
    s = str(value).replace("\u2019", "'").replace("\u2018", "'")
    s = s.replace("\u00a0", " ").replace("\u202f", " ")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold()
    return _SPACE_HYPHEN.sub(" ", s).strip()


def is_missing(value: object, *, na_is_missing: bool = True) -> bool:
    """True for the missing markers of the exports: empty, ``-``, ``NA``, ``? Unknown ?``...

    Pass ``na_is_missing=False`` for country-code columns, where ``NA`` is Namibia.
    """
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    s = normalise_text(value)
    if s == "na" and not na_is_missing:
        return False
    return s in MISSING_MARKERS or bool(_UNKNOWN.match(s))


_YEAR_PAIR = re.compile(r"^(\d{4})\s*[-/_]\s*(\d{2}|\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ t].*)?$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


def academic_year_of(value: object) -> int | None:
    """Start year of the academic year written in any usual form, ``None`` if unreadable.

    ``2019-20``, ``2019/2020``, ``2019-2020``, ``2019`` -> 2019; a start month ``2019-09`` or a
    date ``15/09/2019`` -> 2019, and ``2020-03`` -> 2019 (months September-December start that
    academic year, January-August belong to the year that started the September before).
    """
    if is_missing(value):
        return None
    s = str(value).strip().replace("\u00a0", " ")
    m = _YEAR_PAIR.match(s)
    if m:
        start, end = int(m.group(1)), m.group(2)
        end_full = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        if len(end) == 2 and end_full < start:
            end_full += 100
        if end_full == start + 1:
            return start
        if len(end) == 2 and 1 <= int(end) <= 12:
            return start if int(end) >= 9 else start - 1
        return None
    m = _YEAR_MONTH.match(s.lower())
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return _from_month(y, mo)
    m = _MONTH_YEAR.match(s)
    if m:
        return _from_month(int(m.group(2)), int(m.group(1)))
    m = _DMY.match(s)
    if m:
        return _from_month(int(m.group(3)), int(m.group(2)))
    m = _YEAR.match(s)
    if m:
        return int(m.group(1))
    return None


def _from_month(year: int, month: int) -> int | None:
    if not 1 <= month <= 12:
        return None
    return year if month >= 9 else year - 1


COUNTRY_COLUMNS = ("alpha2", "alpha3", "name_en", "name_fr", "region", "aliases")
REGIONS = (
    "euroregion",
    "other_europe",
    "north_america",
    "latin_america",
    "asia",
    "africa",
    "oceania",
)
EUROREGION = frozenset({"BE", "NL", "DE"})


def _check(df: pd.DataFrame, cols: Iterable[str], label: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{label} table: missing column(s) {', '.join(missing)} (row 1, header)")


@dataclass(frozen=True)
class CountryLookup:
    """Resolves ISO codes (alpha-2/alpha-3, EL, UK, XK) and English/French names or aliases."""

    by_key: dict[str, str]
    region: dict[str, str]

    def code_of(self, value: object) -> str | None:
        """ISO alpha-2 (``XK`` for Kosovo) or ``None`` when unknown; missing markers give None
        too, test them with :func:`is_missing` first."""
        return self.by_key.get(normalise_text(value))


def country_lookup(countries: pd.DataFrame) -> CountryLookup:
    """Build the look-up from the country table (columns: see ``COUNTRY_COLUMNS``)."""
    _check(countries, COUNTRY_COLUMNS, "countries")
    by_key: dict[str, str] = {}
    region: dict[str, str] = {}
    for i, r in enumerate(countries.itertuples(index=False), start=1):
        a2 = str(r.alpha2).strip().upper()
        if len(a2) != 2:
            raise ValueError(f"countries table: row {i}, column alpha2: {a2!r} is not 2 letters")
        if r.region not in REGIONS:
            raise ValueError(f"countries table: row {i}, column region: unknown {r.region!r}")
        region[a2] = str(r.region)
        for n in [a2, r.alpha3, r.name_en, r.name_fr, *str(r.aliases).split("|")]:
            key = normalise_text(n)
            if key:
                by_key.setdefault(key, a2)
    return CountryLookup(by_key=by_key, region=region)
