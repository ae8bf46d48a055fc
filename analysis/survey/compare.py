"""Comparisons: design-based differences (svyttest), Rao-Scott tests, Benjamini-Hochberg.

* :func:`difference` - difference of two domain means/proportions ``a - b`` with its
  linearised SE (the influence values of the two domain means subtracted, which is exactly
  R ``svyttest(y ~ group)``'s ``svyglm`` sandwich), t test with df = degf - 1 of the design
  restricted to the respondents used, CI ``diff +- t(df) se``;
* :func:`rao_scott` - R ``svychisq(statistic="F")``, computed by
  :mod:`analysis.survey.raoscott` (vectorised numpy; no svy);
* :func:`bh_adjust` - Benjamini-Hochberg adjusted p-values over one family of comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.design import (
    DesignError,
    SurveyDesign,
    _indicator,
    _missing_mask,
    _numeric,
    by_distinct_value,
)
from analysis.survey.linearization import influence_variance
from analysis.survey.raoscott import rao_scott_test


def _group_mask(design: SurveyDesign, group: str, levels: object) -> np.ndarray:
    s = design.data[group]
    if callable(levels):
        return np.array(levels(design.data), dtype=bool)
    vals = levels if isinstance(levels, list | tuple | set | frozenset) else [levels]
    if pd.api.types.is_numeric_dtype(s):
        return s.isin([float(v) for v in vals]).to_numpy().copy()  # type: ignore[arg-type]
    strs = [str(v) for v in vals]
    # a new array (fancy indexing), as the original .to_numpy().copy()
    return by_distinct_value(s, lambda x: x.astype(str).isin(strs).to_numpy().copy())


def difference(
    design: SurveyDesign,
    variable: str,
    group: str,
    a: object,
    b: object | None = None,
    *,
    level: object | None = None,
    ci_level: float = 0.95,
) -> dict[str, float | int | str]:
    """Difference of weighted means ``mean(variable | group in a) - mean(variable | group in b)``.

    ``a``/``b`` are a level, a list of levels, or a callable ``frame -> bool mask``; ``b=None``
    means "every other respondent with a valid ``group``" (e.g. one school vs the rest).
    ``level`` turns ``variable`` into the 0/1 indicator ``variable == level`` (difference of
    proportions).  Missing answers are dropped.  Returns estimate, se, ci_low, ci_high, t,
    df, p_value (two-sided), n_a, n_b, mean_a, mean_b.
    """
    y = _indicator(design, variable, level) if level is not None else _numeric(design, variable)
    in_a = _group_mask(design, group, a)
    if b is None:
        gs = design.data[group]
        valid_g = ~_missing_mask(gs)
        in_b = valid_g & ~in_a
    else:
        in_b = _group_mask(design, group, b)
    if np.any(in_a & in_b):
        raise DesignError(f"groups a and b of {group!r} overlap")
    valid = ~np.isnan(y)
    in_a = in_a & valid
    in_b = in_b & valid
    n_a, n_b = int(in_a.sum()), int(in_b.sum())
    w = design.arrays.weights
    wa, wb = float(w[in_a].sum()), float(w[in_b].sum())
    yv = np.where(valid, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = float(np.sum(w[in_a] * yv[in_a]) / wa) if n_a else float("nan")
        mean_b = float(np.sum(w[in_b] * yv[in_b]) / wb) if n_b else float("nan")
    diff = mean_a - mean_b
    z = np.zeros(design.n)
    if n_a:
        z[in_a] = w[in_a] * (yv[in_a] - mean_a) / wa
    if n_b:
        z[in_b] = -w[in_b] * (yv[in_b] - mean_b) / wb
    se = float(np.sqrt(influence_variance(z, design.arrays))) if n_a and n_b else float("nan")
    used = in_a | in_b
    h_used = np.unique(design.arrays.strata[used]).size
    df = float(used.sum() - h_used - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / se
    if df > 0 and np.isfinite(t):
        p = float(2 * stats.t.sf(abs(t), df))
        q = float(stats.t.ppf(0.5 + ci_level / 2, df))
    else:
        p, q = float("nan"), float("nan")
    return {
        "variable": variable,
        "group": group,
        "estimate": diff,
        "se": se,
        "ci_low": diff - q * se,
        "ci_high": diff + q * se,
        "ci_method": "t",
        "t": float(t),
        "df": df,
        "p_value": p,
        "n_a": n_a,
        "n_b": n_b,
        "mean_a": mean_a,
        "mean_b": mean_b,
    }


def bh_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R ``p.adjust(method="BH")``, through
    ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``); NaN stays NaN and is not
    counted in the family."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def rao_scott(design: SurveyDesign, row: str, col: str) -> dict[str, float | int | str]:
    """Rao-Scott second-order F test of independence of ``row`` and ``col``.

    R ``svychisq(~row + col, design, statistic="F")``: ``F = X2 / trace(Delta)``, ``ndf =
    trace(Delta)^2 / trace(Delta^2)``, ``ddf = ndf * degf``; ``X2`` is Pearson's statistic on
    the weighted table rescaled to n.  Also returned: ``chisq`` (that X2), ``chisq_p_value``
    (first-order correction, R ``statistic="Chisq"``), ``trace_delta`` and
    ``uncorrected_p_value`` (X2 ~ chi2: Pearson's test, meaningful only for the unweighted
    design).  Respondents missing either variable are left out of the table but stay in the
    design (R ``na.rm``: full-sample strata sizes and degf).  On a calibrated design the
    covariance includes the calibration, as ``svychisq`` on R's ``postStratify``/``rake``
    design.  Computed by :mod:`analysis.survey.raoscott`.

    A variable with fewer than two levels among the respondents answering both raises
    :class:`analysis.survey.raoscott.RaoScottError` (a ``ValueError``).
    """
    r = rao_scott_test(design, row, col)
    return {
        "row": row,
        "col": col,
        "f": r.f,
        "ndf": r.ndf,
        "ddf": r.ddf,
        "p_value": r.p_value,
        "chisq": r.chisq,
        "chisq_df": r.chisq_df,
        "chisq_p_value": r.chisq_p_value,
        "trace_delta": r.trace_delta,
        "uncorrected_p_value": r.uncorrected_p_value,
        "n": r.n,
    }
