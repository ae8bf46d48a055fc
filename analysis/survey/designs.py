"""Clustered, multi-stage and replicate-weight designs (R ``svydesign(ids=...)``, ``svrepdesign``).

The one-stage :class:`~analysis.survey.design.SurveyDesign` covers the pipeline's designs (S, W,
U).  This module adds the rest of R ``survey``'s design toolbox, used by the estimators of
:mod:`analysis.survey.toolbox`:

* :class:`ClusterDesign` - one- or two-stage cluster sampling with strata and a finite-population
  correction at each stage (R ``svydesign(ids=~psu, strata=~s, fpc=~N)`` and ``ids=~psu+ssu``,
  ``fpc=~N1+N2``), R's ``survey.lonely.psu`` options, and calibrated weights (R ``calibrate``
  with ``calfun`` "linear" (GREG), "raking" or "logit"; see :func:`calibrate`).  Its
  :meth:`ClusterDesign.vcov` is R's ``svyrecvar`` (survey 4.1.1): influence values summed per
  PSU, centred within the stratum, ``sum_h (1 - n_h/N_h) n_h/(n_h-1) sum_i T_hi T_hi'``, plus, when
  the first stage has an fpc, the second-stage variance within every PSU times ``n_h/N_h``;
* :class:`ReplicateDesign` - replicate weights with R's ``svrVar``: ``scale * sum_r rscales_r
  (theta_r - theta_bar)^2``, built by :func:`jackknife` (``as.svrepdesign(type="JK1")`` for an
  unstratified design, ``"JKn"`` for a stratified one) or from imported weights
  (:meth:`ReplicateDesign.from_weights`: e.g. R's bootstrap weights, whose RNG Python cannot
  reproduce).

Rows are never dropped: a respondent outside a domain or with a missing answer has zero weight
and zero influence, so stratum and PSU counts stay those of the full sample (R's ``subset`` of a
``survey.design2`` object and ``na.rm=TRUE``).  No svy/polars here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg

from analysis.survey.design import DesignError, SurveyDesign

LONELY_PSU = ("adjust", "remove", "certainty", "average", "fail")
CALFUNS = ("linear", "raking", "logit")


class LonelyPSUError(DesignError):
    """A stratum has one PSU and ``lonely_psu="fail"`` (R's default ``survey.lonely.psu``)."""


@dataclass(frozen=True)
class Stage:
    """One sampling stage: stratum and cluster codes per row, sample and population counts.

    ``strata`` codes are unique across the whole sample (at stage 2: one stratum per stage-1
    PSU and stage-2 stratum, as R's ``svydesign`` nests them); ``clusters`` likewise.
    ``n_psu[s]`` clusters were sampled in stratum ``s`` out of ``popsize[s]`` (``None``: no fpc).
    ``group[s]`` is the stage-1 PSU a stage-2 stratum lies in (0 at stage 1).
    """

    strata: np.ndarray
    clusters: np.ndarray
    n_psu: np.ndarray
    popsize: np.ndarray | None
    group: np.ndarray
    stratum_labels: tuple[str, ...]


@dataclass(frozen=True)
class Calibration:
    """Calibrated weights ``w0 * g`` and what the variance projects on (R ``greg_calibration``).

    ``basis``: an orthonormal basis of the columns of ``X sqrt(w0)`` (X = calibration model
    matrix, w0 = weights before calibration); ``gw`` = ``g sqrt(w0)``.  The influence values are
    replaced by ``resid(basis, z / gw) * gw`` (R ``qr.resid(qr, x / w) * w``).
    """

    basis: np.ndarray
    gw: np.ndarray
    calfun: str
    iterations: int


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), list(uniques)


