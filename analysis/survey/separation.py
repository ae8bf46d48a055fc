"""Which terms of a logistic model can be estimated and published (issue 12, obs. 11).

A logistic model fitted on a level with one respondent gives an "odds ratio" of 10^11 with
no usable interval, and publishes that respondent's answer. Two steps guard against it,
both plain functions on the design data and on the fitted coefficients (independent of the
engine that fits the model):

* :func:`prepare_model_data`, **before the fit**: levels of a categorical regressor with fewer
  than ``min_base`` respondents in the model's base (the disclosure threshold) are merged
  into one level ``other`` when together they reach ``min_base``, else left out of the
  model (their respondents get a missing regressor: zero weight, as R's ``na.omit``), with
  a note; a reference level that is too small is replaced by the largest level.
* :func:`non_estimable_terms`, **after the fit**: a term is not estimable when
  - its level has outcomes all 0 or all 1 (complete or quasi-complete *separation*: the
    maximum-likelihood coefficient is infinite), or a numeric regressor separates the
    outcomes exactly (every 0 below every 1, or the reverse);
  - its coefficient or standard error is not finite, or the standard error exceeds
    :data:`MAX_SE` / the coefficient :data:`MAX_ABS_COEF` on the log-odds scale (an interval
    spanning a factor of e^10 either way says nothing: the symptom of separation the data
    checks may not see, e.g. in several variables at once);
  - its column is a linear combination of the others (*singular* information matrix).
  :func:`blank_non_estimable` then removes every number of those terms and names the reason.

Reason codes (``not_estimable``): ``separation``, ``sparse_level``, ``unstable``,
``singular``. The report words them (EN/FR).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_SE = 5.0
MAX_ABS_COEF = 10.0
OTHER_LEVEL = "other"
SEPARATION, SPARSE_LEVEL, UNSTABLE, SINGULAR = "separation", "sparse_level", "unstable", "singular"
NUMBER_COLUMNS = (
    "coefficient",
    "se",
    "t",
    "p_value",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "coef_ci_low",
    "coef_ci_high",
)


@dataclass(frozen=True)
class ModelData:
    """The regressors as the model will see them after sparse levels were merged or left out.

    ``columns`` maps each categorical regressor to the column to fit (a derived column when
    levels were recoded), ``categorical`` gives the reference level of each fitted column,
    ``left_out`` the levels (per original variable) whose respondents are not in the model,
    ``merged`` the levels recoded to :data:`OTHER_LEVEL`, ``numeric`` the numeric regressors
    to fit (``aliased``: those left out as linear combinations of the others)."""

    numeric: tuple[str, ...]
    aliased: tuple[str, ...]
    columns: Mapping[str, str]
    recoded: Mapping[str, pd.Series]
    categorical: Mapping[str, str]
    left_out: Mapping[str, tuple[str, ...]]
    merged: Mapping[str, tuple[str, ...]]
    notes: tuple[str, ...]


def _labels(s: pd.Series) -> pd.Series:
    txt = s.astype("string").str.strip()
    return txt.where(txt.notna() & (txt != ""), None)


def _complete(data: pd.DataFrame, outcome: str, regressors: Sequence[str]) -> np.ndarray:
    cols = [outcome, *regressors]
    return data[cols].notna().all(axis=1).to_numpy()


def prepare_model_data(
    data: pd.DataFrame,
    outcome: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str],
    min_base: int | None,
) -> ModelData:
    """Merge or leave out the levels below ``min_base`` respondents (see the module doc), and
    leave out a numeric regressor that is a linear combination of the terms before it (the
    fit would fail on a singular information matrix).

    Counts are unweighted respondents with the outcome and every regressor answered."""
    complete = _complete(data, outcome, [*numeric, *categorical])
    columns, recoded, cats, left, merged, notes = {}, {}, {}, {}, {}, []
    for var, ref in categorical.items():
        lab = _labels(data[var])
        counts = lab[complete].value_counts()
        small = sorted(str(v) for v, n in counts.items() if min_base and n < min_base)
        if not small:
            columns[var], cats[var] = var, str(ref)
            continue
        pooled = int(counts[small].sum())
        out = lab.copy()
        if len(small) >= 2 and pooled >= int(min_base or 0):
            out = out.where(~out.isin(small), OTHER_LEVEL)
            merged[var] = tuple(small)
            notes.append(
                f"{var}: levels with fewer than {min_base} respondents ({', '.join(small)}) "
                f"merged into one level '{OTHER_LEVEL}'"
            )
        else:
            out = out.where(~out.isin(small), None)
            left[var] = tuple(small)
            notes.append(
                f"{var}: levels with fewer than {min_base} respondents ({', '.join(small)}) "
                "left out of the model (too few respondents to publish a term)"
            )
        kept = out[complete].value_counts()
        new_ref = str(ref) if str(ref) in kept.index else str(kept.idxmax()) if len(kept) else ""
        if new_ref != str(ref):
            notes.append(f"{var}: reference level {new_ref} (the reference {ref} is too small)")
        col = f"__model_{var}"
        out = out.astype(object).where(out.notna(), None)  # None, not pd.NA ("<NA>" as text)
        columns[var], recoded[col], cats[col] = col, out, new_ref
    fit_data = data.assign(**recoded) if recoded else data
    aliased = [
        v
        for v, lv in aliased_terms(fit_data, outcome, numeric, cats)
        if lv is None and v in numeric
    ]
    for v in aliased:
        notes.append(f"{v}: left out of the model (a linear combination of the other terms)")
    kept = tuple(v for v in numeric if v not in aliased)
    return ModelData(kept, tuple(aliased), columns, recoded, cats, left, merged, tuple(notes))


def _str_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``s.astype(str)`` as integer codes and their labels, converted once per distinct value
    (``str`` of 10^6 cells one by one cost seconds); equal labels share one code."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    text = [str(u) for u in uniques]
    labels = sorted(set(text))
    remap = np.array([labels.index(t) for t in text], dtype=np.int64)
    return remap[codes], labels


def _design_matrix(
    data: pd.DataFrame, numeric: Sequence[str], categorical: Mapping[str, str]
) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    cols = [np.ones(len(data))]
    names: list[tuple[str, str | None]] = [("(Intercept)", None)]
    for v in numeric:
        cols.append(pd.to_numeric(data[v]).to_numpy(dtype=float))
        names.append((v, None))
    for c, ref in categorical.items():
        codes, labels = _str_codes(data[c])
        for lv in sorted(set(labels) - {str(ref)}):
            cols.append((codes == labels.index(lv)).astype(float))
            names.append((c, lv))
    return np.column_stack(cols), names


def _distinct_data_rows(
    data: pd.DataFrame, numeric: Sequence[str], categorical: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """One row number per distinct combination of the regressors, and how many rows share
    it (all rows and ones when most are distinct): their design-matrix rows weighted by the
    square root of the counts have the same ``x'x`` as the whole design matrix, so the same
    singular values and ranks, on a few hundred rows instead of 10^6 (the SVDs of
    :func:`aliased_terms` on every row took ~70 s at 10^6 respondents)."""
    from analysis.survey.glm import distinct_columns

    cols = [pd.to_numeric(data[v]).to_numpy(dtype=float) for v in numeric]
    cols += [_str_codes(data[c])[0] for c in categorical]
    n = len(data)
    d = (
        distinct_columns(cols, n // 2)
        if cols
        else (np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64))
    )
    if d is None:
        return np.arange(n), np.ones(n)
    first, inverse = d
    return first, np.bincount(inverse, minlength=first.size).astype(float)


def aliased_terms(
    data: pd.DataFrame, outcome: str, numeric: Sequence[str], categorical: Mapping[str, str]
) -> list[tuple[str, str | None]]:
    """Terms whose column is a linear combination of the columns before it (the model's
    information matrix is then singular; R reports their coefficients as NA)."""
    sub = data.loc[_complete(data, outcome, [*numeric, *categorical])]
    if sub.empty:
        return []
    first, counts = _distinct_data_rows(sub, numeric, categorical)
    x, names = _design_matrix(sub.iloc[first], numeric, categorical)
    x = x * np.sqrt(counts)[:, None]  # the same x'x as all the rows
    x = x / np.maximum(np.linalg.norm(x, axis=0), np.finfo(float).tiny)  # scale-free rank
    kept: list[int] = []
    aliased = []
    for j in range(x.shape[1]):  # in model order, as R: a column adding no rank is aliased
        if np.linalg.matrix_rank(x[:, [*kept, j]], tol=1e-10) > len(kept):
            kept.append(j)
        else:
            aliased.append(names[j])
    return aliased


def non_estimable_terms(
    data: pd.DataFrame,
    outcome: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str],
    fitted: pd.DataFrame,
) -> dict[tuple[str, str | None], str]:
    """``{(variable, level): reason}`` for the fitted terms that cannot be published.

    ``data`` holds the fitted columns (``categorical`` maps each to its reference level),
    ``fitted`` one row per term with ``variable``, ``level``, ``coefficient`` and ``se``."""
    complete = _complete(data, outcome, [*numeric, *categorical])
    y = pd.to_numeric(data.loc[complete, outcome]).to_numpy(dtype=float)
    reasons: dict[tuple[str, str | None], str] = {}
    for c, ref in categorical.items():
        codes, labels = _str_codes(data.loc[complete, c])
        ref_code = labels.index(str(ref)) if str(ref) in labels else -1
        ref_pure = _pure(y[codes == ref_code])
        for k, lv in enumerate(labels):
            if lv != str(ref) and (ref_pure or _pure(y[codes == k])):
                reasons[(c, str(lv))] = SEPARATION
    for v in numeric:
        x = pd.to_numeric(data.loc[complete, v]).to_numpy(dtype=float)
        x0, x1 = x[y == 0], x[y == 1]
        if len(x0) and len(x1) and (x0.max() < x1.min() or x1.max() < x0.min()):
            reasons[(v, None)] = SEPARATION
    for term in aliased_terms(data, outcome, numeric, categorical):
        reasons.setdefault(term, SINGULAR)
    for _, r in fitted.iterrows():
        term = (str(r["variable"]), r["level"] if isinstance(r["level"], str) else None)
        b, se = float(r["coefficient"]), float(r["se"])
        if not (np.isfinite(b) and np.isfinite(se)) or se > MAX_SE or abs(b) > MAX_ABS_COEF:
            reasons.setdefault(term, UNSTABLE)
    return reasons


def _pure(y: np.ndarray) -> bool:
    """All 0 or all 1 (an empty level is not a separation, it has no term)."""
    return bool(len(y)) and (bool(np.all(y == 0)) or bool(np.all(y == 1)))


def blank_non_estimable(
    fitted: pd.DataFrame, reasons: Mapping[tuple[str, str | None], str], prepared: ModelData
) -> pd.DataFrame:
    """The fitted terms with a ``not_estimable`` reason column (numbers removed where set),
    the derived columns named back after their variables, and one row per level left out
    (reason ``sparse_level``, no numbers)."""
    out = fitted.copy()
    keys = [
        (str(v), lv if isinstance(lv, str) else None)
        for v, lv in zip(out["variable"], out["level"], strict=True)
    ]
    out["not_estimable"] = [reasons.get(k) for k in keys]
    bad = out["not_estimable"].notna().to_numpy()
    for c in NUMBER_COLUMNS:
        if c in out.columns:
            out.loc[bad, c] = np.nan
    back = {col: var for var, col in prepared.columns.items()}
    out["variable"] = out["variable"].map(lambda v: back.get(v, v))
    extra = [
        {"variable": var, "level": lv, "not_estimable": SPARSE_LEVEL}
        for var, levels in prepared.left_out.items()
        for lv in levels
    ] + [{"variable": v, "level": None, "not_estimable": SINGULAR} for v in prepared.aliased]
    if extra:
        out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out
