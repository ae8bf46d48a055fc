"""Vectorised Taylor-linearization estimator for means, proportions and totals.

This is the piece written in the project rather than taken from svy: svy's domain estimation
(``by=``) needs about 0.9 s per variable at 1,000,000 rows, so 30 variables by 10 schools would
take about 26 s.  The same formulas as R ``survey`` are used, vectorised with ``np.bincount``
over (domain x stratum) cells; the loop is over variables, never over respondents.  Every
number is checked against ``reference_R.json`` (R survey 4.1.1) in the tests.

Formulas (one-stage design, respondents are the PSUs; ``h`` = stratum, ``d`` = domain):

* estimate: ratio mean ``sum_d w y / sum_d w`` (total: ``sum_d w y``);
* influence values ``z_i = w_i (y_i - est_d) / W_d`` inside the domain, 0 outside (so the
  variance keeps the full-sample stratum sizes, as ``svyby``/``subset`` do);
* variance ``sum_h (1 - f_h) n_h / (n_h - 1) sum_{i in h} (z_i - zbar_h)^2`` with
  ``f_h = n_h / N_h`` when a population size is given (stratified design, fpc) else 0;
* calibrated weights: before the variance, ``z`` is projected on the calibration cells as
  ``survey::svyrecvar`` (survey 4.1.1) does: post-stratification ``z <- z - psw * sum_c(z
  oldw / psw) / sum_c(oldw)`` (``psw`` the calibrated weights, ``oldw`` the weights before
  post-stratification: the weighted residual of ``z / psw`` on the cells); raking 10
  backfitting sweeps ``z <- z - psw_m * mean_cell(z / psw_m)`` over the margins ``m``, each
  with the weights of its own last post-stratification step (``psw_m``; all equal to the final
  weights once raking has converged tightly);
* design df ``n_d - H_d`` (respondents of the domain, whether or not they answered, minus the
  strata they fall in), as ``degf(subset(design, ...))`` which R's ``svyciprop`` and
  ``svyby(..., na.rm=TRUE)`` use (the answers are dropped inside the estimator, not from the
  domain's design);
* deff against simple random sampling without replacement (R ``deff=TRUE``):
  ``Var / (s2_w (W_d - n_d) / (W_d n_d))`` with ``s2_w = n_d/(n_d-1) sum w (y-ybar)^2 / sum w``;
  when ``W_d <= n_d`` (unweighted design) the with-replacement reference ``s2_w / n_d`` is used.

Singleton strata (one respondent) cannot estimate their own variance: as R's
``options(survey.lonely.psu = "adjust")`` (``survey:::onestrat``), the lone unit's influence
value is not centred (it is taken as a deviation from zero, which for a mean is the grand mean
of the influence values); they are counted in ``LinearizedResult.singletons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

_BACKFIT_SWEEPS = 10  # as survey:::svyrecvar for raking


@dataclass(frozen=True)
class DesignArrays:
    """The numeric design behind a :class:`~analysis.survey.design.SurveyDesign`.

    ``strata`` holds integer codes 0..H-1; ``fpc_fraction`` is ``n_h / N_h`` per stratum (0 when
    there is no finite-population correction); ``calibration`` holds one integer-code array per
    raking/post-stratification margin (empty for fixed weights).  ``calibration_weights``: per
    margin, the weights after that margin's post-stratification step (R's ``attr(, "weights")``;
    empty: the final ``weights``); ``calibration_base``: the weights before post-stratification
    (one margin only; R's ``oldweights``; None: R's rule without them, an unweighted cell mean
    of ``z / psw``, equal when the base weights are constant within cells).
    """

    weights: np.ndarray
    strata: np.ndarray
    n_strata: int
    fpc_fraction: np.ndarray
    calibration: tuple[np.ndarray, ...] = ()
    calibration_weights: tuple[np.ndarray, ...] = ()
    calibration_base: np.ndarray | None = None

    n_h: np.ndarray = field(init=False, repr=False, compare=False)
    # rows grouped by calibration cell, computed once on first use (see _rows_by_code)
    _cell_rows: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sizes = np.bincount(self.strata, minlength=self.n_strata).astype(float)
        object.__setattr__(self, "n_h", sizes)
        object.__setattr__(self, "_cell_rows", {})

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    def stratum_sizes(self) -> np.ndarray:
        return self.n_h

    @property
    def singleton_strata(self) -> int:
        return int(np.sum(self.n_h == 1))


@dataclass(frozen=True)
class LinearizedResult:
    """Arrays over domains (length D) for one variable."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    deff: np.ndarray
    singletons: int
    rows: np.ndarray | None = None  # rows of the domain's design (R nrow(design)); None: n


