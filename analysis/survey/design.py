"""The survey design object and the estimate functions analysts call from notebooks.

>>> d = SurveyDesign.from_frame(df, design="stratified", strata="school", weight="weight",
...                             population={"imt_nord_europe": 2000, ...})
>>> proportion(d, "went_abroad", by="school")            # tidy DataFrame

Every estimate function returns a tidy ``pandas.DataFrame`` with one row per (domain, level):
the domain columns (the ``by`` variables), then ``variable``, ``level``, ``statistic``,
``estimate``, ``se``, ``ci_low``, ``ci_high``, ``ci_method``, ``ci_level``, ``df``, ``n``
(unweighted respondents used), ``deff`` and ``weight_sum`` (estimated population of the domain).
Standard errors are Taylor-linearised (see :mod:`analysis.survey.linearization`); numbers equal
R ``survey`` (``svymean``/``svyby``/``svyciprop``/``svytotal``) to about 1e-12.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.linearization import (
    DesignArrays,
    DomainIndex,
    LinearizedResult,
    ci_beta,
    ci_logit,
    ci_t,
    ci_wald,
    linearize,
)
from analysis.survey.weighting import WeightingResult

DESIGN_TYPES = ("unweighted", "weights", "stratified")
PROPORTION_CI = ("logit", "beta", "wald", "t")
MEAN_CI = ("t", "wald")

RESULT_COLUMNS = (
    "variable",
    "level",
    "statistic",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "ci_level",
    "df",
    "n",
    "deff",
    "weight_sum",
)


class DesignError(ValueError):
    """Invalid design specification or data (the message names the column and the row)."""


@dataclass(frozen=True)
class SurveyDesign:
    """A one-stage survey design over a respondent-level frame.

    ``design``: ``"unweighted"`` (simple random sampling, weights 1), ``"weights"`` (weights
    only, with-replacement linearization: R ``svydesign(ids=~1, weights=~w)``) or
    ``"stratified"`` (strata, optional finite-population correction from the stratum
    population: R ``svydesign(ids=~1, strata=~s, fpc=~N)``).  ``calibrated_on`` names the
    columns holding the post-stratification cells or raking margins the weights were
    calibrated to; the standard errors then account for the calibration (as R's
    ``postStratify``/``rake``).  Build it with :meth:`from_frame`.
    """

    data: pd.DataFrame
    design: str
    weight: str | None
    strata: str | None
    arrays: DesignArrays
    calibrated_on: tuple[str, ...] = ()
    _domain_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def weighted(self) -> bool:
        return self.design != "unweighted"

    @property
    def n(self) -> int:
        return self.arrays.n

    @property
    def singleton_strata(self) -> int:
        """Strata with one respondent (their variance uses R's ``lonely.psu="adjust"``)."""
        return self.arrays.singleton_strata

    @property
    def degf(self) -> int:
        """Design degrees of freedom: respondents minus strata (R ``degf``)."""
        return self.n - self.arrays.n_strata

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        design: str = "stratified",
        *,
        strata: str | None = "school",
        weight: str | None = "weight",
        population: Mapping[str, float] | str | None = None,
        calibrated_on: Sequence[str] = (),
        calibration: WeightingResult | None = None,
        source: str = "responses",
    ) -> SurveyDesign:
        """Build a design; ``population`` gives the stratum sizes N_h for the fpc.

        ``calibration``: the :class:`~analysis.survey.weighting.WeightingResult` that produced
        the weights (rows aligned with ``df``), so that the variance uses R's projection
        exactly: a post-stratification's weights before calibration (they matter when they vary
        within a cell) and a raking's per-margin weights of its last sweep (they matter when
        raking stopped early, e.g. at R's default ``epsilon``).  Without it the base weights
        are taken as constant within cells and the raking as converged.

        ``population`` is a mapping stratum value -> N_h or the name of a column holding N_h
        (constant within a stratum); ``None`` means no finite-population correction.  Only used
        by the stratified design.  Rows with a missing or non-positive weight raise an error
        naming the row (``source`` names the table in messages).
        """
        if design not in DESIGN_TYPES:
            raise DesignError(f"design must be one of {DESIGN_TYPES}, got {design!r}")
        data = df.reset_index(drop=True)
        n = len(data)
        if n == 0:
            raise DesignError(f"{source}: no respondents")
        if design == "unweighted":
            w = np.ones(n)
        else:
            if weight is None or weight not in data.columns:
                raise DesignError(f"{source}: weight column {weight!r} not found")
            w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DesignError(
                    f"{source}: row {i + 1}, column {weight!r}: weight must be a positive "
                    f"number, got {data[weight].iloc[i]!r} ({int(bad.sum())} such rows)"
                )
        if design == "stratified":
            if strata is None or strata not in data.columns:
                raise DesignError(f"{source}: strata column {strata!r} not found")
            sval = data[strata]
            if sval.isna().any():
                i = int(np.flatnonzero(sval.isna().to_numpy())[0])
                raise DesignError(f"{source}: row {i + 1}, column {strata!r}: missing stratum")
            codes, uniques = pd.factorize(sval, sort=True)
            n_h = np.bincount(codes, minlength=len(uniques)).astype(float)
            fpc = np.zeros(len(uniques))
            if population is not None:
                if isinstance(population, str):
                    if population not in data.columns:
                        raise DesignError(f"{source}: population column {population!r} not found")
                    pop = pd.to_numeric(data[population], errors="coerce").to_numpy(dtype=float)
                    big_n = np.bincount(codes, weights=pop, minlength=len(uniques)) / n_h
                    varies = np.abs(pop - big_n[codes]) > 1e-9 * np.abs(big_n[codes])
                    if varies.any():
                        i = int(np.flatnonzero(varies)[0])
                        raise DesignError(
                            f"{source}: row {i + 1}, column {population!r}: population differs "
                            f"within stratum {sval.iloc[i]!r}"
                        )
                else:
                    missing = [u for u in uniques if u not in population]
                    if missing:
                        raise DesignError(
                            f"{source}: column {strata!r}: no population size for {missing}"
                        )
                    big_n = np.array([float(population[u]) for u in uniques])
                too_small = big_n < n_h
                if too_small.any() or not np.all(np.isfinite(big_n)):
                    bad_s = [str(u) for u, b in zip(uniques, too_small, strict=True) if b]
                    raise DesignError(
                        f"{source}: column {strata!r}: population smaller than respondents "
                        f"(or missing) in {bad_s}"
                    )
                fpc = n_h / big_n
            arrays = DesignArrays(w, codes.astype(np.int64), len(uniques), fpc)
        else:
            arrays = DesignArrays(w, np.zeros(n, dtype=np.int64), 1, np.zeros(1))
        margins = []
        for c in calibrated_on:
            if c not in data.columns:
                raise DesignError(f"{source}: calibration column {c!r} not found")
            margins.append(pd.factorize(data[c].astype(str), sort=True)[0].astype(np.int64))
        if margins and design != "unweighted":
            psw: tuple[np.ndarray, ...] = ()
            base = None
            if calibration is not None:
                if calibration.weights.shape[0] != n:
                    raise DesignError(
                        f"{source}: calibration has {calibration.weights.shape[0]} weights for "
                        f"{n} rows"
                    )
                if calibration.method == "poststratify" and len(margins) == 1:
                    base = calibration.base_weights
                elif calibration.method == "rake" and len(calibration.margin_weights) == len(
                    margins
                ):
                    psw = tuple(np.asarray(x, dtype=float) for x in calibration.margin_weights)
            arrays = DesignArrays(
                arrays.weights,
                arrays.strata,
                arrays.n_strata,
                arrays.fpc_fraction,
                tuple(margins),
                psw,
                None if base is None else np.asarray(base, dtype=float),
            )
        return cls(
            data=data,
            design=design,
            weight=None if design == "unweighted" else weight,
            strata=strata if design == "stratified" else None,
            arrays=arrays,
            calibrated_on=tuple(calibrated_on) if design != "unweighted" else (),
        )

    def with_data(self, **columns: pd.Series | np.ndarray) -> SurveyDesign:
        """The same design with extra (derived) columns, e.g. an indicator to estimate.

        Existing columns cannot be replaced (the design's domains are cached per column).
        """
        clash = set(columns) & set(self.data.columns)
        if clash:
            raise DesignError(f"with_data cannot replace existing column(s) {sorted(clash)}")
        return SurveyDesign(
            self.data.assign(**columns),
            self.design,
            self.weight,
            self.strata,
            self.arrays,
            self.calibrated_on,
            self._domain_cache,
        )

    # convenience methods (the module functions do the work)
    def proportion(self, variable: str, **kw) -> pd.DataFrame:
        return proportion(self, variable, **kw)

    def distribution(self, variable: str, **kw) -> pd.DataFrame:
        return distribution(self, variable, **kw)

    def mean(self, variable: str, **kw) -> pd.DataFrame:
        return mean(self, variable, **kw)

    def total(self, variable: str, **kw) -> pd.DataFrame:
        return total(self, variable, **kw)


