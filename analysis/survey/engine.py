"""The one adapter to the ``svy`` engine (pinned: svy 0.35.0, svy-rs 0.19.1, polars 2.1).

Only this module imports ``svy`` and ``polars``.  It owns the conventions that make svy equal R
``survey`` (see /work/shared/svy-notes.md):

* pandas -> polars conversion (svy accepts only polars; NaN becomes null);
* categorical regressors always with an explicit reference level (``svy.Cat(ref=...)``;
  without it svy takes the alphabetically first level);
* Rao-Scott p-values (of the cross-check :func:`rao_scott`) recomputed with
  ``scipy.stats.f.sf`` from svy's F, ndf and ddf (svy's own tail p-values lose relative
  precision below 1e-10);
* results joined on keys / term names, never on row order (svy sorts ``by`` results);
* intervals for proportions use ``ci_method="beta"`` (R's Korn-Graubard), never svy's
  ``"korn-graubard"`` (the NCHS variant); normal Wald CIs are ``est +- z se`` by hand.

svy is no longer on the report's path: the logistic model is :mod:`analysis.survey.glm` (numpy
IRLS and sandwich, calibration included; the svy route with its pandas -> polars conversion
took 2.5-2.9 s of the 10^6 benchmark).  Means, proportions and totals use the
vectorised estimator in :mod:`analysis.survey.linearization` (svy's domain estimation is too slow
at 1M rows), and the Rao-Scott test the vectorised :mod:`analysis.survey.raoscott` (svy's
``categorical.tabulate`` plus the polars conversion took ~5-8 s at 1M rows, ours ~0.1 s).
:func:`logistic_regression`, :func:`rao_scott`, :func:`domain_means` and :func:`rake_weights`
remain here as second engines for the tests; the tests cross-check both against R.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
import svy
from pandas.api.extensions import ExtensionArray

from analysis.survey.glm import ModelError
from analysis.survey.raoscott import RaoScottTest

_STRATUM_POP = "__svy_pop_size"
_WEIGHT = "__svy_weight"


class EngineError(ModelError):
    """svy could not compute a result (e.g. a model that does not converge); message from svy."""


@dataclass(frozen=True)
class EngineDesign:
    """What the engine needs to rebuild a design in svy (no svy objects cross the boundary)."""

    design: str  # "unweighted" | "weights" | "stratified"
    weights: np.ndarray
    strata: np.ndarray | ExtensionArray | None  # stratum labels (str) per row (stratified)
    population: np.ndarray | None  # N_h per row (fpc), or None


def engine_design(survey_design: object) -> EngineDesign:
    """The :class:`EngineDesign` of an :class:`analysis.survey.design.SurveyDesign`.

    The fpc population per row is recovered as ``n_h / f_h``.  Calibration is not passed on:
    svy then treats the calibrated weights as fixed (slightly conservative SEs).
    """
    sd = survey_design
    arrays = sd.arrays  # type: ignore[attr-defined]
    strata = population = None
    if sd.design == "stratified":  # type: ignore[attr-defined]
        # the pandas array itself (Arrow strings): no 10^6 Python str objects to build here and
        # to convert back to Arrow in _sample; polars receives the same String column
        strata = sd.data[sd.strata].astype(str).array  # type: ignore[attr-defined]
        if np.any(arrays.fpc_fraction > 0):
            n_h = arrays.stratum_sizes()
            population = (n_h / arrays.fpc_fraction)[arrays.strata]
    return EngineDesign(sd.design, arrays.weights, strata, population)  # type: ignore[attr-defined]


def _sample(frame: pd.DataFrame, d: EngineDesign) -> svy.Sample:
    data = frame.reset_index(drop=True).copy()
    data[_WEIGHT] = d.weights
    design_kw: dict[str, object] = {"wgt": _WEIGHT}
    if d.design == "stratified":
        data["__svy_stratum"] = d.strata
        design_kw["stratum"] = "__svy_stratum"
        # singleton strata: grand-mean centring, R survey.lonely.psu = "adjust" (as ours)
        design_kw["singleton"] = "center"
        if d.population is not None:
            data[_STRATUM_POP] = d.population
            design_kw["pop_size"] = _STRATUM_POP
    elif d.design == "unweighted":
        data[_WEIGHT] = 1.0
    pdf = pl.from_pandas(data, nan_to_null=True)
    return svy.Sample(pdf, svy.Design(**design_kw))  # type: ignore[arg-type]


def _as_labels_rowwise(s: pd.Series) -> pd.Series:
    """:func:`_as_labels` computed row by row (the definition; used on distinct values only)."""
    txt = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return txt.where(txt.notna() & (txt.fillna("").str.strip() != ""), None).astype(object)


def _as_labels(s: pd.Series) -> pd.Series:
    """String labels with missing (NaN/None/blank) kept as null, for svy categoricals.

    Same output as :func:`_as_labels_rowwise`, but the labels are computed once per distinct
    value (``pd.factorize``) and spread back with the codes: at 10^6 rows the row-wise Python
    mapping cost ~2 s per column.  Object columns (whose missing values may be of several
    kinds) and float columns holding ``-0.0`` (equal to ``0.0`` for factorize, but labelled
    ``"-0.0"``) keep the row-wise definition.
    """
    if s.dtype == object:
        return _as_labels_rowwise(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if s.dtype.kind == "f":
        v = s.to_numpy()
        if np.any((v == 0) & np.signbit(v)):
            return _as_labels_rowwise(s)
    k = len(uniques)
    na = codes < 0
    present = np.flatnonzero(~na)
    pos = np.zeros(k + 1, dtype=np.int64)
    pos[codes[present]] = present  # one row per distinct value (all rows of a code are equal)
    if na.any():
        pos[k] = int(np.flatnonzero(na)[0])  # one missing value stands for all (one NA kind)
        take = pos
    else:
        take = pos[:k]
    labels = _as_labels_rowwise(s.iloc[take]).to_numpy(dtype=object)
    idx = np.where(na, k, codes) if na.any() else codes
    return pd.Series(labels[idx], index=s.index, name=s.name, dtype=object)


def rao_scott(frame: pd.DataFrame, d: EngineDesign, row: str, col: str) -> RaoScottTest:
    """svy's Rao-Scott F for the two-way table ``row`` x ``col`` (cross-check only).

    The report uses :func:`analysis.survey.raoscott.rao_scott_test`.  svy (``drop_nulls``)
    removes respondents missing either variable from the design before the test, so with
    missing answers its strata sizes, fpc and degf are those of the complete cases, unlike R's
    ``svychisq`` (``na.rm``: zero weight, full-sample strata and degf) and ours; on complete
    data the two agree.  A variable with one level gives F = 0 and NaN p-values (no error).
    """
    sub = pd.DataFrame({row: _as_labels(frame[row]), col: _as_labels(frame[col])})
    n_used = int((sub[row].notna() & sub[col].notna()).sum())
    try:
        table = _sample(sub, d).categorical.tabulate(row, col, drop_nulls=True)
    except svy.SvyError as exc:
        raise EngineError(f"Rao-Scott {row} x {col}: {exc}") from exc
    f = table.stats.f
    chi = table.stats.chisq
    fval, cval = float(f.value), float(chi.value)
    return RaoScottTest.from_statistics(
        fval,
        float(f.df_num),
        float(f.df_den),
        cval,
        float(chi.df),
        cval / fval if fval else float("nan"),
        n_used,
        *(tuple(sorted(sub[v].dropna().unique())) for v in (row, col)),
    )


def logistic_regression(
    frame: pd.DataFrame,
    d: EngineDesign,
    y: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str],
    tol: float = 1e-12,
) -> pd.DataFrame:
    """Design-based logistic regression (R ``svyglm(family=quasibinomial)``).

    Returns one row per term: ``variable``, ``level`` (for a categorical term, else None),
    ``coefficient``, ``se`` (sandwich), ``t``, ``p_value`` (t with df = degf + 1 - p), ``df``,
    ``n``.  Rows with a missing outcome or regressor are dropped as R's ``na.omit`` in svyglm
    (zero weight, full-sample strata sizes).
    """
    sub = pd.DataFrame(
        {c: pd.to_numeric(frame[c], errors="raise").astype(float) for c in [y, *numeric]}
    )
    for c in categorical:
        sub[c] = _as_labels(frame[c])
    complete = sub.notna().all(axis=1).to_numpy()
    n_used = int(complete.sum())
    x: list[object] = list(numeric)
    for c, ref in categorical.items():
        levels = set(sub.loc[complete, c].unique())
        if str(ref) not in levels:
            raise ValueError(f"reference level {ref!r} of {c!r} not among {sorted(levels)}")
        x.append(svy.Cat(c, ref=str(ref)))
    try:
        model = _sample(sub, d).glm.fit(y, x=x, family="binomial", tol=tol, drop_nulls=True)
        out = model.to_polars().to_pandas()
    except svy.SvyError as exc:
        raise EngineError(f"logistic model of {y}: {exc}") from exc
    # term names are "<var>_<level>" for categorical terms: map them back explicitly
    names: dict[str, tuple[str, str | None]] = {"_intercept_": ("(Intercept)", None)}
    for v in numeric:
        names[v] = (v, None)
    for c, ref in categorical.items():
        for lv in sub.loc[complete, c].unique():
            if lv != str(ref):
                names[f"{c}_{lv}"] = (c, str(lv))
    unknown = [t for t in out["term"] if t not in names]
    if unknown:
        raise EngineError(f"svy returned unexpected model terms {unknown}")
    rows = []
    for _, r in out.iterrows():
        var, lv = names[r["term"]]
        rows.append(
            {
                "variable": var,
                "level": lv,
                "coefficient": float(r["estimate"]),
                "se": float(r["std_err"]),
                "t": float(r["statistic"]),
                "p_value": float(r["p_value"]),
                "df": float(r["df"]),
                "n": n_used,
            }
        )
    return pd.DataFrame(rows)


def rake_weights(
    frame: pd.DataFrame,
    d: EngineDesign,
    controls: Mapping[str, Mapping[str, float]],
    tol: float = 1e-12,
    max_iter: int = 100,
) -> np.ndarray:
    """svy's raking (for cross-checking :func:`analysis.survey.weighting.rake`)."""
    sub = frame[list(controls)].astype(str).reset_index(drop=True)
    sample = _sample(sub, d)
    raked = sample.weighting.rake(
        controls={k: dict(v) for k, v in controls.items()}, tol=tol, max_iter=max_iter
    )
    return raked.data["rk_wgt"].to_numpy()


def domain_means(frame: pd.DataFrame, d: EngineDesign, y: str, by: str) -> pd.DataFrame:
    """svy's domain means (``mean(y, by=...)``) joined on the key, for cross-checks."""
    sub = frame[[y, by]].copy()
    sub[by] = sub[by].astype(str)
    sample = _sample(sub, d)
    est = sample.estimation.mean(y, by=by, deff="wor", drop_nulls=True).to_polars().to_pandas()
    return est.rename(columns={"est": "estimate"}).set_index(by)
