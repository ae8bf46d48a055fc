"""Likert items, multi-item scales and multi-select questions.

* :func:`likert_summary` - distribution over the fixed levels (1..5), weighted mean and
  top-2-box share (answers 4 or 5), each with its SE and CI, overall or by domain;
* :func:`cronbach_alpha` - Cronbach's alpha of several items, weighted item covariances
  (weights 1 for an unweighted design) on respondents who answered every item;
* :func:`multiselect_shares` - share of respondents choosing each option of a multi-select
  question (tidy 0/1 columns ``<variable>__<option>``), base: respondents who answered the
  question (at least one option column not missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.survey.design import (
    SurveyDesign,
    _numeric,
    _proportion,
    distribution,
    mean,
    proportion,
)

LIKERT_LEVELS = (1, 2, 3, 4, 5)
TOP_BOX = (4, 5)


def likert_summary(
    design: SurveyDesign,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    levels: Sequence[int] = LIKERT_LEVELS,
    top: Sequence[int] = TOP_BOX,
    ci_method: str = "logit",
) -> pd.DataFrame:
    """Distribution (statistic ``proportion``, one row per level), ``mean`` and ``top2``.

    Base: valid answers to ``variable`` (missing dropped).  Values outside ``levels`` raise.
    The mean uses a t interval with the design df; proportions use ``ci_method``.
    """
    y = _numeric(design, variable)
    bad = ~np.isnan(y) & ~np.isin(y, np.asarray(levels, dtype=float))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {i + 1}, column {variable!r}: {y[i]!r} is not a level of the scale {list(levels)}"
        )
    dist = distribution(design, variable, levels=list(levels), by=by, ci_method=ci_method)
    avg = mean(design, variable, by=by)
    top_col = f"__{variable}__top"
    ind = np.where(np.isnan(y), np.nan, np.isin(y, np.asarray(top, dtype=float)).astype(float))
    t2 = proportion(design.with_data(**{top_col: ind}), top_col, by=by, ci_method=ci_method)
    t2["variable"] = variable
    t2["statistic"] = "top2"
    t2["level"] = "+".join(str(t) for t in top)
    return pd.concat([dist, avg, t2], ignore_index=True)


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha with its base."""

    alpha: float
    items: tuple[str, ...]
    n: int  # respondents who answered every item
    weighted: bool


def cronbach_alpha(design: SurveyDesign, items: Sequence[str]) -> AlphaResult:
    """Cronbach's alpha ``k/(k-1) (1 - sum var_i / var(sum))`` of ``items``.

    Variances are weighted by the design weights (any common normalisation cancels); base:
    respondents with a valid answer to every item.
    """
    if len(items) < 2:
        raise ValueError("Cronbach's alpha needs at least two items")
    x = np.column_stack([_numeric(design, v) for v in items])
    ok = ~np.isnan(x).any(axis=1)
    x = x[ok]
    w = design.arrays.weights[ok]
    k = len(items)
    if x.shape[0] < 2:
        return AlphaResult(float("nan"), tuple(items), int(x.shape[0]), design.weighted)
    mu = np.average(x, axis=0, weights=w)
    dev = x - mu
    item_var = np.average(dev**2, axis=0, weights=w)
    tot = dev.sum(axis=1)
    total_var = np.average(tot**2, weights=w)
    alpha = k / (k - 1) * (1 - item_var.sum() / total_var) if total_var > 0 else float("nan")
    return AlphaResult(float(alpha), tuple(items), int(x.shape[0]), design.weighted)


def multiselect_options(frame: pd.DataFrame, variable: str) -> list[str]:
    """Option names of a multi-select variable from its ``<variable>__<option>`` columns."""
    prefix = f"{variable}__"
    return [c[len(prefix) :] for c in frame.columns if c.startswith(prefix)]


def multiselect_shares(
    design: SurveyDesign,
    variable: str,
    *,
    options: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    ci_method: str = "logit",
) -> pd.DataFrame:
    """Share of respondents choosing each option (``level`` = option), with CIs.

    Base: respondents who answered the question (any option column not missing); within the
    base a missing option column counts as "not chosen".  Shares need not sum to 1.
    """
    opts = list(options) if options is not None else multiselect_options(design.data, variable)
    if not opts:
        raise ValueError(f"no option columns '{variable}__<option>' found")
    cols = [f"{variable}__{o}" for o in opts]
    mat = np.column_stack([_numeric(design, c) for c in cols])
    answered = ~np.isnan(mat).all(axis=1)
    derived = {}
    for o, j in zip(opts, range(len(opts)), strict=True):
        derived[f"__ms__{o}"] = np.where(answered, np.nan_to_num(mat[:, j]) > 0, np.nan)
    d2 = design.with_data(**derived)
    parts = []
    shared: dict = {}  # same base for every option: cell counts and weight sums summed once
    for o in opts:
        p = _proportion(d2, f"__ms__{o}", 1, by, ci_method, 0.95, shared)
        p["variable"] = variable
        p["level"] = o
        p["statistic"] = "share"
        parts.append(p)
    return pd.concat(parts, ignore_index=True)
