"""Text helpers shared by the readers: matching keys, missing markers, neutralising.

Numbers are read by :mod:`analysis.numbers`, school names by :mod:`analysis.schools`.

Everything here is pure and works on one string; readers apply it to the *unique* values of a
column (``pd.factorize``) so that a million-row file costs one call per distinct answer.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Space-like characters seen in real files: NO-BREAK SPACE inside Erasmus codes, NARROW NO-BREAK
# SPACE / THIN SPACE as French thousands separators.
_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u3000"
_WS = re.compile(r"[\s" + _SPACES + r"]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})

#: Answers that mean "no answer" in every source (compared with :func:`match_key`).
DEFAULT_MISSING: frozenset[str] = frozenset(
    {"", "nsp", "ne sait pas", "-", "na", "n/a", "#n/a", "nan", "null", "none", "?", "? unknown ?"}
)

#: LimeSurvey writes this submitdate for anonymised / non-datestamped surveys: "submitted, no date".
LIMESURVEY_NO_DATE = "1980-01-01 00:00:00"


def match_key(value: str) -> str:
    """Key used to compare codes and labels: NFC, one plain space, straight apostrophe, casefold."""
    s = unicodedata.normalize("NFC", value).translate(_APOSTROPHES)
    return _WS.sub(" ", s).strip().casefold()


def fold_key(value: str) -> str:
    """:func:`match_key` without accents or punctuation (school names: "Telecom" = "Télécom")."""
    s = unicodedata.normalize("NFKD", match_key(value))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^0-9a-z]+", " ", s)
    return s.strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = re.compile(r"^([\s]*)([=+\-@\t\r])")


def neutralise_text(value: str) -> str:
    """Free text made inert: control and bidi characters removed, line breaks kept as ``\\n``,
    HTML special characters escaped, and a leading ``= + - @`` (spreadsheet formula) prefixed
    with an apostrophe."""
    s = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    s = _CONTROL.sub("", s)
    s = html.escape(s, quote=False)
    if _FORMULA_START.match(s):
        s = "'" + s
    return s


def safe_value(value: object, limit: int = 60) -> str:
    """A quarantine ``value``: neutralised and truncated (never a whole free-text answer)."""
    s = neutralise_text("" if value is None else str(value))
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"
