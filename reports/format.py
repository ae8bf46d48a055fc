"""Locale-aware number formatting: the only place where numbers become strings.

English: ``1,234``, ``62.9%``, ``0.85``. French: ``1 234`` (no-break space as the
thousands separator), ``62,9 %`` (no-break space before ``%``), ``0,85``. ``None`` and
non-finite values are shown as an en dash.
"""

from __future__ import annotations

import math

NBSP = "\u00a0"
DASH = "\u2013"
MINUS = "\u2212"

_SEP = {"en": (".", ","), "fr": (",", NBSP)}


def _seps(lang: str) -> tuple[str, str]:
    return _SEP.get(lang, _SEP["en"])


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def fmt_number(x: float | None, lang: str, decimals: int = 1) -> str:
    """``x`` with ``decimals`` decimals, the locale's separators and a true minus sign.

    A value that rounds to zero is shown without a sign (no ``-0.0``)."""
    if _missing(x):
        return DASH
    dec, thou = _seps(lang)
    s = f"{abs(float(x)):,.{decimals}f}"
    s = s.replace(",", "\0").replace(".", dec).replace("\0", thou)
    if float(x) < 0 and s.strip("0" + dec + thou) != "":
        s = MINUS + s
    return s


def fmt_int(x: float | None, lang: str) -> str:
    """A count, as an integer with the locale's thousands separator."""
    return fmt_number(x, lang, 0)


def fmt_percent_value(p: float | None, lang: str, decimals: int = 1) -> str:
    """A proportion (0-1) as a percentage number without the sign: 0.629 -> ``62.9``."""
    return DASH if _missing(p) else fmt_number(float(p) * 100, lang, decimals)


def percent_sign(lang: str) -> str:
    return f"{NBSP}%" if lang == "fr" else "%"


def fmt_percent(p: float | None, lang: str, decimals: int = 1) -> str:
    """A proportion (0-1) as a percentage: 0.629 -> ``62.9%`` (en), ``62,9 %`` (fr)."""
    if _missing(p):
        return DASH
    return fmt_percent_value(p, lang, decimals) + percent_sign(lang)


def fmt_range(lo: str, hi: str, lang: str = "en") -> str:
    """A confidence interval as ``59.1–66.5``; with a negative bound, ``−0.20 to −0.02``
    (``à`` in French), since a dash next to a minus sign reads badly."""
    if lo == DASH or hi == DASH:
        return DASH
    if lo.startswith(MINUS) or hi.startswith(MINUS):
        return f"{lo} {'à' if lang == 'fr' else 'to'} {hi}"
    return f"{lo}{DASH}{hi}"


def fmt_p(p: float | None, lang: str) -> str:
    """A p-value: three decimals, ``<0.001`` below that."""
    if _missing(p):
        return DASH
    if p < 0.001:
        return "<" + fmt_number(0.001, lang, 3)
    return fmt_number(p, lang, 3)


def fmt_eur(x: float | None, lang: str) -> str:
    """An amount in euros, whole euros."""
    if _missing(x):
        return DASH
    return f"{fmt_int(x, lang)}{NBSP}€" if lang == "fr" else f"€{fmt_int(x, lang)}"


def fmt_date(iso: str, lang: str) -> str:
    """An ISO date (``2024-06-30``; a time part is kept as is) in the locale's order."""
    s = str(iso)
    if len(s) >= 10 and s[4] == "-" and s[7] == "-":
        y, m, d = s[:4], s[5:7], s[8:10]
        rest = s[10:].replace("T", " ")
        return (f"{d}/{m}/{y}" if lang == "fr" else f"{y}-{m}-{d}") + rest
    return s


def fmt_academic_year(year: int | str) -> str:
    """2019 -> ``2019-20`` (the start year of the academic year)."""
    try:
        y = int(year)
    except (TypeError, ValueError):
        return str(year)
    return f"{y}-{(y + 1) % 100:02d}"
