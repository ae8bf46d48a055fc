"""The one number parser, used by every reader (survey exports, Erasmus+ releases, school
sheets, enrolment files).

Rules (docs/codebook.md, "Numbers"):

* thousands may be grouped with a space, NO-BREAK SPACE (U+00A0), NARROW NO-BREAK SPACE
  (U+202F) or a thin/figure space: ``1 234``, ``1\u00a0234,5``, ``1\u202f234\u202f567``;
* a comma followed by anything but exactly three digits is a decimal comma (``4,99``,
  ``1 234,5``, ``12,5``), a point followed by anything but exactly three digits is a decimal
  point (``3.5``); ``1.234,5`` and ``1,234.5`` (both marks) say which one is the decimal mark;
  ``1,234,567`` / ``1.234.567`` (repeated groups) are thousands;
* ``1,234`` and ``1.234`` (one mark, then exactly three digits) are **ambiguous**: they are read
  with the file's decimal convention (:data:`COMMA` or :data:`POINT`, see
  :func:`decimal_convention`); when the file's convention is unknown they are not read
  (reason ``ambiguous_number``) rather than guessed;
* a trailing ``%``, ``€`` or ``EUR`` is *not* accepted: a reader that allows units strips
  them first; infinities and NaN are not numbers.

Everything works on one string; readers call it once per distinct value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

COMMA = "comma"
POINT = "point"

_GROUP_SPACES = " \u00a0\u202f\u2007\u2009\u200a"
_SPACE_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[" + _GROUP_SPACES + r"]\d{3})+(?:[.,]\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_SCI = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
_ONE_MARK = re.compile(r"^[+-]?\d*[.,]\d+$")
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")
_COMMA_GROUPS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3}){2,}$")
_POINT_GROUPS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3}){2,}$")
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+\.\d+$")
_FR_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def parse_number(value: object, convention: str | None = None) -> float | None:
    """The number written in ``value``, or ``None`` when it is not a number (or is ambiguous
    under an unknown ``convention``: see :func:`number_problem`).

    ``convention`` is the file's decimal mark, :data:`COMMA`, :data:`POINT` or ``None``.
    Numbers already typed (``int``/``float`` cells of a workbook) are returned as they are.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _finite(float(value))
    s = str(value).strip()
    if not s:
        return None
    if _SPACE_GROUPED.match(s):
        s = re.sub("[" + _GROUP_SPACES + "]", "", s)
    if _INT.match(s) or _SCI.match(s):
        return _finite(float(s))
    if _AMBIGUOUS.match(s):
        if convention is None:
            return None
        mark = s[-4]
        decimal = (mark == ",") == (convention == COMMA)
        return float(s.replace(mark, ".")) if decimal else float(s.replace(mark, ""))
    if _ONE_MARK.match(s):  # one mark, not before exactly 3 digits: the decimal mark
        return float(s.replace(",", "."))
    if _COMMA_GROUPS.match(s) or _EN_GROUPED.match(s):
        return float(s.replace(",", ""))
    if _POINT_GROUPS.match(s):
        return float(s.replace(".", ""))
    if _FR_GROUPED.match(s):
        return float(s.replace(".", "").replace(",", "."))
    return None


def is_ambiguous(value: object, convention: str | None) -> bool:
    """True for ``1,234`` / ``1.234`` when the file's decimal convention is unknown."""
    return convention is None and isinstance(value, str) and bool(_AMBIGUOUS.match(value.strip()))


def number_problem(value: object, convention: str | None) -> tuple[str, str]:
    """``(reason, detail)`` for a value :func:`parse_number` did not read: ``ambiguous_number``
    (decimal or thousands separator, and the file does not say which) or
    ``unparseable_number``."""
    if is_ambiguous(value, convention):
        return (
            "ambiguous_number",
            "one ',' or '.' before 3 digits: decimal or thousands separator? the file has "
            "no other decimal number to tell",
        )
    return "unparseable_number", "not a number"


_COMMA_EVIDENCE = re.compile(
    r"^[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:[" + _GROUP_SPACES + r".]\d{3})+,\d+)$"
)
_POINT_EVIDENCE = re.compile(
    r"^[+-]?(?:\d*\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:[" + _GROUP_SPACES + r",]\d{3})+\.\d+)$"
)


def decimal_convention(
    cells: Iterable[str], delimiter: str | None = None, default: str | None = None
) -> str | None:
    """The file's decimal mark from its cells: :data:`COMMA` when some cell can only be read
    with a decimal comma (``4,99``, ``1 234,5``) and none with a decimal point, :data:`POINT`
    in the opposite case; when the cells do not tell (or disagree), :data:`COMMA` for a
    ``;``-separated file (Excel-FR, R ``write.csv2``), else ``default``."""
    comma = point = False
    for c in cells:
        if not c or not isinstance(c, str):
            continue
        s = c.strip()
        if not comma and _COMMA_EVIDENCE.match(s):
            comma = True
        elif not point and _POINT_EVIDENCE.match(s):
            point = True
        if comma and point:
            break
    if comma and not point:
        return COMMA
    if point and not comma:
        return POINT
    if delimiter == ";":
        return COMMA
    return default
