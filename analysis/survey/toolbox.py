"""R ``survey``'s toolbox beyond means: quantiles, ratios, models, Wald tests, any design.

Every function takes a :class:`~analysis.survey.designs.ClusterDesign` (one- or two-stage,
strata, fpc, lonely-PSU option, calibrated), a :class:`~analysis.survey.designs.ReplicateDesign`
(jackknife, bootstrap) or a plain :class:`~analysis.survey.design.SurveyDesign` (converted with
``lonely_psu="adjust"``), and returns frozen results:

* :func:`mean`, :func:`proportion`, :func:`total` (R ``svymean``/``svyciprop``/``svytotal``,
  ``svyby`` for ``by=``), :func:`ratio` (``svyratio``), :func:`quantile` (``svyquantile``,
  survey 4.1.1 defaults) -> tuples of :class:`Estimate`;
* :func:`logistic_model` (``svyglm(family=quasibinomial)``), :func:`ordinal_logistic_model`
  (``svyolr``, proportional odds) -> :class:`ModelFit`; :func:`wald_test` (``regTermTest``) ->
  :class:`WaldTest`.

Linearization designs: influence values ``z`` and the design's ``svyrecvar``; replicate
designs: the estimator recomputed with every replicate weight column and R's ``svrVar``.
Missing answers and respondents outside a domain get weight zero (never dropped rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.design import DesignError, SurveyDesign, _indicator, _numeric
from analysis.survey.designs import ClusterDesign, ReplicateDesign
from analysis.survey.glm import GLM_EPSILON, GLM_MAXIT, irls
from analysis.survey.linearization import ci_beta, ci_logit, ci_t, ci_wald
from analysis.survey.raoscott import RaoScottTest

AnyDesign = ClusterDesign | ReplicateDesign | SurveyDesign


@dataclass(frozen=True)
class Estimate:
    """One estimate of one statistic in one domain.

    ``domain``: ``((column, value), ...)`` of the ``by`` variables (empty: whole sample);
    ``df``: design degrees of freedom used for the t quantile; ``n``: respondents used;
    ``variance``: ``"linearization"`` or ``"replicate (JK1)"`` etc.
    """

    variable: str
    statistic: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    ci_level: float
    df: float
    n: int
    domain: tuple[tuple[str, object], ...] = ()
    level: str | None = None
    probability: float | None = None
    variance: str = "linearization"


def estimates_frame(results: Sequence[Estimate]) -> pd.DataFrame:
    """A tidy DataFrame (one row per :class:`Estimate`, domain columns first)."""
    rows = []
    for r in results:
        row = dict(r.domain)
        row.update({k: v for k, v in r.__dict__.items() if k != "domain"})
        rows.append(row)
    return pd.DataFrame(rows)


def _design(d: AnyDesign) -> ClusterDesign | ReplicateDesign:
    if isinstance(d, SurveyDesign):
        return ClusterDesign.from_survey_design(d)
    if isinstance(d, ClusterDesign | ReplicateDesign):
        return d
    raise DesignError(f"not a survey design: {type(d).__name__}")


def _variance_label(d: ClusterDesign | ReplicateDesign) -> str:
    return "linearization" if isinstance(d, ClusterDesign) else f"replicate ({d.type})"


def _domains(
    d: ClusterDesign | ReplicateDesign, by: str | Sequence[str] | None
) -> list[tuple[tuple[tuple[str, object], ...], np.ndarray]]:
    if by is None:
        return [((), np.ones(d.n, dtype=bool))]
    cols = [by] if isinstance(by, str) else list(by)
    for c in cols:
        if c not in d.data.columns:
            raise DesignError(f"domain column {c!r} not found")
    grouped = d.data.groupby(cols, sort=True, dropna=True, observed=True)
    codes = grouped.ngroup().to_numpy()
    keys = grouped.size().reset_index()[cols]
    out = []
    for k in range(len(keys)):
        dom = tuple((c, keys[c].iloc[k]) for c in cols)
        out.append((dom, codes == k))
    return out


def _vcov(
    d: ClusterDesign | ReplicateDesign,
    influence,
    replicate_stat,
    estimate: np.ndarray,
    used: np.ndarray,
) -> np.ndarray:
    """Covariance of an estimator: ``influence()`` (n x k) or ``replicate_stat(W)`` (R x k)."""
    if isinstance(d, ReplicateDesign):
        return d.replicate_variance(replicate_stat(d.replicates), estimate)
    return d.vcov(influence(), used)


def _ci(est, se, df, method, level, n=None):
    e, s, f = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (est, se, df))
    if method == "t":
        lo, hi = ci_t(e, s, f, level)
    elif method == "wald":
        lo, hi = ci_wald(e, s, level)
    elif method == "logit":
        lo, hi = ci_logit(e, s, f, level)
    elif method == "beta":
        lo, hi = ci_beta(e, s, f, np.atleast_1d(np.asarray(n, dtype=float)), level)
    else:
        raise DesignError(f"unknown ci_method {method!r}")
    return float(lo[0]), float(hi[0])


def _empty(variable, statistic, ci_method, ci_level, dom, level, label, p=None) -> Estimate:
    """No valid answer in the domain: no estimate (R's svyby reports 0 with SE 0)."""
    nan = float("nan")
    return Estimate(
        variable, statistic, nan, nan, nan, nan, ci_method, ci_level, nan, 0, dom, level, p, label
    )


# ------------------------------------------------------------------------ means, totals


def _mean_total(
    d, y, variable, statistic, by, ci_method, ci_level, level=None
) -> tuple[Estimate, ...]:
    out = []
    label = _variance_label(d)
    st = "proportion" if level is not None else statistic
    for dom, in_dom in _domains(d, by):
        valid = in_dom & ~np.isnan(y)
        if not valid.any():
            out.append(_empty(variable, st, ci_method, ci_level, dom, level, label))
            continue
        yv = np.where(valid, y, 0.0)
        w = np.where(valid, d.weights, 0.0)
        wsum = w.sum()
        if statistic == "total":
            est = float(np.sum(w * yv))

            def infl(w=w, yv=yv):
                return w * yv

            def rep(R, valid=valid, yv=yv):
                return R.T @ yv

        else:
            est = float(np.sum(w * yv) / wsum) if wsum > 0 else float("nan")

            def infl(w=w, yv=yv, est=est, wsum=wsum, valid=valid):
                return np.where(valid, w * (yv - est) / wsum, 0.0)

            def rep(R, valid=valid, yv=yv):
                with np.errstate(invalid="ignore", divide="ignore"):
                    return (R.T @ yv) / (R.T @ valid.astype(float))

        v = _vcov(d, infl, rep, np.array([est]), valid)
        se = float(np.sqrt(max(v[0, 0], 0.0))) if np.isfinite(v[0, 0]) else float("nan")
        df = d.degf(valid)
        n = int(valid.sum())
        if isinstance(d, ReplicateDesign) and level is not None and ci_method == "logit":
            lo, hi = _replicate_logit_ci(d, rep, est, df, ci_level)
        else:
            lo, hi = _ci(est, se, df, ci_method, ci_level, n)
        out.append(
            Estimate(
                variable, st, est, se, lo, hi, ci_method, ci_level, df, n, dom, level, None, label
            )
        )
    return tuple(out)


def _replicate_logit_ci(d: ReplicateDesign, rep, est: float, df: float, level: float):
    """R ``svyciprop(method="logit")`` on a replicate design: the intercept-only logistic
    model refitted per replicate is the logit of the replicate's share, so
    ``expit(logit p +- t(df) se(logit))`` with the replicates' SE of the logit."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p_r = np.asarray(rep(d.replicates), dtype=float).reshape(-1)
        eta = float(np.log(est / (1 - est)))
        v = d.replicate_variance(np.log(p_r / (1 - p_r)), np.array([eta]))
    se = float(np.sqrt(v[0, 0]))
    q = stats.t.ppf(0.5 + level / 2, df)
    return float(1 / (1 + np.exp(-(eta - q * se)))), float(1 / (1 + np.exp(-(eta + q * se))))


def mean(
    design: AnyDesign,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    ci_method: str = "t",
    ci_level: float = 0.95,
) -> tuple[Estimate, ...]:
    """Weighted mean of a numeric answer (R ``svymean(na.rm=TRUE)``, ``svyby`` with ``by``).

    Base: valid answers in the domain.  CI ``t`` (design df) or ``wald`` (normal, R ``confint``).
    """
    d = _design(design)
    return _mean_total(d, _numeric(d, variable), variable, "mean", by, ci_method, ci_level)


def total(
    design: AnyDesign,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    ci_method: str = "t",
    ci_level: float = 0.95,
) -> tuple[Estimate, ...]:
    """Estimated population total ``sum w y`` (R ``svytotal(na.rm=TRUE)``)."""
    d = _design(design)
    return _mean_total(d, _numeric(d, variable), variable, "total", by, ci_method, ci_level)


def proportion(
    design: AnyDesign,
    variable: str,
    *,
    level: object = 1,
    by: str | Sequence[str] | None = None,
    ci_method: str = "logit",
    ci_level: float = 0.95,
) -> tuple[Estimate, ...]:
    """Share of valid answers equal to ``level``; CI ``logit`` (R ``svyciprop``), ``beta``,
    ``wald``, ``t``.  With a replicate design the logit interval uses the replicates' SE of the
    logit (R's ``svyciprop`` refits the intercept-only logistic model per replicate: the same).
    """
    d = _design(design)
    y = _indicator(d, variable, level)  # type: ignore[arg-type]
    return _mean_total(d, y, variable, "mean", by, ci_method, ci_level, str(level))


# ------------------------------------------------------------------------ ratio


def ratio(
    design: AnyDesign,
    numerator: str,
    denominator: str,
    *,
    by: str | Sequence[str] | None = None,
    ci_method: str = "wald",
    ci_level: float = 0.95,
) -> tuple[Estimate, ...]:
    """Ratio of totals ``sum w y / sum w x`` (R ``svyratio(~y, ~x, na.rm=TRUE)``).

    Base: respondents with both answers (e.g. grant per mobility-month among those who went
    abroad).  Linearization SE with influence ``w (y - R x) / sum w x``; CI ``wald`` (normal,
    R ``confint(svyratio)``) or ``t`` (design df of the respondents used).
    """
    d = _design(design)
    y = _numeric(d, numerator)
    x = _numeric(d, denominator)
    out = []
    label = _variance_label(d)
    for dom, in_dom in _domains(d, by):
        valid = in_dom & ~np.isnan(y) & ~np.isnan(x)
        if not valid.any():
            name = f"{numerator}/{denominator}"
            out.append(_empty(name, "ratio", ci_method, ci_level, dom, None, label))
            continue
        yv, xv = np.where(valid, y, 0.0), np.where(valid, x, 0.0)
        w = np.where(valid, d.weights, 0.0)
        tx = float(np.sum(w * xv))
        est = float(np.sum(w * yv) / tx) if tx != 0 else float("nan")

        def infl(w=w, yv=yv, xv=xv, est=est, tx=tx):
            return w * (yv - est * xv) / tx

        def rep(R, yv=yv, xv=xv):
            with np.errstate(invalid="ignore", divide="ignore"):
                return (R.T @ yv) / (R.T @ xv)

        v = _vcov(d, infl, rep, np.array([est]), valid)
        se = float(np.sqrt(max(v[0, 0], 0.0)))
        df = d.degf(valid)
        lo, hi = _ci(est, se, df, ci_method, ci_level)
        out.append(
            Estimate(
                f"{numerator}/{denominator}",
                "ratio",
                est,
                se,
                lo,
                hi,
                ci_method,
                ci_level,
                df,
                int(valid.sum()),
                dom,
                None,
                None,
                label,
            )
        )
    return tuple(out)


# ------------------------------------------------------------------------ quantiles


def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R ``survey:::qrule_math``: the smallest x with cumulative weight share >= p."""
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # R's cumsum and sum accumulate in long double
    cumw = np.cumsum(w[order].astype(np.longdouble)).astype(float)
    total_w = float(np.sum(w.astype(np.longdouble)))
    below = np.flatnonzero(cumw <= p * total_w)
    pos = int(below[-1]) if below.size else 0  # R's last(): 1 (the first) when none
    wlow = p - cumw[pos] / total_w
    if wlow == 0:
        return float(xs[pos])
    return float(xs[min(pos + 1, xs.size - 1)])


def quantile(
    design: AnyDesign,
    variable: str,
    probs: Sequence[float] = (0.5,),
    *,
    by: str | Sequence[str] | None = None,
    ci_level: float = 0.95,
) -> tuple[Estimate, ...]:
    """Weighted quantiles with Woodruff intervals (R survey 4.1.1 ``svyquantile`` defaults).

    Estimate: ``qrule="math"`` (the smallest value whose cumulative weight share reaches p).
    CI: ``interval.type="mean"`` (Woodruff): the share ``m`` of valid answers ``<= q`` with its
    design SE, ``m +- t(df) se`` mapped back through the same quantile rule (NaN when the
    bound leaves [0, 1]); ``se = (ci_high - ci_low) / (2 t(df))``.  Base: valid answers in the
    domain; df = design df of the respondents used (replicate designs: the design's df).
    """
    d = _design(design)
    y = _numeric(d, variable)
    out = []
    label = _variance_label(d)
    alpha = 1 - ci_level
    for dom, in_dom in _domains(d, by):
        valid = in_dom & ~np.isnan(y)
        if not valid.any():
            out.extend(
                _empty(variable, "quantile", "woodruff", ci_level, dom, None, label, float(p))
                for p in probs
            )
            continue
        yv = np.where(valid, y, 0.0)
        w = np.where(valid, d.weights, 0.0)
        df = d.degf(valid)
        q_t = stats.t.ppf(1 - alpha / 2, df) if np.isfinite(df) else stats.norm.ppf(1 - alpha / 2)
        for p in probs:
            qhat = _qrule_math(yv, w, float(p))
            ind = (yv <= qhat).astype(float)
            wsum = w.sum()
            m = float(np.sum(w * ind) / wsum)

            def infl(w=w, ind=ind, m=m, wsum=wsum, valid=valid):
                return np.where(valid, w * (ind - m) / wsum, 0.0)

            def rep(R, ind=ind, valid=valid):
                vf = valid.astype(float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    return (R.T @ (ind * vf)) / (R.T @ vf)

            v = _vcov(d, infl, rep, np.array([m]), valid)
            se_m = float(np.sqrt(max(v[0, 0], 0.0)))
            plo, phi = m - q_t * se_m, m + q_t * se_m
            lo = float("nan") if plo < 0 else _qrule_math(yv, w, plo)
            hi = float("nan") if phi > 1 else _qrule_math(yv, w, phi)
            se = (hi - lo) / (2 * q_t)
            out.append(
                Estimate(
                    variable,
                    "quantile",
                    qhat,
                    se,
                    lo,
                    hi,
                    "woodruff",
                    ci_level,
                    df,
                    int(valid.sum()),
                    dom,
                    None,
                    float(p),
                    label,
                )
            )
    return tuple(out)


# ------------------------------------------------------------------------ differences


@dataclass(frozen=True)
class Difference:
    """``mean_a - mean_b`` of a numeric answer between two groups (R ``svyttest``)."""

    variable: str
    group: str
    a: str
    b: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    t: float
    df: float
    p_value: float
    mean_a: float
    mean_b: float
    n_a: int
    n_b: int
    variance: str


def difference(
    design: AnyDesign, variable: str, group: str, a: object, b: object, *, ci_level: float = 0.95
) -> Difference:
    """Difference of weighted means ``a - b`` (R ``svyttest(variable ~ group)``, the level
    ``b`` as reference), on any design.

    SE: influence values of the two domain means subtracted (= the svyglm sandwich) or the
    replicates' differences; ``df = degf - 1`` of the respondents used (replicate designs: of
    the whole design, as R); t test and CI ``t(df)``.
    """
    d = _design(design)
    y = _numeric(d, variable)
    if group not in d.data.columns:
        raise DesignError(f"group column {group!r} not found")
    g = d.data[group].astype(str).to_numpy()
    valid = ~np.isnan(y)
    in_a, in_b = valid & (g == str(a)), valid & (g == str(b))
    if not in_a.any() or not in_b.any():
        raise DesignError(f"difference: no valid answer of {variable!r} in {group}={a!r} or {b!r}")
    yv = np.where(valid, y, 0.0)
    wa, wb = np.where(in_a, d.weights, 0.0), np.where(in_b, d.weights, 0.0)
    ma, mb = float(wa @ yv / wa.sum()), float(wb @ yv / wb.sum())
    est = ma - mb
    used = in_a | in_b
    if isinstance(d, ReplicateDesign):
        ra = (d.replicates * in_a[:, None]).T
        rb = (d.replicates * in_b[:, None]).T
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = (ra @ yv) / ra.sum(axis=1) - (rb @ yv) / rb.sum(axis=1)
        v = d.replicate_variance(reps, np.array([est]))
        df = d.degf() - 1
    else:
        z = wa * (yv - ma) / wa.sum() - wb * (yv - mb) / wb.sum()
        v = d.vcov(z, used)
        df = d.degf(used) - 1
    se = float(np.sqrt(v[0, 0]))
    t = est / se
    q = stats.t.ppf(0.5 + ci_level / 2, df)
    return Difference(
        variable,
        group,
        str(a),
        str(b),
        est,
        se,
        est - q * se,
        est + q * se,
        t,
        float(df),
        float(2 * stats.t.sf(abs(t), df)),
        ma,
        mb,
        int(in_a.sum()),
        int(in_b.sum()),
        _variance_label(d),
    )


# ------------------------------------------------------------------------ Rao-Scott


def _levels(d, variable: str) -> tuple[np.ndarray, list[str]]:
    """Level codes (-1: missing or blank) and the sorted string levels of a column.

    Labels are computed once per distinct value (``pd.factorize``), not per row.
    """
    if variable not in d.data.columns:
        raise DesignError(f"variable {variable!r} not found")
    codes, uniques = pd.factorize(d.data[variable], use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    blank = [not lab.strip() for lab in labels]
    levels = sorted({lab for lab, b in zip(labels, blank, strict=True) if not b})
    pos = {lab: i for i, lab in enumerate(levels)}
    to_level = [-1 if b else pos[lab] for lab, b in zip(labels, blank, strict=True)]
    return np.array([*to_level, -1], dtype=np.int64)[codes], levels


def rao_scott(design: AnyDesign, row: str, col: str) -> RaoScottTest:
    """Rao-Scott F test of independence (R ``svychisq(~row + col, design, statistic="F")``).

    The second-order correction of Pearson's X2 (weighted table scaled to the design's rows),
    with the cell shares' covariance from the design (clusters, strata, fpc, lonely-PSU option,
    calibration) or its replicate weights: ``F = X2 / tr(Delta)``, ``ndf = tr(Delta)^2 /
    tr(Delta^2)``, ``ddf = ndf * nu``.  As R: levels are each variable's non-missing values,
    the cells of a respondent missing either variable are left out (``na.rm``), ``N`` is the
    number of rows of the design and ``nu`` its PSUs minus strata (replicate designs: their
    df).  (:func:`analysis.survey.compare.rao_scott` instead scales X2 to the respondents in
    the table.)
    """
    d = _design(design)
    rc, rlev = _levels(d, row)
    cc, clev = _levels(d, col)
    nr, nc = len(rlev), len(clev)
    if nr < 2 or nc < 2:
        raise DesignError(f"Rao-Scott {row} x {col}: each variable needs 2 or more levels")
    valid = (rc >= 0) & (cc >= 0)
    k = nr * nc
    cell = np.where(valid, rc + nr * cc, 0)  # row level varies fastest (R's interaction)
    ind = np.zeros((d.n, k))
    ind[np.flatnonzero(valid), cell[valid]] = 1.0
    w = np.where(valid, d.weights, 0.0)
    wsum = w.sum()
    p = ind.T @ w / wsum
    if isinstance(d, ReplicateDesign):
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = (d.replicates * valid[:, None]).T @ ind
            reps = reps / reps.sum(axis=1, keepdims=True)
        V = d.replicate_variance(reps, p)
        nu = d.degf()
    else:
        V = d.vcov((w / wsum)[:, None] * (ind - p[None, :]), valid)
        st = d.stages[0]
        nu = int(np.unique(st.clusters).size - np.unique(st.strata).size)
    N = d.n
    r_ = np.tile(np.arange(nr), nc)
    c_ = np.repeat(np.arange(nc), nr)
    row_d = (r_[:, None] == np.arange(1, nr)[None, :]).astype(float)
    col_d = (c_[:, None] == np.arange(1, nc)[None, :]).astype(float)
    x1 = np.column_stack([np.ones(k), row_d, col_d])
    x_int = (row_d[:, :, None] * col_d[:, None, :]).reshape(k, -1)
    q, _ = np.linalg.qr(x1)
    cmat = x_int - q @ (q.T @ x_int)
    inv_p = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    ic = inv_p[:, None] * cmat
    delta = np.linalg.solve(cmat.T @ ic / N, ic.T @ V @ ic)
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.trace(delta @ delta))
    table = p.reshape(nc, nr).T * N
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / N
    x2 = float(np.sum((table - expected) ** 2 / expected))
    return RaoScottTest.from_statistics(
        x2 / tr,
        d0,
        d0 * nu,
        x2,
        float((nr - 1) * (nc - 1)),
        tr,
        int(valid.sum()),
        tuple(rlev),
        tuple(clev),
    )


# ------------------------------------------------------------------------ models


@dataclass(frozen=True)
class ModelFit:
    """A design-based regression: coefficients, their covariance and the residual df.

    ``terms[j] = (variable, level)`` names column j (level None for numeric terms and the
    intercept ``("(Intercept)", None)``; thresholds of an ordinal model are
    ``("threshold", "1|2")``).  ``df_residual`` as R (``svyglm``: degf + 1 - p; ``svyolr``:
    degf - number of slopes); ``n`` respondents used.
    """

    outcome: str
    model: str
    terms: tuple[tuple[str, str | None], ...]
    coefficients: np.ndarray
    vcov: np.ndarray
    df_residual: float
    n: int
    variance: str

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def table(self, ci_level: float = 0.95) -> pd.DataFrame:
        """One row per coefficient: estimate, se, t, p (t with ``df_residual``), CI."""
        b, se = self.coefficients, self.se
        t = b / se
        q = stats.t.ppf(0.5 + ci_level / 2, self.df_residual)
        return pd.DataFrame(
            {
                "variable": [v for v, _ in self.terms],
                "level": [lv for _, lv in self.terms],
                "coefficient": b,
                "se": se,
                "t": t,
                "p_value": 2 * stats.t.sf(np.abs(t), self.df_residual),
                "df": self.df_residual,
                "ci_low": b - q * se,
                "ci_high": b + q * se,
                "n": self.n,
            }
        )


@dataclass(frozen=True)
class WaldTest:
    """Wald test that every coefficient of ``variables`` is 0 (R ``regTermTest``).

    ``method="F"``: ``F = b' V^-1 b / df`` on (df, ddf) degrees of freedom, ``ddf`` the model's
    residual df (R's default); ``method="chisq"``: ``b' V^-1 b`` on df (R ``df=Inf``).
    """

    variables: tuple[str, ...]
    statistic: float
    df: int
    ddf: float
    p_value: float
    method: str
    chisq: float


def _regressors(
    d, outcome_values: np.ndarray, numeric: Sequence[str], categorical: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str | None]]]:
    """Model matrix (intercept first), the complete-case mask and the term names."""
    valid = ~np.isnan(outcome_values)
    cols = [np.ones(d.n)]
    terms: list[tuple[str, str | None]] = [("(Intercept)", None)]
    for v in numeric:
        x = _numeric(d, v)
        valid &= ~np.isnan(x)
        cols.append(np.where(np.isnan(x), 0.0, x))
        terms.append((v, None))
    cat_cols = []
    for v, ref in categorical.items():
        codes, levels = _levels(d, v)
        valid &= codes >= 0
        cat_cols.append((v, str(ref), codes, levels))
    for v, ref, codes, all_levels in cat_cols:
        seen = np.bincount(codes[valid], minlength=len(all_levels)) > 0
        levels = [lv for lv, k in zip(all_levels, seen, strict=True) if k]
        if ref not in levels:
            raise DesignError(f"reference level {ref!r} of {v!r} not among {levels}")
        for j, lv in enumerate(all_levels):
            if seen[j] and lv != ref:
                cols.append((codes == j).astype(float))
                terms.append((v, lv))
    return np.column_stack(cols), valid, terms


def _logistic_fit(X, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, fitted ``mu`` and ``A^-1`` of the weighted logistic fit: R's ``glm.fit``
    iterations of :func:`analysis.survey.glm.irls` (one implementation for the pipeline's
    model and the toolbox's)."""
    beta, mu, _, ainv, it = irls(X, None, w, y, GLM_EPSILON, GLM_MAXIT)
    if it < 0:
        raise DesignError("logistic model did not converge (separation?)")
    return beta, mu, ainv


def logistic_model(
    design: AnyDesign,
    outcome: str,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str] | None = None,
) -> ModelFit:
    """Design-based logistic regression of the 0/1 ``outcome`` (R ``svyglm(quasibinomial)``).

    ``categorical`` maps each factor to its reference level; the other levels follow sorted.
    Base: complete cases (others weight 0).  Linearization: sandwich ``A^-1 (Var of scores)
    A^-1`` via the design's variance (R ``svy.varcoef``); replicate designs: the model refitted
    with every replicate's weights (R ``svyglm.svyrep.design``).  ``df_residual = degf + 1 - p``.
    """
    d = _design(design)
    y = _numeric(d, outcome)
    X, valid, terms = _regressors(d, y, numeric, dict(categorical or {}))
    yv = np.where(valid, y, 0.0)
    w = np.where(valid, d.weights, 0.0)
    beta, mu, ainv = _logistic_fit(X, yv, w / w.sum())
    ainv = ainv / w.sum()
    if isinstance(d, ReplicateDesign):
        betas = []
        for r in range(d.replicates.shape[1]):
            wr = np.where(valid, d.replicates[:, r], 0.0)
            betas.append(_logistic_fit(X, yv, wr / wr.sum())[0])
        v = d.replicate_variance(np.array(betas), beta)
        df = d.degf() + 1 - X.shape[1]  # R: the full replicate design's df
    else:
        scores = X * (w * (yv - mu))[:, None]
        inf = scores @ ainv
        v = d.vcov(inf, valid)
        df = d.degf(valid) + 1 - X.shape[1]
    return ModelFit(
        outcome, "logistic", tuple(terms), beta, v, float(df), int(valid.sum()), _variance_label(d)
    )


def wald_test(
    fit: ModelFit, variables: str | Sequence[str], *, df: float | None = None
) -> WaldTest:
    """R ``regTermTest(model, ~a + b)``: joint Wald test of all coefficients of the variables.

    ``df=None``: F test with the model's residual df (R's default for svyglm/svyolr);
    ``df=float("inf")``: chi-square test.
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    idx = [j for j, (v, lv) in enumerate(fit.terms) if v in names and v != "threshold"]
    unknown = [v for v in names if not any(t[0] == v for t in fit.terms)]
    if unknown or not idx:
        raise DesignError(f"terms {unknown or names} not in the model ({fit.terms})")
    b = fit.coefficients[idx]
    V = fit.vcov[np.ix_(idx, idx)]
    chisq = float(b @ np.linalg.solve(V, b))
    k = len(idx)
    ddf = fit.df_residual if df is None else df
    if np.isfinite(ddf):
        F = chisq / k
        return WaldTest(tuple(names), F, k, float(ddf), float(stats.f.sf(F, k, ddf)), "F", chisq)
    return WaldTest(
        tuple(names), chisq, k, float("inf"), float(stats.chi2.sf(chisq, k)), "chisq", chisq
    )


# ------------------------------------------------------------------------ ordinal model


def _olr_parts(par, X, yc, w, q):
    """-loglik, per-row scores (n x (p+q)) and Hessian of the proportional-odds model.

    ``P(Y <= j) = F(zeta_j - x'b)`` (logistic F), R ``svyolr``'s parametrisation (slopes, then
    thresholds).  With ``u_up = (-x, e_y)``, ``u_lo = (-x, e_{y-1})``: ``pr' = f_up u_up - f_lo
    u_lo`` and ``pr'' = f'_up u_up u_up' - f'_lo u_lo u_lo'``.
    """
    n, p = X.shape
    eta = X @ par[:p]
    gam = np.concatenate([[-np.inf], par[p:], [np.inf]])
    F_up = stats.logistic.cdf(gam[yc + 1] - eta)
    F_lo = stats.logistic.cdf(gam[yc] - eta)
    pr = F_up - F_lo
    f_up, f_lo = F_up * (1 - F_up), F_lo * (1 - F_lo)
    fp_up, fp_lo = f_up * (1 - 2 * F_up), f_lo * (1 - 2 * F_lo)
    rows = np.arange(n)
    U_up = np.zeros((n, p + q))
    U_lo = np.zeros((n, p + q))
    U_up[:, :p] = -X
    U_lo[:, :p] = -X
    m_up, m_lo = yc < q, yc >= 1
    U_up[rows[m_up], p + yc[m_up]] = 1.0
    U_lo[rows[m_lo], p + yc[m_lo] - 1] = 1.0
    dpr = f_up[:, None] * U_up - f_lo[:, None] * U_lo
    scores = -(w / pr)[:, None] * dpr  # gradient of -w log pr, per row
    nll = -np.sum(w * np.log(pr))
    c = w / pr
    H = (dpr * (c / pr)[:, None]).T @ dpr
    H -= (U_up * (c * fp_up)[:, None]).T @ U_up
    H += (U_lo * (c * fp_lo)[:, None]).T @ U_lo
    return nll, scores, H


def _fit_olr(X, yc, w, q, start, outcome) -> np.ndarray:
    """Maximum of the weighted proportional-odds log-likelihood (damped Newton)."""
    p = X.shape[1]
    wn = w / w.sum()
    par = start
    nll, sc, H = _olr_parts(par, X, yc, wn, q)
    for _ in range(200):
        step = np.linalg.solve(H, sc.sum(axis=0))
        t = 1.0
        while True:
            cand = par - t * step
            if np.all(np.diff(cand[p:]) > 0):
                new_nll, new_sc, new_H = _olr_parts(cand, X, yc, wn, q)
                if np.isfinite(new_nll) and new_nll <= nll + 1e-15:
                    break
            t /= 2
            if t < 1e-10:
                raise DesignError(f"ordinal model of {outcome!r} did not converge")
        par, nll, sc, H = cand, new_nll, new_sc, new_H
        if np.max(np.abs(t * step)) < 1e-12 * (1 + np.max(np.abs(par))):
            return par
    raise DesignError(f"ordinal model of {outcome!r} did not converge")


def ordinal_logistic_model(
    design: AnyDesign,
    outcome: str,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str] | None = None,
    *,
    levels: Sequence[object] | None = None,
) -> ModelFit:
    """Proportional-odds model of an ordered answer (R ``svyolr(factor(y) ~ ...)``, logistic).

    ``P(Y <= j) = expit(zeta_j - x'b)``: coefficients ``b`` (no intercept) then the thresholds
    ``zeta`` (terms ``("threshold", "1|2")`` ...).  Fitted to convergence by Newton's method on
    the weighted log-likelihood; SEs: linearization of the scores times the inverse analytic
    Hessian (R uses optim's numerical Hessian: agreement to about 1e-7 with R's default
    ``ndeps``, 1e-10 with ``ndeps=1e-5``).  ``df_residual = degf - len(b)``.  ``levels`` fixes
    the order of the answer levels (default: sorted observed levels; at least 3).
    Replicate designs: the model refitted with every replicate's weights from the full-sample
    estimate (R ``svyolr.svyrep.design``, which refits ``MASS::polr``), ``df = degf - len(b)``.
    """
    d = _design(design)
    s = d.data[outcome]
    yraw = pd.to_numeric(s, errors="coerce") if levels is None else s
    y_isna = pd.isna(yraw).to_numpy()
    yfloat = np.where(y_isna, np.nan, 0.0)
    X, valid, terms = _regressors(d, yfloat, numeric, dict(categorical or {}))
    X = X[:, 1:]
    terms = terms[1:]
    lv = sorted(pd.unique(yraw[valid])) if levels is None else list(levels)
    if len(lv) < 3:
        raise DesignError(f"{outcome!r}: an ordinal model needs 3 or more levels, got {lv}")
    code = {v: i for i, v in enumerate(lv)}
    yc = np.array([code.get(v, -1) if ok else 0 for v, ok in zip(yraw, valid, strict=True)])
    if np.any(yc[valid] < 0):
        raise DesignError(f"{outcome!r}: answers outside levels {lv}")
    q = len(lv) - 1
    w = np.where(valid, d.weights, 0.0)
    Xv, ycv, wv = X[valid], yc[valid], w[valid]
    p = X.shape[1]
    # start: thresholds at the cumulative weighted shares, slopes 0 (then Newton)
    shares = np.cumsum(np.bincount(ycv, weights=wv, minlength=q + 1))[:-1] / wv.sum()
    start = np.concatenate([np.zeros(p), np.log(shares / (1 - shares))])
    par = _fit_olr(Xv, ycv, wv, q, start, outcome)
    thr = [("threshold", f"{lv[j]}|{lv[j + 1]}") for j in range(q)]
    if isinstance(d, ReplicateDesign):
        betas = []
        for r in range(d.replicates.shape[1]):
            wr = d.replicates[valid, r]
            try:
                betas.append(_fit_olr(Xv, ycv, wr, q, par, outcome))
            except (DesignError, np.linalg.LinAlgError):
                betas.append(par * np.nan)  # left out of the variance, as R's svrVar
        return ModelFit(
            outcome,
            "ordinal logistic",
            tuple(terms) + tuple(thr),
            par,
            d.replicate_variance(np.array(betas), par),
            float(d.degf() - p),
            int(valid.sum()),
            _variance_label(d),
        )
    _, sc_v, H = _olr_parts(par, Xv, ycv, wv, q)
    scores = np.zeros((d.n, p + q))
    scores[valid] = sc_v
    inf = scores @ np.linalg.inv(H)
    v = d.vcov(inf, valid)
    return ModelFit(
        outcome,
        "ordinal logistic",
        tuple(terms) + tuple(thr),
        par,
        v,
        float(d.degf(valid) - p),
        int(valid.sum()),
        _variance_label(d),
    )
