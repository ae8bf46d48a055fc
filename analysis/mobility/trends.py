"""Trend models for outgoing mobility counts (statsmodels GLMs with an enrolment offset).

Unit: a school x academic year cell with an enrolment figure; outcome: outgoing participants.
Model: ``log E[count] = log(enrolled) + school + b_year * (year - first year) + b_covid * covid``
where ``covid`` flags the break years (``StudyConfig.covid_break_years``, 2019-20 and 2020-21 by
default) so the pandemic dip does not bend the long-run trend.  ``exp(b)`` are rate ratios:
per year, COVID years vs others, each school vs the reference school (the largest).

Model choice: a Poisson GLM is fitted first; its Pearson chi2/df measures overdispersion.  A
negative-binomial (NB2) model is fitted by maximum likelihood (``statsmodels.discrete``) for its
dispersion ``alpha``; the likelihood-ratio test of alpha = 0 (on the boundary, so the p-value is
half the chi2(1) tail) picks the NB model when p < 0.05, else the Poisson model.  The chosen
model's rate ratios come from the GLM (NB family with the ML alpha), with Wald 95% CIs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.mobility.indicators import enrolled_by_school_year, outgoing_counts
from analysis.schema import Enrolment, Mobility

LR_ALPHA = 0.05
_MAX_LOG_RR = 20.0  # |log rate ratio| beyond this = separation, not an estimate


@dataclass(frozen=True)
class TrendResult:
    """Fitted trend: chosen model, why, dispersion statistics and rate ratios."""

    model: str  # "poisson" | "negative_binomial"
    reason: str
    n_cells: int
    pearson_chi2_df: float
    alpha: float
    lr_statistic: float
    lr_p_value: float
    first_year: int
    reference_school: str
    covid_years: tuple[int, ...]
    rate_ratios: pd.DataFrame  # term, level, estimate, ci_low, ci_high, p_value


def trend_cells(records: pd.DataFrame, enrolment: pd.DataFrame) -> pd.DataFrame:
    """School x year cells with enrolled > 0 and their outgoing participants (0 if none)."""
    enr = enrolled_by_school_year(enrolment)
    cnt = outgoing_counts(records)
    df = enr.merge(cnt, on=[Mobility.SCHOOL, Mobility.ACADEMIC_YEAR], how="left")
    df = df[df[Enrolment.ENROLLED] > 0].fillna({"participants": 0, "mobilities": 0})
    return df.sort_values([Mobility.SCHOOL, Mobility.ACADEMIC_YEAR]).reset_index(drop=True)


def _design(cells: pd.DataFrame, covid_years: Sequence[int]) -> tuple[pd.DataFrame, str, int]:
    first = int(cells[Mobility.ACADEMIC_YEAR].min())
    sizes = cells.groupby(Mobility.SCHOOL)[Enrolment.ENROLLED].sum()
    ref = str(sizes.sort_values(ascending=False, kind="stable").index[0])
    X = pd.DataFrame({"const": 1.0}, index=cells.index)
    if cells[Mobility.ACADEMIC_YEAR].nunique() > 1:
        X["year"] = (cells[Mobility.ACADEMIC_YEAR] - first).astype(float)
    covid = cells[Mobility.ACADEMIC_YEAR].isin(covid_years).astype(float)
    if 0 < covid.sum() < len(covid) and cells.loc[covid == 0, Mobility.ACADEMIC_YEAR].nunique() > 1:
        X["covid"] = covid
    for s in sorted(cells[Mobility.SCHOOL].unique()):
        if s != ref:
            X[f"school[{s}]"] = (cells[Mobility.SCHOOL] == s).astype(float)
    return X, ref, first


def fit_trend(
    records: pd.DataFrame, enrolment: pd.DataFrame, covid_years: Sequence[int]
) -> TrendResult | None:
    """Fit both models and pick one (see the module docstring); ``None`` when there are not
    more cells than parameters (no residual degrees of freedom), no mobility at all, or the
    Poisson fit is degenerate."""
    cells = trend_cells(records, enrolment)
    if cells.empty:
        return None
    X, ref, first = _design(cells, covid_years)
    if len(cells) <= X.shape[1]:
        return None
    y = cells["participants"].to_numpy(dtype=float)
    if y.sum() == 0:
        return None
    offset = np.log(cells[Enrolment.ENROLLED].to_numpy(dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        except (ValueError, np.linalg.LinAlgError):  # degenerate design: nothing to report
            return None
        chi2_df = float(pois.pearson_chi2 / pois.df_resid)
        try:
            nb_ml = sm.NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(
                disp=0, maxiter=500, start_params=np.append(pois.params.to_numpy(), 0.1)
            )
            alpha = float(nb_ml.params.iloc[-1])
            lr = max(0.0, 2 * (float(nb_ml.llf) - float(pois.llf)))
        except Exception:  # noqa: BLE001 - NB MLE can fail on tiny / equidispersed data
            alpha, lr = 0.0, 0.0
    p_lr = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
    if p_lr < LR_ALPHA and alpha > 1e-8:
        model = "negative_binomial"
        reason = (
            f"overdispersion: Pearson chi2/df of the Poisson model = {chi2_df:.2f}; "
            f"likelihood-ratio test of alpha = 0 p = {p_lr:.3g} < {LR_ALPHA} (alpha = {alpha:.3g})"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(
                y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset
            ).fit()
    else:
        model = "poisson"
        reason = (
            f"no significant overdispersion: Pearson chi2/df = {chi2_df:.2f}; "
            f"likelihood-ratio test of alpha = 0 p = {p_lr:.3g} >= {LR_ALPHA}"
        )
        fit = pois
    ci = fit.conf_int(0.05)
    rows = []
    for term in X.columns:
        if term == "const":
            continue
        kind, level = ("school", term[7:-1]) if term.startswith("school[") else (term, term)
        b, lo, hi = float(fit.params[term]), float(ci.loc[term, 0]), float(ci.loc[term, 1])
        # A school or year with no mobility at all drives its coefficient to -infinity: the
        # ratio is not estimable and is reported as such instead of as 0 or an overflow.
        ok = all(math.isfinite(v) and abs(v) < _MAX_LOG_RR for v in (b, lo, hi))
        rows.append(
            {
                "term": kind,
                "level": level,
                "estimate": math.exp(b) if ok else math.nan,
                "ci_low": math.exp(lo) if ok else math.nan,
                "ci_high": math.exp(hi) if ok else math.nan,
                "p_value": float(fit.pvalues[term]) if ok else math.nan,
                "estimable": ok,
            }
        )
    return TrendResult(
        model=model,
        reason=reason,
        n_cells=len(cells),
        pearson_chi2_df=chi2_df,
        alpha=alpha,
        lr_statistic=lr,
        lr_p_value=p_lr,
        first_year=first,
        reference_school=ref,
        covid_years=tuple(int(c) for c in covid_years),
        rate_ratios=pd.DataFrame(rows),
    )