@dataclass(frozen=True)
class ClusterDesign:
    """A one- or two-stage (stratified, clustered) design; variance as R ``svyrecvar``.

    Build it with :meth:`from_frame` or :meth:`from_survey_design`.  ``lonely_psu`` is R's
    ``options(survey.lonely.psu=...)``: a stratum with a single PSU contributes (``"adjust"``)
    its PSU total's square, centred at zero (survey 4.1.1), (``"remove"``, ``"certainty"``)
    nothing, (``"average"``) the average of the other strata (their sum times
    ``strata / strata with more than one PSU``), or (``"fail"``) raises :class:`LonelyPSUError`
    when a variance is computed.
    """

    data: pd.DataFrame
    weights: np.ndarray
    stages: tuple[Stage, ...]
    lonely_psu: str = "adjust"
    calibration: tuple[Calibration | np.ndarray, ...] = ()
    description: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kind(self) -> str:
        return "linearization"

    def degf(self, used: np.ndarray | None = None) -> int:
        """PSUs minus strata among the rows with non-zero weight in ``used`` (R ``degf``)."""
        inset = self.weights != 0
        if used is not None:
            inset = inset & used
        st = self.stages[0]
        return int(np.unique(st.clusters[inset]).size - np.unique(st.strata[inset]).size)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        ids: str | Sequence[str] | None = None,
        strata: str | None = None,
        fpc: str | Sequence[str] | None = None,
        weight: str | None = "weight",
        lonely_psu: str = "adjust",
        source: str = "responses",
    ) -> ClusterDesign:
        """R ``svydesign(ids=~a+b, strata=~s, fpc=~Na+Nb, weights=~w)`` over ``df``.

        ``ids``: the cluster column of each stage (``None``: respondents are the PSUs);
        ``fpc``: per stage, the column holding the population count of clusters in the
        stratum (stage 1) or in the PSU (stage 2), constant within it; ``None``: sampling with
        replacement.  Cluster ids are taken as nested (unique within their stratum / PSU, as
        R's ``nest=TRUE``).  ``weight=None`` gives weights ``1 / (f_1 f_2)`` from the fpc, as R.
        """
        if lonely_psu not in LONELY_PSU:
            raise DesignError(f"lonely_psu must be one of {LONELY_PSU}, got {lonely_psu!r}")
        data = df.reset_index(drop=True)
        n = len(data)
        if n == 0:
            raise DesignError(f"{source}: no respondents")
        id_cols = [] if ids is None else ([ids] if isinstance(ids, str) else list(ids))
        fpc_cols = [] if fpc is None else ([fpc] if isinstance(fpc, str) else list(fpc))
        if len(id_cols) > 2:
            raise DesignError("at most two stages (ids=[psu, ssu]) are supported")
        n_stages = max(1, len(id_cols))
        if fpc_cols and len(fpc_cols) != n_stages:
            raise DesignError(
                f"{source}: give a population column for every stage ({n_stages}) or none, "
                f"got {fpc_cols}"
            )
        for c in [*id_cols, *fpc_cols, *([strata] if strata else [])]:
            if c not in data.columns:
                raise DesignError(f"{source}: column {c!r} not found")
            if data[c].isna().any():
                i = int(np.flatnonzero(data[c].isna().to_numpy())[0])
                raise DesignError(f"{source}: row {i + 1}, column {c!r}: missing value")
        # stage 1
        s_lab = data[strata].astype(str) if strata else pd.Series(["all"] * n)
        s_codes, s_uniq = _codes(s_lab)
        psu_lab = (
            s_lab + "\x1f" + data[id_cols[0]].astype(str)
            if id_cols
            else pd.Series(np.arange(n).astype(str))
        )
        c1, _ = _codes(psu_lab)
        stages = [
            _stage(data, s_codes, c1, [str(u) for u in s_uniq], fpc_cols[:1], source, 1, None)
        ]
        if len(id_cols) == 2:
            s2_lab = psu_lab  # stage-2 strata: the stage-1 PSUs (R nests them)
            s2_codes, s2_uniq = _codes(s2_lab)
            c2, _ = _codes(s2_lab + "\x1f" + data[id_cols[1]].astype(str))
            stages.append(
                _stage(
                    data,
                    s2_codes,
                    c2,
                    [str(u).replace("\x1f", "/") for u in s2_uniq],
                    fpc_cols[1:],
                    source,
                    2,
                    c1,
                )
            )
        if weight is None:
            prob = np.ones(n)
            for st in stages:
                if st.popsize is None:
                    raise DesignError(f"{source}: no weight column and no fpc to derive it")
                prob = prob * (st.n_psu / st.popsize)[st.strata]
            w = 1.0 / prob
        else:
            if weight not in data.columns:
                raise DesignError(f"{source}: weight column {weight!r} not found")
            w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DesignError(
                    f"{source}: row {i + 1}, column {weight!r}: weight must be a positive "
                    f"number, got {data[weight].iloc[i]!r}"
                )
        what = f"{len(id_cols)}-stage clustered" if id_cols else "one-stage"
        desc = f"{what}{', stratified' if strata else ''}{', fpc' if fpc_cols else ''}"
        return cls(data, w, tuple(stages), lonely_psu, (), desc)

    @classmethod
    def from_survey_design(cls, design: SurveyDesign, lonely_psu: str = "adjust") -> ClusterDesign:
        """The same one-stage design (respondents are the PSUs), e.g. to use a lonely-PSU option.

        Raking / post-stratification margins recorded in ``design.calibrated_on`` are kept (the
        variance projects on them as R ``rake``/``postStratify``).
        """
        if lonely_psu not in LONELY_PSU:
            raise DesignError(f"lonely_psu must be one of {LONELY_PSU}, got {lonely_psu!r}")
        a = design.arrays
        n = design.n
        popsize = None
        if np.any(a.fpc_fraction > 0):
            with np.errstate(divide="ignore"):
                popsize = np.where(a.fpc_fraction > 0, a.n_h / a.fpc_fraction, np.inf)
        labels = (
            tuple(str(u) for u in pd.factorize(design.data[design.strata], sort=True)[1])
            if design.strata
            else ("all",)
        )
        st = Stage(
            strata=a.strata,
            clusters=np.arange(n, dtype=np.int64),
            n_psu=a.n_h.copy(),
            popsize=popsize,
            group=np.zeros(a.n_strata, dtype=np.int64),
            stratum_labels=labels,
        )
        return cls(
            design.data,
            a.weights,
            (st,),
            lonely_psu,
            tuple(a.calibration),
            f"one-stage ({design.design})",
        )

    def with_lonely_psu(self, lonely_psu: str) -> ClusterDesign:
        if lonely_psu not in LONELY_PSU:
            raise DesignError(f"lonely_psu must be one of {LONELY_PSU}, got {lonely_psu!r}")
        return ClusterDesign(
            self.data, self.weights, self.stages, lonely_psu, self.calibration, self.description
        )

    # ------------------------------------------------------------------ variance

    def vcov(self, z: np.ndarray, used: np.ndarray | None = None) -> np.ndarray:
        """R ``svyrecvar`` of influence values ``z`` (n, or n x k): the k x k covariance.

        ``used``: the rows of the subset the estimate is computed on (valid answers in the
        domain; ``z`` is 0 elsewhere).  As R's subset of an uncalibrated design, a stratum
        without any used row is left out of the stratum count (``lonely_psu="average"``) and
        of the lonely-PSU check; a calibrated design keeps every stratum (R keeps the rows
        with zero weight).  The PSU counts ``n_h`` are always those of the full sample.
        """
        x = np.asarray(z, dtype=float)
        x = x.reshape(self.n, -1)
        x = np.where(np.isfinite(x), x, 0.0)
        for cal in self.calibration:
            x = _project(x, cal, self.weights)
        rows = None if (used is None or self.calibration) else np.asarray(used, dtype=bool)
        v = _onestage(x, self.stages[0], self.lonely_psu, 1, used=rows)
        if len(self.stages) > 1 and self.stages[0].popsize is not None:
            s1 = self.stages[0]
            f1 = (s1.n_psu / s1.popsize)[s1.strata]  # n_h / N_h per row
            v = v + _onestage(x, self.stages[1], self.lonely_psu, 2, row_factor=f1, used=rows)
        return v


