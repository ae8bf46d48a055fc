"""Design-based logistic regression in numpy (R ``svyglm(family = quasibinomial())``).

The fit is R's ``glm.fit`` (iteratively reweighted least squares, same start and stopping rule)
on the respondents with the outcome and every regressor answered; the variance is R's
``svy.varcoef``: the sandwich ``V = Cov_design(U A^-1)`` where ``A = X' diag(w mu (1 - mu)) X``
and ``U_i = x_i w_i (y_i - mu_i)`` (the estimating-function values, with R's working weights
of the last step; zero for the respondents
left out, who stay in the design: full-sample strata sizes, as R's zero-padding), with the
design covariance of :func:`analysis.survey.linearization.influence_covariance` (strata, fpc,
lonely PSUs "adjust", and the calibration projection of a post-stratified or raked design,
as ``svyrecvar(..., postStrata=)``).  df = degf of the respondents used + 1 - p, as svyglm.

No svy/polars: the previous route converted the frame to polars and fitted through svy, 2.5-2.9
s of the 1,000,000-respondent benchmark; here the work is a few passes of BLAS over an n x p
matrix (and, when the regressors take few distinct values, over the distinct covariate
patterns only: :meth:`_Terms.patterns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.linearization import DesignArrays, influence_covariance

# convergence: R's glm.control(epsilon = 1e-14, maxit = 100), as the R references of the
# project (tests/fixtures/reference, reference_r16); R's default (1e-8, 25) gives R's default
# numbers (fit_logistic(epsilon=1e-8, maxit=25))
GLM_EPSILON = 1e-14
GLM_MAXIT = 100


class ModelError(RuntimeError):
    """The model cannot be fitted (singular design matrix, no convergence); a RuntimeError."""


@dataclass(frozen=True)
class LogisticFit:
    """Coefficients, sandwich covariance and df of a design-based logistic model."""

    names: tuple[tuple[str, str | None], ...]  # (variable, level) per coefficient
    coefficients: np.ndarray
    covariance: np.ndarray
    df: float
    n: int
    iterations: int
    converged: bool = True  # False: R's "algorithm did not converge" (last iterate kept)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def table(self) -> pd.DataFrame:
        """One row per term: variable, level, coefficient, se, t, p_value (t, df), df, n."""
        se = self.se
        with np.errstate(invalid="ignore", divide="ignore"):
            t = self.coefficients / se
        p = 2 * stats.t.sf(np.abs(t), self.df) if self.df > 0 else np.full(t.shape, np.nan)
        return pd.DataFrame(
            {
                "variable": [v for v, _ in self.names],
                "level": [lv for _, lv in self.names],
                "coefficient": self.coefficients,
                "se": se,
                "t": t,
                "p_value": p,
                "df": np.full(t.shape, self.df),
                "n": np.full(t.shape, self.n, dtype=np.int64),
            }
        )


def _labels(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    from analysis.survey.raoscott import _label_codes  # the same labels as the Rao-Scott test

    return _label_codes(s)


def design_matrix(
    frame: pd.DataFrame,
    outcome: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str | None]]]:
    """``X`` (complete rows x p), ``y`` (complete rows), the complete-row mask and term names.

    Terms: intercept, the numeric regressors in order, then per categorical regressor one
    dummy per level other than its reference, levels sorted (levels seen only among
    incomplete rows are not terms).
    """
    terms, y, complete, names = model_terms(frame, outcome, numeric, categorical)
    return terms.matrix(np.flatnonzero(complete)), y, complete, names


def model_terms(
    frame: pd.DataFrame,
    outcome: str,
    numeric: Sequence[str],
    categorical: Mapping[str, str],
) -> tuple[_Terms, np.ndarray, np.ndarray, list[tuple[str, str | None]]]:
    """The columns of :func:`design_matrix` (not yet a matrix), ``y``, the mask and names.

    Terms: intercept, the numeric regressors in order, then per categorical regressor one
    dummy per level other than its reference, levels sorted (levels seen only among
    incomplete rows are not terms).
    """
    y_all = pd.to_numeric(frame[outcome], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    num = [
        pd.to_numeric(frame[c], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        for c in numeric
    ]
    complete = ~np.isnan(y_all)
    for v in num:
        complete &= ~np.isnan(v)
    cats = []
    for c in categorical:
        codes, levels = _labels(frame[c])
        complete &= codes >= 0
        cats.append((c, codes, levels))
    bad = complete & ~np.isin(y_all, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ModelError(f"row {i + 1}, column {outcome!r}: outcome must be 0 or 1, got {y_all[i]}")
    rows = np.flatnonzero(complete)
    names: list[tuple[str, str | None]] = [("(Intercept)", None)]
    names += [(c, None) for c in numeric]
    dummies: list[tuple[np.ndarray, int]] = []
    for (c, codes, levels), ref in zip(cats, categorical.values(), strict=True):
        seen = np.bincount(codes[rows], minlength=len(levels)) > 0
        used = [lv for lv, k in zip(levels, seen, strict=True) if k]
        if str(ref) not in used:
            raise ValueError(f"reference level {ref!r} of {c!r} not among {used}")
        for j, lv in enumerate(levels):
            if seen[j] and lv != str(ref):
                names.append((c, lv))
                dummies.append((codes, j))
    terms = _Terms(num, [codes for _, codes, _ in cats], dummies, len(names))
    return terms, y_all[rows], complete, names


@dataclass(frozen=True)
class _Terms:
    """The model's columns before the design matrix is built (per row of the frame)."""

    numeric: list[np.ndarray]
    category_codes: list[np.ndarray]
    dummies: list[tuple[np.ndarray, int]]
    p: int

    def matrix(self, rows: np.ndarray) -> np.ndarray:
        """The design matrix of the given rows (intercept, numerics, dummies)."""
        x = np.empty((rows.size, self.p))
        x[:, 0] = 1.0
        for j, v in enumerate(self.numeric, start=1):
            x[:, j] = v[rows]
        start = 1 + len(self.numeric)
        for j, (codes, level) in enumerate(self.dummies):
            x[:, start + j] = codes[rows] == level
        return x

    def patterns(self, rows: np.ndarray, max_rows: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Distinct covariate patterns of the rows, from the raw columns (no n x p matrix)."""
        cols = [v[rows] for v in self.numeric] + [c[rows] for c in self.category_codes]
        if not cols:  # intercept only: one pattern
            return np.zeros(min(rows.size, 1), dtype=np.int64), np.zeros(rows.size, dtype=np.int64)
        return distinct_columns(cols, max_rows)


def distinct_rows(x: np.ndarray, max_rows: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(first, inverse)``: one row number per distinct row of ``x`` and each row's distinct
    row, or None when there are more than ``max_rows`` distinct rows."""
    return distinct_columns([x[:, j] for j in range(x.shape[1])], max_rows)


def distinct_columns(
    cols: Sequence[np.ndarray], max_rows: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`distinct_rows` of the matrix whose columns are ``cols``.  Columns holding small
    non-negative integers (codes, dummies, Likert answers) are used as codes directly; others
    are factorized (hashing)."""
    n = cols[0].shape[0]
    codes = np.zeros(n, dtype=np.int64)
    radix = 1
    for col in cols:
        c = col.astype(np.int64)
        lo, hi = (int(c.min()), int(c.max())) if n else (0, 0)
        if lo >= 0 and hi < 1024 and np.array_equal(c, col):
            size = hi + 1
        else:
            c, u = pd.factorize(col)
            size = len(u)
        if size > 1:
            if radix * size > 2**40:
                return None
            codes += c * radix
            radix *= size
    inverse, uniq = pd.factorize(codes)
    if len(uniq) > max_rows:
        return None
    first = np.empty(len(uniq), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return first, inverse


def irls(
    xu: np.ndarray,
    inv: np.ndarray | None,
    w: np.ndarray,
    y: np.ndarray,
    epsilon: float,
    maxit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """R's ``glm.fit`` for the logit link, on units (covariate patterns, or rows).

    ``xu``: one row per unit; ``inv``: the unit of each respondent (None: units are the rows);
    ``w``, ``y``: per respondent.  The same iterations as R (start ``mustart = (w y + 0.5) /
    (w + 1)`` per respondent, weighted least-squares steps, stop when ``|dev - dev_old| / (|dev|
    + 0.1) < epsilon``, at most ``maxit``), so the numbers are R's also when R's default rule
    (1e-8) stops short of the maximum (weights far from uniform).  A step that changes no
    coefficient by more than 1e-13 (relative) also ends the iterations (the deviance is then
    at its floating-point floor).  Returns the coefficients, the fitted ``mu`` per
    unit, the ``mu`` of the last step's working weights per respondent (R's ``glm$weights``),
    ``A^-1`` from those weights (R's ``cov.unscaled``) and the iterations (negative: not
    converged, as R's warning; the last finite iterate is returned, as R does).
    """
    k = xu.shape[0]

    def agg(v: np.ndarray) -> np.ndarray:
        return v if inv is None else np.bincount(inv, weights=v, minlength=k)

    s1, sw = agg(w * y), agg(w)
    s0 = sw - s1
    mu_r = (w * y + 0.5) / (w + 1.0)
    eta_r = np.log(mu_r / (1.0 - mu_r))
    dev_old = -2.0 * float(np.sum(w * np.where(y > 0, np.log(mu_r), np.log1p(-mu_r))))
    ww_r = w * mu_r * (1.0 - mu_r)
    wwu = agg(ww_r)
    wzu = agg(ww_r * eta_r + w * (y - mu_r))
    prev_mu: np.ndarray = mu_r  # per respondent
    b_old = None
    last: tuple | None = None
    converged = False
    it = 0
    while it < maxit:
        it += 1
        a = xu.T @ (xu * wwu[:, None])
        try:
            b = np.linalg.solve(a, xu.T @ wzu)
        except np.linalg.LinAlgError as exc:
            if last is None:
                raise ModelError(f"singular information matrix: {exc}") from exc
            b = None
        if b is None or not np.all(np.isfinite(b)):
            if last is None:
                raise ModelError("the fit diverged (non-finite coefficients)")
            break  # fitted probabilities reached 0 or 1 (separation): keep the last step
        eta = xu @ b
        mu = 1.0 / (1.0 + np.exp(-eta))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = -2.0 * float(
                np.sum(np.where(s1 > 0, s1 * np.log(mu), 0.0))
                + np.sum(np.where(s0 > 0, s0 * np.log1p(-mu), 0.0))
            )
        if not np.isfinite(dev):
            if last is None:
                raise ModelError("the fit diverged (fitted probabilities 0 or 1)")
            break
        last = (b, mu, prev_mu, a)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        if b_old is not None and np.all(np.abs(b - b_old) <= 1e-13 * np.maximum(1.0, np.abs(b))):
            converged = True
            break
        b_old = b
        dev_old = dev
        prev_mu = mu if inv is None else mu[inv]
        wwu = sw * mu * (1.0 - mu)
        wzu = wwu * eta + (s1 - sw * mu)
    # not converged (R: a warning, the last iterate is returned): a separated term, which
    # analysis.survey.separation then reports as not estimable
    assert last is not None
    b, mu, prev_mu, a = last
    try:
        ainv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        ainv = np.linalg.pinv(a)
    return b, mu, prev_mu, ainv, it if converged else -it


def _non_aliased(x: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Column indices that add rank, in model order (R's ``glm`` pivoting: a column that is a
    linear combination of the columns before it gets an NA coefficient).  ``counts``: rows of
    ``x`` stand for that many identical rows (the same ``x'x``)."""
    g = x.T @ (x if counts is None else x * counts[:, None])
    scale = np.sqrt(np.diag(g))
    g = g / np.outer(np.maximum(scale, 1e-300), np.maximum(scale, 1e-300))
    kept: list[int] = []
    for j in range(g.shape[0]):
        if scale[j] == 0:
            continue
        if kept:
            gk = g[np.ix_(kept, kept)]
            r = g[j, j] - g[j, kept] @ np.linalg.solve(gk, g[kept, j])
        else:
            r = g[j, j]
        if r > 1e-10:
            kept.append(j)
    return np.array(kept, dtype=np.int64)


def _mu_eta(mu: np.ndarray) -> np.ndarray:
    """``d mu / d eta = mu (1 - mu)``, floored at machine epsilon as R's ``binomial()$mu.eta``."""
    return np.maximum(mu * (1.0 - mu), np.finfo(float).eps)


def fit_logistic(
    frame: pd.DataFrame,
    design: DesignArrays,
    outcome: str,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str] | None = None,
    *,
    epsilon: float = GLM_EPSILON,
    maxit: int = GLM_MAXIT,
) -> LogisticFit:
    """Fit ``outcome ~ numeric + categorical`` on the design (see the module docstring).

    ``epsilon``/``maxit``: R's ``glm.control`` (default: converged to the maximum).
    """
    cats = dict(categorical or {})
    terms, y, complete, names = model_terms(frame, outcome, numeric, cats)
    n_used = int(complete.sum())
    p = terms.p
    if n_used <= p:
        raise ModelError(f"{n_used} complete respondents for {p} coefficients")
    rows = np.flatnonzero(complete)
    names_all = names
    # R's rescaled weights (mean 1 over the design's rows): the sandwich does not depend on
    # the scale, R's starting values (and so where its iterations stop) do
    w = design.weights[rows] / design.weights.mean()
    groups = terms.patterns(rows, max(64, n_used // 8))
    if groups is not None:
        # the likelihood depends on the respondents only through per-pattern sums; the design
        # matrix is built for the distinct patterns only
        first, inv = groups
        xu = terms.matrix(rows[first])
        # columns that are linear combinations of earlier ones: R's NA coefficients
        keep = _non_aliased(xu, np.bincount(inv, minlength=first.size).astype(float))
        xu = xu[:, keep]
        p = xu.shape[1]
        b, mu_u, prev_mu, ainv, it = irls(xu, inv, w, y, epsilon, maxit)
        mu = mu_u[inv]
        # estfun A^-1 per respondent (R svy.varcoef): x_i A^-1 times a scalar
        u = w * prev_mu * (1.0 - prev_mu) * (y - mu) / _mu_eta(mu)
        if not design.calibration:  # per (stratum, pattern) sums: no n x p matrix
            cov = _grouped_covariance(xu @ ainv, inv, u, design.strata[rows], design)
            return _result(names_all, keep, b, cov, design, rows, n_used, p, it)
        infl_rows = (xu @ ainv)[inv] * u[:, None]
    else:
        x = terms.matrix(rows)
        keep = _non_aliased(x)
        x = x[:, keep]
        p = x.shape[1]
        b, mu, prev_mu, ainv, it = irls(x, None, w, y, epsilon, maxit)
        u = w * prev_mu * (1.0 - prev_mu) * (y - mu) / _mu_eta(mu)
        infl_rows = (x * u[:, None]) @ ainv
    infl = np.zeros((design.n, p))
    infl[rows] = infl_rows
    return _result(
        names_all, keep, b, influence_covariance(infl, design), design, rows, n_used, p, it
    )


def _grouped_covariance(
    v: np.ndarray, inv: np.ndarray, u: np.ndarray, strata: np.ndarray, design: DesignArrays
) -> np.ndarray:
    """:func:`influence_covariance` of the rows ``v[inv] * u`` (uncalibrated design), from the
    sums of ``u`` and ``u^2`` per (stratum, pattern): the same formula on H x patterns cells."""
    H, k = design.n_strata, v.shape[0]
    key = strata * k + inv
    u1 = np.bincount(key, weights=u, minlength=H * k).reshape(H, k)
    u2 = np.bincount(key, weights=u * u, minlength=H * k).reshape(H, k)
    s1 = u1 @ v  # H x p: sum of the influence values per stratum
    n_h = design.n_h
    single = n_h == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        c_h = (1.0 - design.fpc_fraction) * np.where(single, 1.0, n_h / (n_h - 1.0))
        mean_h = np.where(single[:, None], 0.0, s1 / n_h[:, None])  # lonely: not centred
    c_h = np.where(np.isfinite(c_h), c_h, 0.0)
    # sum_i (z_i - m_h)(z_i - m_h)' = S2_h - s1 m' - m s1' + n_h m m' (rows outside: z = 0)
    cov = np.einsum("h,hk,ki,kj->ij", c_h, u2, v, v)
    cov -= np.einsum("h,hi,hj->ij", c_h, s1, mean_h)
    cov -= np.einsum("h,hi,hj->ij", c_h, mean_h, s1)
    cov += np.einsum("h,h,hi,hj->ij", c_h, np.where(single, 0.0, n_h), mean_h, mean_h)
    return cov


def _result(
    names_all: list[tuple[str, str | None]],
    keep: np.ndarray,
    b: np.ndarray,
    cov_kept: np.ndarray,
    design: DesignArrays,
    rows: np.ndarray,
    n_used: int,
    p: int,
    it: int,
) -> LogisticFit:
    h_used = int(np.count_nonzero(np.bincount(design.strata[rows], minlength=design.n_strata)))
    df = float(n_used - h_used + 1 - p)  # p: the estimated coefficients (R)
    full_b = np.full(len(names_all), np.nan)
    full_b[keep] = b
    cov = np.full((len(names_all),) * 2, np.nan)
    cov[np.ix_(keep, keep)] = cov_kept
    return LogisticFit(tuple(names_all), full_b, cov, df, n_used, abs(it), it > 0)