def _project_calibration(
    z: np.ndarray,
    w: np.ndarray,
    margins: Sequence[np.ndarray],
    psw: Sequence[np.ndarray] = (),
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Residuals of the influence values on the calibration margins (``survey::svyrecvar``).

    ``z`` is a vector or an (n, k) matrix.  One margin: post-stratification residual with the
    weights before calibration ``base`` (None: unweighted cell mean of ``z / w``); several:
    raking, 10 backfitting sweeps, margin ``m`` with the weights ``psw[m]`` of its last step
    (default ``w``).
    """
    if not margins:
        return z
    z = np.array(z, dtype=float, copy=True)
    two_d = z.ndim == 2
    psws = list(psw) if psw else [w] * len(margins)

    def cell_sums(m: np.ndarray, v: np.ndarray, size: int) -> np.ndarray:
        if not two_d:
            return np.bincount(m, weights=v, minlength=size)
        return np.stack(
            [np.bincount(m, weights=v[:, j], minlength=size) for j in range(v.shape[1])], axis=1
        )

    if len(margins) == 1:
        m, pw = margins[0], psws[0]
        size = int(m.max()) + 1 if m.size else 0
        pw, zr, denom = _poststratum_terms(z, pw, base, m, size)
        cm = cell_sums(m, zr, size)
        cm = cm / (denom[:, None] if two_d else denom)
        return z - (pw[:, None] * cm[m] if two_d else pw * cm[m])
    counts = [np.bincount(m).astype(float) for m in margins]
    inv = [1.0 / np.where(pw > 0, pw, 1.0) for pw in psws]
    for _ in range(_BACKFIT_SWEEPS):
        for m, c, pw, ip in zip(margins, counts, psws, inv, strict=True):
            cnt = np.where(c > 0, c, 1.0)
            cm = cell_sums(m, z * (ip[:, None] if two_d else ip), c.size)
            cm = cm / (cnt[:, None] if two_d else cnt)
            z = z - (pw[:, None] * cm[m] if two_d else pw * cm[m])
    return z


def _poststratum_terms(
    z: np.ndarray, pw: np.ndarray, base: np.ndarray | None, m: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Post-stratification pieces: weights ``psw``, ``z oldw / psw`` and ``sum_c oldw``.

    Without base weights: ``z / psw`` and the cell counts (R with ``oldweights`` = 1).
    """
    if base is None:
        safe = np.where(pw > 0, pw, 1.0)
        zr = z / (safe[:, None] if z.ndim == 2 else safe)
        denom = np.bincount(m, minlength=size).astype(float)
    else:
        pw = np.where((pw == 0) & (base == 0), 1.0, pw)  # R: psw[zeroes] <- 1
        f = base / np.where(pw > 0, pw, 1.0)
        zr = z * (f[:, None] if z.ndim == 2 else f)
        denom = np.bincount(m, weights=base, minlength=size)
    return pw, zr, np.where(denom != 0, denom, 1.0)


def project_calibration(z: np.ndarray, design: DesignArrays) -> np.ndarray:
    """:func:`_project_calibration` with the design's calibration (``z`` unchanged if none)."""
    return _project_calibration(
        z, design.weights, design.calibration, design.calibration_weights, design.calibration_base
    )


@dataclass(frozen=True)
class DomainIndex:
    """Domain codes prepared once per (design, domain variables) and reused per variable.

    ``codes`` holds 0..D-1 and D for respondents outside every domain (a spare slot that is
    dropped), ``cell`` = ``codes * H + stratum``.
    """

    codes: np.ndarray
    n_domains: int
    cell: np.ndarray
    # rows grouped by domain and the rows each domain's variance needs (computed on first use
    # by _poststratified_domain_variances, reused for every variable of the domain)
    _domain_rows: list = field(init=False, repr=False, compare=False)
    _rows_dh: list = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_domain_rows", [])
        object.__setattr__(self, "_rows_dh", [])

    def rows_per_cell(self, n_strata: int) -> np.ndarray:
        """Respondents per (domain, stratum), missing answers included ((D + 1) x H)."""
        if not self._rows_dh:  # computed once per domain index
            counts = np.bincount(self.cell, minlength=(self.n_domains + 1) * n_strata)
            self._rows_dh.append(counts.reshape(self.n_domains + 1, n_strata).astype(float))
        return self._rows_dh[0]

    @classmethod
    def build(cls, domain: np.ndarray | None, n_domains: int, design: DesignArrays) -> DomainIndex:
        if domain is None:
            codes = np.zeros(design.n, dtype=np.int64)
            n_domains = 1
        else:
            codes = np.where(domain >= 0, domain, n_domains).astype(np.int64)
        return cls(codes, n_domains, codes * design.n_strata + design.strata)


def linearize(
    y: np.ndarray,
    design: DesignArrays,
    domain: np.ndarray | DomainIndex | None = None,
    n_domains: int = 1,
    *,
    statistic: str = "mean",
    _shared: dict | None = None,
) -> LinearizedResult:
    """Estimate, SE, df, n and deff of ``statistic`` ("mean" or "total") of ``y`` per domain.

    ``y`` is float with NaN for missing answers (dropped per variable: the respondent is
    outside the domain for this variable, as R's ``na.rm=TRUE``); ``domain`` holds integer
    codes 0..D-1, or -1 for respondents outside every domain (``None``: one domain, all), or a
    prepared :class:`DomainIndex`.

    ``_shared``: a dict the caller passes to consecutive calls over the same domains (the
    levels of one item, the options of a multi-select question); when ``y`` is missing for
    exactly the same respondents as in the previous call, the respondent counts and weight
    sums per cell are taken from it instead of being summed again (same arrays, same numbers).
    """
    if statistic not in ("mean", "total"):
        raise ValueError(f"unknown statistic {statistic!r} (use 'mean' or 'total')")
    idx = (
        domain if isinstance(domain, DomainIndex) else DomainIndex.build(domain, n_domains, design)
    )
    D, H = idx.n_domains, design.n_strata
    Dx = D + 1  # with the spare "outside" slot
    d, cell = idx.codes, idx.cell
    w = design.weights
    y = np.asarray(y, dtype=float)
    missing = np.isnan(y)
    shared = _shared.get(id(idx)) if _shared is not None else None
    if shared is not None and shared[0] is idx and np.array_equal(shared[1], missing):
        vf, wv, n_dh_all, w_dh = shared[2:]  # same respondents as the previous variable
    else:
        vf = (~missing).astype(float)
        wv = w * vf
        n_dh_all = w_dh = None
    if missing.any():
        yv = y.copy()
        yv[missing] = 0.0
    else:
        yv = y
    wyv = wv * yv

    # per (domain, stratum) cell sums; domain sums are their row sums (fewer passes over n)
    def cellsum(v: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=v, minlength=Dx * H).reshape(Dx, H)

    if n_dh_all is None or w_dh is None:
        n_dh_all = cellsum(vf)
        w_dh = cellsum(wv)
        if _shared is not None:
            _shared[id(idx)] = (idx, missing, vf, wv, n_dh_all, w_dh)
    wy_dh = cellsum(wyv)
    n_d_all, w_d_all, wy_d_all = n_dh_all.sum(axis=1), w_dh.sum(axis=1), wy_dh.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar_all = wy_d_all / w_d_all
        ybar_safe = np.where(np.isfinite(ybar_all), ybar_all, 0.0)
        resid = yv - ybar_safe[d]
        wres = wv * resid
        dev2 = cellsum(wres * resid).sum(axis=1)[:D]
        inv_w = np.where(w_d_all > 0, 1.0 / w_d_all, 0.0)
    n_d, w_d = n_d_all[:D], w_d_all[:D]
    if statistic == "mean":
        est = ybar_all[:D]
    else:
        est = wy_d_all[:D]

    if design.calibration:
        # one column of influence values per domain, projected on the calibration margins
        if statistic == "mean":
            z = wres * inv_w[d]
        else:
            z = wyv
        z = np.where(d < D, z, 0.0)
        if D > 1 and len(design.calibration) == 1:
            var = _poststratified_domain_variances(z, idx, design)
        else:
            var = np.empty(D)
            for k in range(D):
                zk = np.where(d == k, z, 0.0) if D > 1 else z
                zk = project_calibration(zk, design)
                var[k] = _variance_from_sums(
                    np.bincount(design.strata, weights=zk, minlength=H)[None, :],
                    np.bincount(design.strata, weights=zk * zk, minlength=H)[None, :],
                    design,
                )[0]
    else:
        # influence z = wres / W_d inside the domain: its cell sums are scaled cell sums
        if statistic == "mean":
            s1 = cellsum(wres)[:D] * inv_w[:D, None]
            s2 = cellsum(wres * wres)[:D] * (inv_w[:D, None] ** 2)
        else:
            s1 = wy_dh[:D]
            s2 = cellsum(wyv * wyv)[:D]
        var = _variance_from_sums(s1, s2, design)

    # design df of the domain: its respondents, answering or not, minus their strata (R's
    # degf(subset(design, domain)), which svyciprop / svyby(na.rm = TRUE) use)
    rows_dh = idx.rows_per_cell(H)[:D]
    rows_d = rows_dh.sum(axis=1)
    df = rows_d - (rows_dh > 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.maximum(var, 0.0))
        s2w = n_d / (n_d - 1) * dev2 / w_d
        scale = 1.0 if statistic == "mean" else w_d**2
        srs_wor = scale * s2w * (w_d - n_d) / (w_d * n_d)
        srs_wr = scale * s2w / n_d
        srs = np.where(w_d > n_d * (1 + 1e-9), srs_wor, srs_wr)
        deff = var / srs
    return LinearizedResult(
        estimate=est,
        se=se,
        df=df.astype(float),
        n=np.rint(n_d).astype(np.int64),
        weight_sum=w_d,
        deff=deff,
        singletons=design.singleton_strata,
        # R's nrow(design) of the domain (svyciprop "beta"): a calibrated design's subset keeps
        # every row (zero weights), an uncalibrated one keeps the domain's rows
        rows=np.full(D, float(design.n)) if design.calibration else rows_d.astype(float),
    )


def _rows_by_code(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers grouped by code, ascending inside each group, and the group bounds."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1))
    return order, bounds


def _poststratified_domain_variances(
    z: np.ndarray, idx: DomainIndex, design: DesignArrays
) -> np.ndarray:
    """Per domain: the variance of the loop in :func:`linearize` for one calibration margin.

    Bit-for-bit the same numbers as projecting the full-length ``z * (d == k)`` with
    :func:`_project_calibration` and summing per stratum, but computed only on the rows that
    can be non-zero: the domain's rows and the rows of the calibration cells the domain
    touches.  Every other row holds exactly ``0.0`` after the projection (``0 - w * 0``), so
    leaving it out of the (in-order) ``np.bincount`` sums changes no bit.  The work per domain
    is proportional to its size instead of ``n``.
    """
    D, H, n = idx.n_domains, design.n_strata, design.n
    m = design.calibration[0]
    c = np.bincount(m).astype(float)
    psw = design.calibration_weights[0] if design.calibration_weights else design.weights
    w, zr, denom = _poststratum_terms(z, psw, design.calibration_base, m, c.size)
    d = idx.codes
    if not idx._domain_rows:
        idx._domain_rows.append(_rows_by_code(d, D + 1))
        idx._domain_rows.append({})
    by_domain, dom_bounds = idx._domain_rows[0]
    cache = idx._domain_rows[1]
    if 0 not in design._cell_rows:
        design._cell_rows[0] = _rows_by_code(m, c.size)
    by_cell, cell_bounds = design._cell_rows[0]
    var = np.empty(D)
    for k in range(D):
        rows_k = by_domain[dom_bounds[k] : dom_bounds[k + 1]]
        cell_mean = np.bincount(m[rows_k], weights=zr[rows_k], minlength=c.size) / denom
        nonzero = cell_mean != 0
        touched = np.flatnonzero(nonzero)
        key = (k, touched.tobytes())
        if key not in cache:  # the same rows serve every level / variable of this domain
            size = rows_k.size + int(np.sum(cell_bounds[touched + 1] - cell_bounds[touched]))
            if size * 16 <= n:  # small domain: sort its few rows (ascending = original order)
                parts = [by_cell[cell_bounds[j] : cell_bounds[j + 1]] for j in touched]
                rel = np.unique(np.concatenate([rows_k, *parts]))
            else:  # the domain's cells cover much of the sample: one boolean pass is cheaper
                keep = nonzero[m]
                keep[rows_k] = True
                rel = np.flatnonzero(keep)
            cache[key] = (rel, d[rel] == k, w[rel], m[rel], design.strata[rel])
        rel, in_k, w_rel, m_rel, s = cache[key]
        zk = np.where(in_k, z[rel], 0.0)
        zk = zk - w_rel * cell_mean[m_rel]
        var[k] = _variance_from_sums(
            np.bincount(s, weights=zk, minlength=H)[None, :],
            np.bincount(s, weights=zk * zk, minlength=H)[None, :],
            design,
        )[0]
    return var


def influence_variance(z: np.ndarray, design: DesignArrays) -> float:
    """Design variance of a linear statistic with influence values ``z`` (0 outside domain).

    Applies the calibration projection when the weights are calibrated, then the stratified
    with-/without-replacement formula.  Used for differences (svyttest) and contrasts.
    """
    z = np.nan_to_num(np.asarray(z, dtype=float))
    z = project_calibration(z, design)
    H = design.n_strata
    s1 = np.bincount(design.strata, weights=z, minlength=H)[None, :]
    s2 = np.bincount(design.strata, weights=z * z, minlength=H)[None, :]
    return float(_variance_from_sums(s1, s2, design)[0])


def influence_covariance(z: np.ndarray, design: DesignArrays) -> np.ndarray:
    """Design covariance (p x p) of the influence values ``z`` (n x p; 0 outside the domain).

    The matrix form of :func:`influence_variance` (R ``svyrecvar``): the calibration
    projection, then ``sum_h c_h sum_{i in h} (z_i - zbar_h)(z_i - zbar_h)'`` with ``c_h = (1 -
    f_h) n_h / (n_h - 1)``; a stratum of one respondent contributes ``(1 - f_h) z_h z_h'`` (R
    ``lonely.psu = "adjust"``).  One matrix product over the stratum-centred, scaled rows.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    z = project_calibration(z, design)
    H, n_h = design.n_strata, design.n_h
    single = n_h == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        c_h = (1.0 - design.fpc_fraction) * np.where(single, 1.0, n_h / (n_h - 1.0))
    c_h = np.where(np.isfinite(c_h), c_h, 0.0)
    if H == 1:
        zc = z - (0.0 if single[0] else z.mean(axis=0))
        return c_h[0] * (zc.T @ zc)
    st = design.strata
    s1 = np.stack([np.bincount(st, weights=z[:, j], minlength=H) for j in range(z.shape[1])], 1)
    centre = np.where(single[:, None], 0.0, s1 / np.where(n_h > 0, n_h, 1.0)[:, None])
    zc = (z - centre[st]) * np.sqrt(c_h)[st][:, None]
    return zc.T @ zc


def _variance_from_sums(s1: np.ndarray, s2: np.ndarray, design: DesignArrays) -> np.ndarray:
    """``sum_h (1-f_h) n_h/(n_h-1) sum_{i in h} (z_i - zbar_h)^2`` per domain row.

    ``s1``/``s2`` are the (D, H) sums of z and z^2 per domain and stratum (z = 0 outside the
    domain, so ``sum (z - zbar_h)^2 = s2 - s1^2 / n_h`` with the full-sample ``n_h``).
    """
    n_h = design.n_h
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = s2 - s1**2 / n_h[None, :]
        c_h = (1.0 - design.fpc_fraction) * n_h / (n_h - 1.0)
    single = n_h == 1
    if single.any():
        # lonely PSU "adjust" (survey:::onestrat): the lone unit is not centred
        ss = ss.copy()
        ss[:, single] = s1[:, single] ** 2
        c_h = np.where(single, 1.0 - design.fpc_fraction, c_h)
    return np.sum(np.where(np.isfinite(c_h[None, :] * ss), c_h[None, :] * ss, 0.0), axis=1)


# --------------------------------------------------------------------------- intervals


def t_quantile(df: np.ndarray | float, level: float = 0.95) -> np.ndarray:
    return stats.t.ppf(0.5 + level / 2.0, np.asarray(df, dtype=float))


def ci_wald(est: np.ndarray, se: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Normal-quantile interval ``est +- z se`` (R ``confint(svymean(...))``)."""
    z = stats.norm.ppf(0.5 + level / 2.0)
    return est - z * se, est + z * se


def ci_t(
    est: np.ndarray, se: np.ndarray, df: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """``est +- t(df) se`` (R ``svyciprop(method="mean")``)."""
    q = t_quantile(df, level)
    return est - q * se, est + q * se


def ci_logit(
    p: np.ndarray, se: np.ndarray, df: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """R ``svyciprop(method="logit")``: ``expit(logit p +- t(df) se / (p(1-p)))``.

    At p = 0 or 1 the logit interval does not exist; the bounds are then 0/1 and the
    Korn-Graubard bound on the other side (see :func:`ci_beta`) is used by the caller.
    """
    q = t_quantile(df, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.log(p / (1 - p))
        half = q * se / (p * (1 - p))
        lo = 1 / (1 + np.exp(-(eta - half)))
        hi = 1 / (1 + np.exp(-(eta + half)))
    return lo, hi


def ci_beta(
    p: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    n: np.ndarray,
    level: float = 0.95,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Korn-Graubard interval as R ``svyciprop(method="beta")``.

    Clopper-Pearson on the effective sample size ``n_eff = p(1-p)/se^2 *
    (t_{rows-1} / t_df)^2`` (``rows``: R's ``nrow(design)`` of the domain, default ``n`` =
    respondents used).  When ``se = 0`` (p = 0 or 1) the effective size is taken as ``n``,
    the exact binomial interval.
    """
    alpha = 1 - level
    p = np.asarray(p, dtype=float)
    rows_ = np.asarray(n if rows is None else rows, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = p * (1 - p) / np.asarray(se, dtype=float) ** 2
        ratio = stats.t.ppf(alpha / 2, rows_ - 1) / stats.t.ppf(
            alpha / 2, np.asarray(df, dtype=float)
        )
        n_eff = n_eff * ratio**2
        n_eff = np.where(np.isfinite(n_eff) & (n_eff > 0), n_eff, np.asarray(n, dtype=float))
        x = n_eff * p
        lo = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n_eff - x + 1), 0.0)
        hi = np.where(n_eff - x > 0, stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x), 1.0)
    return lo, hi