# --------------------------------------------------------------------------- helpers


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def domain_codes(
    design: SurveyDesign, by: str | Sequence[str] | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer domain codes (-1: missing domain value) and the domain key frame (sorted)."""
    cols = _by_list(by)
    if not cols:
        return np.zeros(design.n, dtype=np.int64), pd.DataFrame(index=[0])
    cache_key = tuple(cols)
    if cache_key in design._domain_cache:
        return design._domain_cache[cache_key]
    for c in cols:
        if c not in design.data.columns:
            raise DesignError(f"domain column {c!r} not found")
    grouped = design.data.groupby(cols, sort=True, dropna=True, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = grouped.size().reset_index()[cols].reset_index(drop=True)
    design._domain_cache[cache_key] = (codes, keys)
    return codes, keys


def _domains(
    design: SurveyDesign, by: str | Sequence[str] | None
) -> tuple[DomainIndex, pd.DataFrame]:
    """Prepared domain index (cached per design and ``by``) and the domain key frame."""
    cache_key = ("__index__", *_by_list(by))
    if cache_key not in design._domain_cache:
        codes, keys = domain_codes(design, by)
        design._domain_cache[cache_key] = (
            DomainIndex.build(codes if _by_list(by) else None, len(keys), design.arrays),
            keys,
        )
    return design._domain_cache[cache_key]


def _numeric(design: SurveyDesign, variable: str) -> np.ndarray:
    if variable not in design.data.columns:
        raise DesignError(f"variable {variable!r} not found")
    s = design.data[variable]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    out = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(out) & ~_missing_mask(s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DesignError(f"row {i + 1}, column {variable!r}: not a number: {s.iloc[i]!r}")
    return out


def by_distinct_value(s: pd.Series, fn: Callable[[pd.Series], object]) -> np.ndarray:
    """``np.asarray(fn(s))`` for an element-wise ``fn``, evaluated once per distinct value.

    ``fn`` runs on one row per distinct value of ``s`` (same dtype, one missing row standing
    for all missing ones) and the results are spread back with ``pd.factorize`` codes: the
    same array as ``fn(s)``, without converting 10^6 cells to ``str`` one by one.  Object
    columns (missing values of several kinds) and float columns holding ``-0.0`` (equal to
    ``0.0`` for factorize, not for ``str``) are evaluated row by row.
    """
    if s.dtype == object:
        return np.asarray(fn(s))
    if s.dtype.kind == "f":
        v = s.to_numpy()
        if np.any((v == 0) & np.signbit(v)):
            return np.asarray(fn(s))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    k = len(uniques)
    na = codes < 0
    present = np.flatnonzero(~na)
    pos = np.zeros(k + 1, dtype=np.int64)
    pos[codes[present]] = present  # any row of a code: all rows of a code hold equal values
    has_na = bool(na.any())
    if has_na:
        pos[k] = int(np.flatnonzero(na)[0])
    res = np.asarray(fn(s.iloc[pos if has_na else pos[:k]]))
    return res[np.where(na, k, codes)] if has_na else res[codes]


def _missing_mask(s: pd.Series) -> np.ndarray:
    return by_distinct_value(s, lambda x: (x.isna() | (x.astype(str).str.strip() == "")).to_numpy())


def _indicator(design: SurveyDesign, variable: str, level: object) -> np.ndarray:
    if variable not in design.data.columns:
        raise DesignError(f"variable {variable!r} not found")
    s = design.data[variable]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        y = s.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(y), np.nan, (y == float(level)).astype(float))  # type: ignore[arg-type]
    miss = _missing_mask(s)
    hit = (s.astype(str) == str(level)).to_numpy().astype(float)
    return np.where(miss, np.nan, hit)


def _frame(
    keys: pd.DataFrame,
    r: LinearizedResult,
    variable: str,
    level: object,
    statistic: str,
    lo: np.ndarray,
    hi: np.ndarray,
    ci_method: str,
    ci_level: float,
) -> pd.DataFrame:
    n = len(r.estimate)
    cols: dict[str, object] = {c: keys[c].to_numpy() for c in keys.columns}
    cols.update(
        variable=[variable] * n,
        level=[None if level is None else str(_level_label(level))] * n,
        statistic=[statistic] * n,
        estimate=r.estimate,
        se=r.se,
        ci_low=lo,
        ci_high=hi,
        ci_method=[ci_method] * n,
        ci_level=np.full(n, ci_level),
        df=r.df,
        n=r.n,
        deff=r.deff,
        weight_sum=r.weight_sum,
    )
    out = pd.DataFrame(cols)
    return out


def _level_label(level: object) -> object:
    if isinstance(level, float) and level.is_integer():
        return int(level)
    return level


def _proportion_ci(
    r: LinearizedResult, method: str, ci_level: float
) -> tuple[np.ndarray, np.ndarray]:
    p, se, df, n = r.estimate, r.se, r.df, r.n
    if method == "logit":
        lo, hi = ci_logit(p, se, df, ci_level)
        # p = 0 or 1: no logit interval; exact (Clopper-Pearson on n) bounds instead
        blo, bhi = ci_beta(p, se, df, n, ci_level)
        edge = (p <= 0) | (p >= 1) | ~np.isfinite(lo)
        lo = np.where(edge, blo, lo)
        hi = np.where(edge, bhi, hi)
        return lo, hi
    if method == "beta":
        return ci_beta(p, se, df, n, ci_level, rows=r.rows)
    if method == "wald":
        return ci_wald(p, se, ci_level)
    if method == "t":
        return ci_t(p, se, df, ci_level)
    raise DesignError(f"ci_method for proportions must be one of {PROPORTION_CI}, got {method!r}")


def _mean_ci(r: LinearizedResult, method: str, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    if method == "t":
        return ci_t(r.estimate, r.se, r.df, ci_level)
    if method == "wald":
        return ci_wald(r.estimate, r.se, ci_level)
    raise DesignError(f"ci_method for means/totals must be one of {MEAN_CI}, got {method!r}")


# --------------------------------------------------------------------------- estimates


def proportion(
    design: SurveyDesign,
    variable: str,
    *,
    level: object = 1,
    by: str | Sequence[str] | None = None,
    ci_method: str = "logit",
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Share of valid answers equal to ``level`` (default 1 for 0/1 items), overall or by domain.

    Base: respondents with a valid answer to ``variable`` (missing answers dropped, counted in
    ``n``), weighted by the design weights.  SE: Taylor linearization; CI: ``logit`` (R
    ``svyciprop`` default), ``beta`` (Korn-Graubard, R ``method="beta"``), ``wald`` (normal,
    R ``confint(svymean)``) or ``t`` (design df).
    """
    return _proportion(design, variable, level, by, ci_method, ci_level, None)


def _proportion(
    design: SurveyDesign,
    variable: str,
    level: object,
    by: str | Sequence[str] | None,
    ci_method: str,
    ci_level: float,
    shared: dict | None,
) -> pd.DataFrame:
    """:func:`proportion`; ``shared`` is passed to :func:`linearize` (several levels/options)."""
    y = _indicator(design, variable, level)
    index, keys = _domains(design, by)
    r = linearize(y, design.arrays, index, statistic="mean", _shared=shared)
    lo, hi = _proportion_ci(r, ci_method, ci_level)
    out = _frame(keys, r, variable, level, "proportion", lo, hi, ci_method, ci_level)
    # unweighted respondents in the cell (valid answer equal to level), for disclosure control:
    # a weighted share x n is not the number of persons behind the cell
    codes = domain_codes(design, by)[0]
    hit = (y == 1.0) & (codes >= 0)
    out["n_cell"] = np.bincount(codes[hit], minlength=len(keys))[: len(keys)]
    return out


def distribution(
    design: SurveyDesign,
    variable: str,
    *,
    levels: Sequence[object] | None = None,
    by: str | Sequence[str] | None = None,
    ci_method: str = "logit",
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Distribution of a categorical (or Likert) answer: one proportion row per level.

    ``levels`` fixes the levels and their order (e.g. 1..5 for a Likert item, so that empty
    levels appear with estimate 0); default: the observed levels, sorted.
    """
    s = design.data[variable]
    if levels is None:
        observed = s[~_missing_mask(s)].unique()
        levels = sorted(observed, key=lambda v: (str(type(v)), v))
    shared: dict = {}  # the levels share the respondents: their cell counts are summed once
    parts = [_proportion(design, variable, lv, by, ci_method, ci_level, shared) for lv in levels]
    return pd.concat(parts, ignore_index=True)


def mean(
    design: SurveyDesign,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    ci_method: str = "t",
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Weighted mean of a numeric answer (base: valid answers), overall or by domain.

    CI ``t`` (design df, default) or ``wald`` (normal quantile, R ``confint(svymean)``).
    """
    y = _numeric(design, variable)
    index, keys = _domains(design, by)
    r = linearize(y, design.arrays, index, statistic="mean")
    lo, hi = _mean_ci(r, ci_method, ci_level)
    return _frame(keys, r, variable, None, "mean", lo, hi, ci_method, ci_level)


def total(
    design: SurveyDesign,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    ci_method: str = "t",
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Estimated population total of a numeric answer (R ``svytotal``), overall or by domain."""
    y = _numeric(design, variable)
    index, keys = _domains(design, by)
    r = linearize(y, design.arrays, index, statistic="total")
    lo, hi = _mean_ci(r, ci_method, ci_level)
    return _frame(keys, r, variable, None, "total", lo, hi, ci_method, ci_level)


def estimate_many(
    design: SurveyDesign,
    variables: Sequence[str],
    *,
    statistic: str = "mean",
    by: str | Sequence[str] | None = None,
    ci_method: str | None = None,
) -> pd.DataFrame:
    """Means (or proportions of 1) of many variables at once, overall or by one domain set.

    The domain codes are computed once; the loop is over variables only.
    """
    index, keys = _domains(design, by)
    parts = []
    for v in variables:
        if statistic == "proportion":
            y = _indicator(design, v, 1)
            r = linearize(y, design.arrays, index, statistic="mean")
            method = ci_method or "logit"
            lo, hi = _proportion_ci(r, method, 0.95)
            parts.append(_frame(keys, r, v, 1, "proportion", lo, hi, method, 0.95))
        else:
            y = _numeric(design, v)
            r = linearize(y, design.arrays, index, statistic=statistic)
            method = ci_method or "t"
            lo, hi = _mean_ci(r, method, 0.95)
            parts.append(_frame(keys, r, v, None, statistic, lo, hi, method, 0.95))
    return pd.concat(parts, ignore_index=True)


def standard_deviation(
    design: SurveyDesign, variable: str, *, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Weighted standard deviation ``sqrt(n/(n-1) sum w (y - ybar)^2 / sum w)`` (R ``svyvar``).

    One row per domain: domain columns, ``variable``, ``estimate`` (the SD) and ``n``.
    """
    y = _numeric(design, variable)
    codes, keys = domain_codes(design, by)
    valid = ~np.isnan(y) & (codes >= 0)
    d = np.where(valid, codes, 0)
    w = np.where(valid, design.arrays.weights, 0.0)
    yv = np.where(valid, y, 0.0)
    D = len(keys)
    n = np.bincount(d, weights=valid.astype(float), minlength=D)
    sw = np.bincount(d, weights=w, minlength=D)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = np.bincount(d, weights=w * yv, minlength=D) / sw
        dev = np.bincount(d, weights=w * (yv - ybar[d]) ** 2, minlength=D)
        sd = np.sqrt(n / (n - 1) * dev / sw)
    out = keys.copy() if len(keys.columns) else pd.DataFrame(index=range(D))
    out["variable"] = variable
    out["statistic"] = "sd"
    out["estimate"] = sd
    out["n"] = n.astype(np.int64)
    return out


def binomial_proportion(
    frame: pd.DataFrame,
    variable: str,
    *,
    level: object = 1,
    by: str | Sequence[str] | None = None,
    ci_method: str = "wilson",
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Classical (non-survey) binomial share of ``variable == level`` with an unweighted CI.

    For unweighted descriptive tables only.  ``ci_method``: ``wilson`` (R ``prop.test(correct=
    FALSE)``), ``exact`` (Clopper-Pearson, R ``binom.test``) or ``wald`` (``p +- z
    sqrt(p(1-p)/n)``).  Columns as the survey estimates, with ``k`` (count) and ``se`` =
    ``sqrt(p(1-p)/n)``; ``df``/``deff`` are NaN.
    """
    d = SurveyDesign.from_frame(frame, "unweighted")
    y = _indicator(d, variable, level)
    codes, keys = domain_codes(d, by)
    valid = ~np.isnan(y) & (codes >= 0)
    D = len(keys)
    cd = np.where(valid, codes, 0)
    n = np.bincount(cd, weights=valid.astype(float), minlength=D)
    k = np.bincount(cd, weights=np.where(valid, y, 0.0), minlength=D)
    z = stats.norm.ppf(0.5 + ci_level / 2)
    alpha = 1 - ci_level
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        se = np.sqrt(p * (1 - p) / n)
        if ci_method == "wald":
            lo, hi = p - z * se, p + z * se
        elif ci_method == "wilson":
            centre = (k + z**2 / 2) / (n + z**2)
            half = z * np.sqrt(n) / (n + z**2) * np.sqrt(p * (1 - p) + z**2 / (4 * n))
            lo, hi = centre - half, centre + half
        elif ci_method == "exact":
            lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
            hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
        else:
            raise DesignError(f"ci_method must be wilson, exact or wald, got {ci_method!r}")
    out = keys.copy() if len(keys.columns) else pd.DataFrame(index=range(D))
    out["variable"] = variable
    out["level"] = str(_level_label(level))
    out["statistic"] = "proportion"
    out["estimate"] = p
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["ci_method"] = ci_method
    out["ci_level"] = ci_level
    out["df"] = np.nan
    out["n"] = n.astype(np.int64)
    out["k"] = k.astype(np.int64)
    out["deff"] = np.nan
    out["weight_sum"] = n
    return out