def _stage(
    data: pd.DataFrame,
    s_codes: np.ndarray,
    c_codes: np.ndarray,
    labels: list[str],
    fpc_col: list[str],
    source: str,
    stage: int,
    parent: np.ndarray | None,
) -> Stage:
    H = len(labels)
    first = np.unique(c_codes, return_index=True)[1]
    n_psu = np.bincount(s_codes[first], minlength=H).astype(float)
    popsize = None
    if fpc_col:
        col = fpc_col[0]
        pop = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        per = np.full(H, np.nan)
        per[s_codes] = pop
        varies = pop != per[s_codes]
        if varies.any() or np.isnan(pop).any():
            i = int(np.flatnonzero(varies | np.isnan(pop))[0])
            raise DesignError(
                f"{source}: row {i + 1}, column {col!r}: population count must be a number, "
                f"constant within the {'stratum' if stage == 1 else 'PSU'}"
            )
        small = per < n_psu
        if small.any():
            k = int(np.flatnonzero(small)[0])
            raise DesignError(
                f"{source}: column {col!r}: population {per[k]:g} smaller than the "
                f"{int(n_psu[k])} sampled clusters in {labels[k]!r} (stage {stage})"
            )
        popsize = per
    if parent is None:
        group = np.zeros(H, dtype=np.int64)
    else:
        group = np.zeros(H, dtype=np.int64)
        group[s_codes] = parent
    return Stage(s_codes, c_codes, n_psu, popsize, group, tuple(labels))


