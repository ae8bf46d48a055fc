"""Typed, frozen results: the one contract between statistics and presentation.

Every number the report shows is an :class:`Estimate` inside a :class:`ResultTable`; the
report looks numbers up by ``Estimate.key`` and ``results.json`` is the serialisation of the
:class:`ResultSet`.  Analysis code never formats strings: labels, rounding and percentages
live in ``reports/``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

Domain = tuple[tuple[str, str], ...]
PRIVATE_FIELDS = ("n_cell", "weight_base")
"""Estimate fields that exist for disclosure control only and are never serialised."""
"""A domain as sorted (dimension, value) pairs; ``()`` is the whole group."""


def domain_of(**dims: object) -> Domain:
    """Build a domain from keyword arguments, e.g. ``domain_of(school="imt_nord_europe")``."""
    return tuple(sorted((k, str(v)) for k, v in dims.items() if v is not None))


@dataclass(frozen=True)
class Estimate:
    """One published number with its uncertainty.

    ``statistic`` names what it is (proportion, mean, total, count, rate, share, difference,
    odds_ratio, rate_ratio, alpha, f_statistic...), ``base`` says the denominator in words a
    reviewer can check, ``ci_method`` names the interval (logit, beta, wald, t, wilson, exact,
    profile...).  ``n_unweighted`` is the unweighted base behind the estimate.
    """

    key: str
    table: str
    statistic: str
    variable: str
    estimate: float | None
    domain: Domain = ()
    level: str | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_method: str | None = None
    ci_level: float = 0.95
    n_unweighted: int | None = None
    df: float | None = None
    deff: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    weighted: bool = False
    base: str = ""
    suppressed: str | None = None
    """Why disclosure control hid this cell (``None`` when shown)."""
    not_estimable: str | None = None
    """Why the statistic could not be estimated (``separation``, ``sparse_level``,
    ``unstable``, ``singular``: see :mod:`analysis.survey.separation`); it then has no number."""
    n_cell: int | None = field(default=None, repr=False)
    """Never published: unweighted respondents in the cell (a proportion's numerator), read by
    disclosure control and cleared by it; not in :meth:`to_dict`."""
    weight_base: float | None = field(default=None, repr=False)
    """Never published: sum of the weights over the base (weighted estimates), the scale on
    which weighted shares of domains add up; used by the disclosure attacker; not in
    :meth:`to_dict`."""

    def domain_dict(self) -> dict[str, str]:
        return dict(self.domain)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Estimate:
        """The inverse of :meth:`to_dict` (non-finite numbers come back as ``None``)."""
        return cls(**{**d, "domain": domain_of(**dict(d.get("domain") or {}))})

    def with_suppression(self, reason: str) -> Estimate:
        return replace(self, suppressed=reason)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for private in PRIVATE_FIELDS:
            del out[private]
        out["domain"] = dict(self.domain)
        for k, v in list(out.items()):
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        return out


@dataclass(frozen=True)
class ResultTable:
    """A numbered table of the report: estimates that share one statistic and base.

    ``section`` places it in the report (``sample``, ``mobility``, ``survey``, ``comparisons``,
    ``models``, ``weighting``, ``data_quality``); ``dims`` lists the domain dimensions that
    form its rows/columns, in display order.
    """

    id: str
    section: str
    estimates: tuple[Estimate, ...]
    dims: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def by_key(self) -> dict[str, Estimate]:
        return {e.key: e for e in self.estimates}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "dims": list(self.dims),
            "notes": list(self.notes),
            "keys": [e.key for e in self.estimates],
        }


@dataclass(frozen=True)
class ResultSet:
    """Everything a run found: tables of estimates plus data-quality and provenance facts."""

    study: Mapping[str, Any]
    tables: tuple[ResultTable, ...]
    data_quality: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def estimates(self) -> Iterable[Estimate]:
        for t in self.tables:
            yield from t.estimates

    def estimate(self, key: str) -> Estimate:
        for e in self.estimates():
            if e.key == key:
                return e
        raise KeyError(key)

    def table(self, table_id: str) -> ResultTable:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(table_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResultSet:
        """The inverse of :meth:`to_dict`: a ResultSet read back from ``results.json``."""
        by_key = {e["key"]: Estimate.from_dict(e) for e in d.get("estimates", [])}
        tables = tuple(
            ResultTable(
                t["id"],
                t["section"],
                tuple(by_key[k] for k in t["keys"]),
                tuple(t.get("dims") or ()),
                tuple(t.get("notes") or ()),
            )
            for t in d.get("tables", [])
        )
        return cls(
            dict(d.get("study") or {}),
            tables,
            dict(d.get("data_quality") or {}),
            dict(d.get("provenance") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(e.key for e in self.estimates())
        dupes = sorted(k for k, c in counts.items() if c > 1)
        if dupes:
            raise ValueError(f"duplicate estimate keys: {dupes[:5]}")
        return {
            "study": dict(self.study),
            "tables": [t.to_dict() for t in self.tables],
            "estimates": [e.to_dict() for e in self.estimates()],
            "data_quality": dict(self.data_quality),
            "provenance": dict(self.provenance),
        }
