"""Text helpers shared by the readers: matching keys, missing markers, numbers, neutralising.

Everything here is pure and works on one string; readers apply it to the *unique* values of a
column (``pd.factorize``) so that a million-row file costs one call per distinct answer.
"""

from __future__ import annotations

import html
import math
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


_GROUPED = "[ " + _SPACES + "]"
_THOUSANDS_SPACE = re.compile(r"(?<=\d)" + _GROUPED + r"(?=\d{3}(?:\D|$))")
_INT = re.compile(r"^[+-]?\d+$")
_DOT_DEC = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")
_COMMA_DEC = re.compile(r"^[+-]?\d+,\d+$")
_FR_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$")
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3},\d{3}$")
_SCI = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


def parse_number(value: str, decimal_comma: bool | None = None) -> float | None:
    """The number written in ``value`` or ``None`` when it is not a number.

    Accepts a decimal point or comma, thousands grouped with spaces / NBSP / U+202F, "1.234,5"
    and "1,234.5".  "1,234" is ambiguous: decimal comma if ``decimal_comma`` is true (French
    file), thousands otherwise.
    """
    s = _THOUSANDS_SPACE.sub("", value.strip())
    if not s:
        return None
    if _INT.match(s) or _DOT_DEC.match(s) or _SCI.match(s):
        x = float(s)
    elif _AMBIGUOUS.match(s):
        x = float(s.replace(",", ".")) if decimal_comma else float(s.replace(",", ""))
    elif _COMMA_DEC.match(s):
        x = float(s.replace(",", "."))
    elif _FR_GROUPED.match(s):
        x = float(s.replace(".", "").replace(",", "."))
    elif _EN_GROUPED.match(s):
        x = float(s.replace(",", ""))
    else:
        return None
    return x if math.isfinite(x) else None


_DECIMAL_COMMA_CELL = re.compile(r"^-?\d+(?:[ \u00a0\u202f]\d{3})*,\d+$")


def looks_decimal_comma(value: str) -> bool:
    """True for a cell such as ``4,99`` or ``1 234,5`` (the decimal-comma sniff)."""
    return bool(_DECIMAL_COMMA_CELL.match(value.strip()))