def _project(x: np.ndarray, cal: Calibration | np.ndarray, w: np.ndarray) -> np.ndarray:
    if isinstance(cal, Calibration):
        u = x / cal.gw[:, None]
        u = u - cal.basis @ (cal.basis.T @ u)
        return u * cal.gw[:, None]
    # a post-stratification / raking margin (integer cell codes): survey's projection
    m = cal
    c = np.bincount(m).astype(float)
    out = x.copy()
    for j in range(x.shape[1]):
        cell_mean = np.bincount(m, weights=out[:, j] / w, minlength=c.size) / np.where(
            c > 0, c, 1.0
        )
        out[:, j] = out[:, j] - w * cell_mean[m]
    return out


def _rowsum(x: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """R ``rowsum``: sums of the rows of ``x`` per code (one ``np.bincount`` per column)."""
    return np.column_stack(
        [np.bincount(codes, weights=x[:, j], minlength=size) for j in range(x.shape[1])]
    )


def _onestage(
    x: np.ndarray,
    st: Stage,
    lonely: str,
    stage: int,
    row_factor: np.ndarray | None = None,
    used: np.ndarray | None = None,
) -> np.ndarray:
    """R ``onestage`` summed over the recursion groups (``multistage``), vectorised.

    Returns ``sum_p a_p T_p T_p'`` over the clusters ``p`` (T: centred cluster totals).
    """
    H = st.n_psu.size
    P = int(st.clusters.max()) + 1
    T = _rowsum(x, st.clusters, P)
    psu_stratum = np.zeros(P, dtype=np.int64)
    psu_stratum[st.clusters] = st.strata
    n_h = st.n_psu
    if st.popsize is None:
        f = np.ones(H)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(np.isinf(st.popsize), 1.0, (st.popsize - n_h) / st.popsize)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_h > 1, f * n_h / (n_h - 1), f)
    census = f < 1e-7
    present = (
        np.ones(H, dtype=bool) if used is None else np.bincount(st.strata[used], minlength=H) > 0
    )
    single = (n_h == 1) & ~census & present
    if single.any() and lonely == "fail":
        k = int(np.flatnonzero(single)[0])
        raise LonelyPSUError(
            f"Stratum ({st.stratum_labels[k]}) has only one PSU at stage {stage} "
            f"(lonely_psu='fail', as R's default survey.lonely.psu)"
        )
    # centring within the stratum, except a lonely PSU under "adjust" (centred at zero)
    sums = _rowsum(T, psu_stratum, H)
    centre = sums / np.where(n_h > 0, n_h, 1.0)[:, None]
    if lonely == "adjust":
        centre[n_h == 1] = 0.0
    T = T - centre[psu_stratum]
    ok = ~(single & (lonely == "average"))  # R: NA, left out and made up for
    coef = np.where(census | ~ok, 0.0, scale)
    # nstrat / nokstrat per recursion group
    G = int(st.group.max()) + 1
    nstrat = np.bincount(st.group, weights=present.astype(float), minlength=G)
    nok = np.bincount(st.group, weights=(ok & present).astype(float), minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        gfac = nstrat / nok
    with np.errstate(invalid="ignore"):
        coef = np.where(present, coef * gfac[st.group], 0.0)
    a = coef[psu_stratum]
    if row_factor is not None:
        per_psu = np.zeros(P)
        per_psu[st.clusters] = row_factor  # constant within a PSU (its stage-1 stratum's n/N)
        a = a * per_psu
    Ta = T * np.sqrt(np.where(a > 0, a, 0.0))[:, None]
    v = Ta.T @ Ta
    if np.any(~np.isfinite(a)):
        v = v * np.nan
    return v


# ---------------------------------------------------------------------------- calibration


def calibrate(
    design: ClusterDesign,
    formula_columns: Sequence[str],
    population: Mapping[str, float],
    *,
    calfun: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    max_iter: int = 50,
    epsilon: float = 1e-7,
    trim: tuple[float, float] | None = None,
) -> ClusterDesign:
    """R ``calibrate(design, ~a + b, population, calfun=...)``: weights ``w g`` matching totals.

    The model matrix is R's ``model.matrix(~a + b)`` with treatment contrasts: an intercept,
    then for each column (categorical: one indicator per level except the first, sorted;
    numeric: the value).  ``population`` maps the column names R uses (``"(Intercept)"``,
    ``"schoolS01"``, ``"genderM"``, ``"age"``) to totals.  ``calfun``: ``"linear"`` (GREG, ``g = 1
    + x'lambda``, R's regcalibrate; no bounds), ``"raking"`` (``g = exp(x'lambda)``),
    ``"logit"`` (bounded, needs finite ``bounds``), solved by R's Newton iteration until every
    total misfit is below ``epsilon * (1 + |total|)``.  ``trim=(lo, up)`` then caps the g-weights
    and spreads the trimmed weight over the others in proportion to their weights (R's ``trim``;
    the totals then hold only approximately).  The calibrated design's SEs project the
    influence values on the calibration model (R's ``greg_calibration``).
    """
    if calfun not in CALFUNS:
        raise DesignError(f"calfun must be one of {CALFUNS}, got {calfun!r}")
    if calfun == "linear" and np.any(np.isfinite(bounds)):
        raise DesignError("bounded linear calibration is not implemented (use calfun='logit')")
    X, names = model_matrix(design.data, formula_columns)
    missing = [nm for nm in names if nm not in population]
    if missing:
        raise DesignError(f"calibrate: no population total for {missing} (columns {names})")
    T = np.array([float(population[nm]) for nm in names])
    w0 = design.weights
    g, iters = _grake(X, w0, T, calfun, bounds, max_iter, epsilon)
    if trim is not None:
        if calfun == "linear":
            raise DesignError("trim needs calfun='raking' or 'logit' (R ignores it for 'linear')")
        lo, up = trim
        trimmed = np.clip(g, lo, up)
        outside = (g < lo) | (g > up)
        if outside.any():  # R: the trimmed weight goes to the others in proportion to w0
            trimmed[~outside] += np.sum((g - trimmed) * w0) / np.sum(w0[~outside])
            g = trimmed
    whalf = np.sqrt(w0)
    q, r = np.linalg.qr(X * whalf[:, None])
    keep = np.abs(np.diag(r)) > 1e-7 * np.abs(np.diag(r)).max()
    cal = Calibration(q[:, keep], g * whalf, calfun, iters)
    return ClusterDesign(
        design.data,
        w0 * g,
        design.stages,
        design.lonely_psu,
        (*design.calibration, cal),
        design.description + f", calibrated ({calfun})",
    )


def model_matrix(data: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """R ``model.matrix(~ c1 + c2)``: intercept, numeric columns, treatment-coded factors."""
    cols = [np.ones(len(data))]
    names = ["(Intercept)"]
    for c in columns:
        if c not in data.columns:
            raise DesignError(f"column {c!r} not found")
        s = data[c]
        if s.isna().any():
            i = int(np.flatnonzero(s.isna().to_numpy())[0])
            raise DesignError(f"row {i + 1}, column {c!r}: missing value in a calibration variable")
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(s.to_numpy(dtype=float))
            names.append(c)
        else:
            lab = s.astype(str)
            for lv in sorted(lab.unique())[1:]:
                cols.append((lab == lv).to_numpy(dtype=float))
                names.append(f"{c}{lv}")
    return np.column_stack(cols), names


def _calfun(calfun: str, bounds: tuple[float, float]):
    lo, up = bounds
    if calfun == "linear":
        return (lambda u: u), (lambda u: np.ones_like(u))
    if calfun == "raking":
        return (lambda u: np.expm1(u)), (lambda u: np.exp(u))
    if not (np.isfinite(lo) and np.isfinite(up)) or not lo < 1 < up:
        raise DesignError("calfun='logit' needs finite bounds with lower < 1 < upper")
    a = (up - lo) / ((1 - lo) * (up - 1))

    def fm1(u):
        e = np.exp(a * u)
        return (lo * (up - 1) + up * (1 - lo) * e) / (up - 1 + (1 - lo) * e) - 1

    def df(u):  # R's cal.logit$dF, literally
        e = np.exp(a * u)
        num = lo * (up - 1) + up * (1 - lo) * e
        den = up - 1 + (1 - lo) * e
        return up * (1 - lo) * e * a / den - num * ((1 - lo) * e * a) / den**2

    return fm1, df


def _grake(
    X: np.ndarray,
    w: np.ndarray,
    T: np.ndarray,
    calfun: str,
    bounds: tuple[float, float],
    max_iter: int,
    epsilon: float,
) -> tuple[np.ndarray, int]:
    """g-weights solving ``sum w g x = T`` (R ``grake``/``regcalibrate``)."""
    fm1, dF = _calfun(calfun, bounds)
    sample_total = X.T @ w
    if calfun == "linear":
        lam = np.linalg.pinv(X.T @ (X * w[:, None])) @ (T - sample_total)
        return 1.0 + X @ lam, 1
    scales = T / sample_total
    rescale = float(np.mean(scales)) if np.min(scales) > 20 else 1.0  # R's SOMETHRESHOLD
    w = w * rescale
    sample_total = sample_total * rescale
    eta = np.zeros(X.shape[1])
    for it in range(1, max_iter + 1):
        xeta = X @ eta
        tmat = X.T @ (X * (w * dF(xeta))[:, None])
        misfit = T - sample_total - X.T @ (w * fm1(xeta))
        step = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        xeta = X @ eta
        while not np.all(np.isfinite(fm1(xeta))):  # R halves the step
            step = step / 2
            eta = eta - step
            xeta = X @ eta
        misfit = T - sample_total - X.T @ (w * fm1(xeta))
        if np.all(np.abs(misfit) / (1 + np.abs(T)) < epsilon):
            return (1.0 + fm1(xeta)) * rescale, it
    raise DesignError(f"calibration ({calfun}) did not converge in {max_iter} iterations")


# ---------------------------------------------------------------------------- replicates


@dataclass(frozen=True)
class ReplicateDesign:
    """Replicate-weight design (R ``svrepdesign``): ``replicates`` holds the analysis weights.

    Variance of an estimator ``theta``: ``scale * sum_r rscales_r (theta_r - c)^2`` with ``c``
    the mean of the replicates (``mse=False``, R's default) or the full-sample estimate
    (``mse=True``).  ``degf``: rank of the replicate weights minus 1 (R ``degf``).
    """

    data: pd.DataFrame
    weights: np.ndarray
    replicates: np.ndarray  # n x R analysis weights
    scale: float
    rscales: np.ndarray
    type: str
    mse: bool = False
    description: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kind(self) -> str:
        return "replicate"

    def degf(self, used: np.ndarray | None = None) -> int:
        """Rank of the replicate weights of the rows ``used`` minus 1 (R ``degf``).

        R recomputes it for a subset (``svyby``, ``na.rm=TRUE``), as here.
        """
        rows = np.ones(self.n, dtype=bool) if used is None else np.asarray(used, dtype=bool)
        key = ("degf", hash(rows.tobytes()))
        if key not in self._cache:
            self._cache[key] = _rank(self.replicates[rows]) - 1
        return self._cache[key]

    def replicate_variance(self, thetas: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """R ``svrVar``: thetas (R x k) -> k x k covariance."""
        th = np.asarray(thetas, dtype=float).reshape(self.replicates.shape[1], -1)
        rscales = self.rscales
        ok = np.all(np.isfinite(th), axis=1)  # R: replicates giving NA are discarded
        if not ok.all():
            th, rscales = th[ok], rscales[ok]
        centre = (
            np.asarray(estimate, dtype=float).reshape(-1)
            if self.mse
            else th[rscales > 0].mean(axis=0)
        )
        d = (th - centre) * np.sqrt(rscales)[:, None]
        return self.scale * (d.T @ d)

    @classmethod
    def from_weights(
        cls,
        df: pd.DataFrame,
        replicate_weights: np.ndarray | pd.DataFrame,
        *,
        weight: str | np.ndarray,
        scale: float,
        rscales: Sequence[float] | np.ndarray | None = None,
        type: str = "bootstrap",
        mse: bool = False,
    ) -> ReplicateDesign:
        """Replicate analysis weights given (R ``svrepdesign(repweights=, combined.weights=TRUE)``).

        E.g. R's ``weights(as.svrepdesign(d, type="bootstrap"), "analysis")`` with that design's
        ``scale`` and ``rscales``.
        """
        data = df.reset_index(drop=True)
        rw = np.asarray(replicate_weights, dtype=float)
        if rw.ndim != 2 or rw.shape[0] != len(data):
            raise DesignError(
                f"replicate weights must have one row per respondent ({len(data)}), "
                f"got shape {rw.shape}"
            )
        bad = ~np.isfinite(rw) | (rw < 0)
        if bad.any():
            i, j = (int(v[0]) for v in np.nonzero(bad))
            raise DesignError(f"replicate weights: row {i + 1}, replicate {j + 1}: {rw[i, j]!r}")
        w = (
            data[weight].to_numpy(dtype=float)
            if isinstance(weight, str)
            else np.asarray(weight, dtype=float)
        )
        rs = np.ones(rw.shape[1]) if rscales is None else np.asarray(rscales, dtype=float)
        return cls(data, w, rw, float(scale), rs, type, mse, f"replicate weights ({type})")


def _rank(a: np.ndarray) -> int:
    """Numerical rank (pivoted QR, as R's ``qr(tol=1e-5)$rank``) of replicate weights.

    Rows that are multiples of each other (the respondents of one PSU: the same replicate
    pattern times their weight) are reduced to one first, which keeps the QR small.
    """
    if a.size == 0:
        return 0
    scale = np.abs(a).max(axis=1, keepdims=True)
    pattern = a[scale[:, 0] > 0] / scale[scale[:, 0] > 0]
    if pattern.size == 0:
        return 0
    pattern = np.unique(np.round(pattern, 12), axis=0)
    r = linalg.qr(pattern.T, mode="r", pivoting=True)[0]
    d = np.abs(np.diag(r))
    return int(np.sum(d > 1e-5 * d[0])) if d.size else 0


def jackknife(design: ClusterDesign, *, mse: bool = False) -> ReplicateDesign:
    """Delete-one-PSU jackknife of a design (R ``as.svrepdesign(design, type="JK1"/"JKn")``).

    Unstratified design: JK1, ``w_r = w n/(n-1)`` outside the deleted PSU, ``scale = f (n-1)/n``
    (``f = 1 - n/N`` with an fpc, else 1).  Stratified: JKn, one replicate per PSU, only the
    deleted PSU's stratum reweighted, ``rscales_r = f_h (n_h-1)/n_h``; lonely PSUs and census
    strata as R's ``jknweights`` (``lonely_psu`` of the design).  Fpc after the first stage and
    calibration are not carried over (R drops them too, with a warning, for later stages).
    """
    st = design.stages[0]
    w = design.weights
    H = st.n_psu.size
    P = int(st.clusters.max()) + 1
    psu_stratum = np.zeros(P, dtype=np.int64)
    psu_stratum[st.clusters] = st.strata
    f = (
        np.ones(H)
        if st.popsize is None
        else np.where(np.isinf(st.popsize), 1.0, (st.popsize - st.n_psu) / st.popsize)
    )
    if H == 1:
        n = st.n_psu[0]
        rep = np.repeat((w * n / (n - 1))[:, None], P, axis=1)
        rep[np.arange(design.n), st.clusters] = 0.0
        return ReplicateDesign(
            design.data,
            w,
            rep,
            float(f[0] * (n - 1) / n),
            np.ones(P),
            "JK1",
            mse,
            "jackknife JK1",
        )
    cols, rsc = [], []
    for h in range(H):
        psus = np.flatnonzero(psu_stratum == h)
        nh = psus.size
        in_h = st.strata == h
        if f[h] == 0:
            continue  # census stratum: no replicate (R survey.drop.replicates)
        if nh == 1:
            if design.lonely_psu == "fail":
                raise LonelyPSUError(f"Stratum {st.stratum_labels[h]} has only one PSU")
            if design.lonely_psu == "adjust":
                cols.append(np.where(in_h, 0.0, H / (H - 1)))
                rsc.append((H - 1) / H)
            continue
        for p in psus:
            col = np.ones(design.n)
            col[in_h] = nh / (nh - 1)
            col[st.clusters == p] = 0.0
            cols.append(col)
            rsc.append(f[h] * (nh - 1) / nh)
    if not cols:
        raise DesignError("all strata were exhaustively sampled: no replicates")
    scale = 1.0
    if len(cols) < P and design.lonely_psu == "average":
        scale = P / len(cols)
    rep = np.column_stack(cols) * w[:, None]
    return ReplicateDesign(design.data, w, rep, scale, np.array(rsc), "JKn", mse, "jackknife JKn")


def bootstrap(
    design: ClusterDesign, replicates: int = 50, *, seed: int, mse: bool = False
) -> ReplicateDesign:
    """Rao-Wu bootstrap replicate weights (the algorithm of R ``as.svrepdesign(type="bootstrap")``).

    In every stratum the ``n_h`` sampled PSUs are drawn ``n_h`` times with replacement (with a
    first-stage fpc: drawn without replacement from the PSUs repeated up to ``N_h``, as R's
    ``bootstratum``); a replicate weight is the design weight times the number of draws of the
    respondent's PSU.  ``scale = m / ((m - 1) (R - 1))`` with ``m`` the harmonic mean of the PSUs
    per stratum, ``rscales = 1``.  numpy's generator (``seed``) cannot give R's draws: to
    reproduce an R analysis, import its weights with :meth:`ReplicateDesign.from_weights`.
    """
    if replicates < 2:
        raise DesignError("bootstrap needs at least 2 replicates")
    rng = np.random.default_rng(seed)
    st = design.stages[0]
    H = st.n_psu.size
    P = int(st.clusters.max()) + 1
    psu_stratum = np.zeros(P, dtype=np.int64)
    psu_stratum[st.clusters] = st.strata
    counts = np.zeros((P, replicates))
    for h in range(H):
        psus = np.flatnonzero(psu_stratum == h)
        nh = psus.size
        if st.popsize is None or not np.isfinite(st.popsize[h]):
            draws = rng.integers(0, nh, size=(replicates, nh))
        else:
            pseudo = np.resize(rng.permutation(nh), int(st.popsize[h]))
            draws = np.stack([rng.choice(pseudo, nh, replace=False) for _ in range(replicates)])
        flat = (np.arange(replicates)[:, None] * nh + draws).ravel()
        counts[psus] = np.bincount(flat, minlength=replicates * nh).reshape(replicates, nh).T
    m = 1.0 / np.mean(1.0 / st.n_psu)
    scale = m / ((m - 1) * (replicates - 1))
    rep = counts[st.clusters] * design.weights[:, None]
    return ReplicateDesign(
        design.data,
        design.weights,
        rep,
        float(scale),
        np.ones(replicates),
        "bootstrap",
        mse,
        f"bootstrap ({replicates} replicates, seed {seed})",
    )
