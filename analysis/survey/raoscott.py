"""Rao-Scott second-order F test of independence for a two-way table (R ``svychisq``).

The algorithm of R ``survey``'s ``svychisq.survey.design(statistic="F")``, vectorised over the
project's own :class:`analysis.survey.design.SurveyDesign` (no svy/polars):

* ``mean2``: the weighted shares of the ``nr * nc`` cells of ``row`` x ``col`` (R: ``svymean``
  of the interaction indicators, ``na.rm=TRUE``), and their linearised covariance ``V``
  (k x k, k = nr * nc) with the design's strata, fpc and lonely-PSU rule ("adjust") - the same
  variance formula as :mod:`analysis.survey.linearization`, built from per (stratum, cell)
  sums (``np.bincount``: O(n) + O(H k^2), no n x k matrix);
* ``Cmat``: the interaction columns of the full ``nr x nc`` model matrix, residualised on the
  main effects (R ``qr.resid(qr(X1), X12[, -(1:(nr+nc-1))])``);
* ``Delta = solve(C' D^-1 C / N, C' D^-1 V D^-1 C)`` with ``D = diag(mean2)`` (``1/0 -> 0``);
* ``F = X2 / tr(Delta)``, ``ndf = tr(Delta)^2 / tr(Delta^2)``, ``ddf = ndf * degf``, where
  ``X2`` is Pearson's statistic of the weighted table rescaled to ``N`` respondents.

Respondents missing either variable (NaN, None or a blank string) stay in the design with zero
contribution, as R's ``na.rm``: the strata keep their full-sample sizes (fpc, lonely PSUs) and
``degf`` is that of the whole design (R: ``nu`` of ``svychisq``).  Only levels observed among the
respondents answering both variables form the table.  Two deliberate differences from R, both
only with missing answers: ``N`` is the number of respondents in the table (R uses all rows of
the design, so R's ``X2`` and ``tr(Delta)`` are both larger by n_design / n_used; F is the
same); a level seen only next to a missing answer is left out (R keeps an all-zero cell column
in ``Delta``, which adds ``nr - 1`` spurious eigenvalues and changes F).  The svy engine (:func:`analysis.survey.engine.rao_scott`) instead drops the
incomplete rows from the design (smaller strata and degf); on complete data the two agree to
about 1e-12 (see tests/analysis/survey/test_raoscott.py).

Calibrated weights (a design with ``calibrated_on``): the cell-share influence values are
projected on the calibration cells before ``V`` is formed, as R's ``svychisq`` on a
``postStratify``/``rake`` design (:func:`calibrated_cell_share_covariance`; an n x k matrix,
so slower than the per-cell sums of the fixed-weight path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.linearization import DesignArrays, influence_covariance


class RaoScottError(DesignError):
    """The test cannot be computed (a variable with fewer than two levels); a ValueError."""


@dataclass(frozen=True)
class RaoScottTest:
    """Rao-Scott second-order corrected F test of ``row`` x ``col`` (R ``svychisq``, "F").

    ``chisq`` is Pearson's X2 of the weighted table rescaled to ``n``; ``chisq_p_value`` the
    first-order correction (``X2 / mean eigenvalue of Delta = F * chisq_df ~ chi2``, R
    ``statistic="Chisq"``); ``uncorrected_p_value`` ``X2 ~ chi2(chisq_df)`` (Pearson's test,
    valid only for the unweighted design); ``n`` the respondents answering both variables.
    """

    f: float
    ndf: float
    ddf: float
    p_value: float
    chisq: float
    chisq_df: float
    chisq_p_value: float
    trace_delta: float
    uncorrected_p_value: float
    n: int
    row_levels: tuple[str, ...]
    col_levels: tuple[str, ...]

    @classmethod
    def from_statistics(
        cls,
        f: float,
        ndf: float,
        ddf: float,
        chisq: float,
        chisq_df: float,
        trace_delta: float,
        n: int,
        row_levels: tuple[str, ...],
        col_levels: tuple[str, ...],
    ) -> RaoScottTest:
        """The test from its statistics; the p-values with scipy (svy's own tails lose
        relative precision below 1e-10)."""
        return cls(
            f=f,
            ndf=ndf,
            ddf=ddf,
            p_value=float(stats.f.sf(f, ndf, ddf)),
            chisq=chisq,
            chisq_df=chisq_df,
            chisq_p_value=float(stats.chi2.sf(f * chisq_df, chisq_df)),
            trace_delta=trace_delta,
            uncorrected_p_value=float(stats.chi2.sf(chisq, chisq_df)),
            n=n,
            row_levels=row_levels,
            col_levels=col_levels,
        )


def _label_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer level codes (-1: missing) and the sorted string labels of a column.

    A level is the ``str`` of a value; NaN/None/NA and blank strings are missing (the labels of
    the svy adapter).  Labels are computed once per distinct value (``pd.factorize``), not per
    row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels: list[str | None] = []
    for v in uniques:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            labels.append(None)
            continue
        txt = str(v)
        labels.append(txt if txt.strip() else None)
    levels = sorted({t for t in labels if t is not None})
    pos = {t: i for i, t in enumerate(levels)}
    to_level = np.array([-1 if t is None else pos[t] for t in labels] + [-1], dtype=np.int64)
    return to_level[codes], levels  # code -1 (missing) picks the trailing -1


def _observed(codes: np.ndarray, levels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes renumbered over the levels that occur (others -> -1)."""
    seen = np.bincount(codes[codes >= 0], minlength=len(levels)) > 0
    new = np.full(len(levels) + 1, -1, dtype=np.int64)
    new[np.flatnonzero(seen)] = np.arange(int(seen.sum()))
    return new[codes], [lv for lv, k in zip(levels, seen, strict=True) if k]


def cell_share_covariance(
    cell: np.ndarray, k: int, design: DesignArrays
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted cell shares ``p`` (length k) and their linearised covariance (k x k).

    ``cell`` holds 0..k-1 per respondent, -1 for respondents outside the table (zero
    contribution; strata sizes stay those of the full sample).  The influence value of
    respondent i for share a is ``z_ia = w_i (1[cell_i = a] - p_a) / W`` (0 outside); the
    covariance is ``sum_h c_h sum_{i in h} (z_i - zbar_h)(z_i - zbar_h)'`` with ``c_h = (1 - f_h)
    n_h / (n_h - 1)``, and for a stratum of one respondent ``(1 - f_h) (z_h - zbar)(z_h -
    zbar)'`` with ``zbar = 0`` (R ``lonely.psu = "adjust"``: the lone unit is not centred), as
    :func:`analysis.survey.linearization._variance_from_sums` does for one variable.
    """
    H = design.n_strata
    inside = cell >= 0
    idx = design.strata[inside] * k + cell[inside]
    w = design.weights[inside]
    b = np.bincount(idx, weights=w, minlength=H * k).reshape(H, k)  # sum w per (h, cell)
    a = np.bincount(idx, weights=w * w, minlength=H * k).reshape(H, k)  # sum w^2
    total = b.sum()
    p = b.sum(axis=0) / total
    # sums over stratum h of z (s1, H x k) and of z z' (s2, H x k x k), expanded in p:
    # sum_i w_i^2 (y_ia - p_a)(y_ib - p_b) = diag(A_h) - A_h p' - p A_h' + (sum A_h) p p'
    s1 = (b - b.sum(axis=1)[:, None] * p[None, :]) / total
    ap = a[:, :, None] * p[None, None, :]
    s2 = -ap - ap.transpose(0, 2, 1)
    s2 += a.sum(axis=1)[:, None, None] * np.outer(p, p)[None, :, :]
    diag = np.arange(k)
    s2[:, diag, diag] += a
    s2 /= total**2
    n_h = design.n_h
    single = n_h == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        c_h = np.where(single, 1.0, n_h / (n_h - 1.0)) * (1.0 - design.fpc_fraction)
        dev = s2 - s1[:, :, None] * s1[:, None, :] / n_h[:, None, None]
    if single.any():  # lonely PSU "adjust": the lone unit is not centred (survey:::onestrat)
        e = s1[single]
        dev[single] = e[:, :, None] * e[:, None, :]
    terms = c_h[:, None, None] * dev
    cov = np.where(np.isfinite(terms), terms, 0.0).sum(axis=0)
    return p, cov


def calibrated_cell_share_covariance(
    cell: np.ndarray, k: int, design: DesignArrays
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cell_share_covariance` for calibrated weights (R: ``svymean`` of the cell
    indicators on the ``postStratify``/``rake`` design): the n x k influence matrix is projected
    on the calibration cells before the stratified covariance (respondents outside the table
    have zero influence before the projection, as R's ``na.rm``)."""
    inside = cell >= 0
    w = np.where(inside, design.weights, 0.0)
    total = w.sum()
    p = np.bincount(cell[inside], weights=w[inside], minlength=k) / total
    z = np.zeros((design.n, k))
    rows = np.flatnonzero(inside)
    z[rows, cell[rows]] = 1.0
    z[rows] -= p[None, :]
    z *= (w / total)[:, None]
    return p, influence_covariance(z, design)


def _interaction_contrasts(nr: int, nc: int) -> np.ndarray:
    """R's ``Cmat``: interaction columns residualised on the main effects.

    Cells are ordered with the row level varying fastest (R ``expand.grid(rows, cols)``).
    """
    r = np.tile(np.arange(nr), nc)
    c = np.repeat(np.arange(nc), nr)
    row_d = (r[:, None] == np.arange(1, nr)[None, :]).astype(float)
    col_d = (c[:, None] == np.arange(1, nc)[None, :]).astype(float)
    x1 = np.column_stack([np.ones(nr * nc), row_d, col_d])
    x_int = (row_d[:, :, None] * col_d[:, None, :]).reshape(nr * nc, -1)
    q, _ = np.linalg.qr(x1)
    return x_int - q @ (q.T @ x_int)


def rao_scott_test(design: SurveyDesign, row: str, col: str) -> RaoScottTest:
    """Rao-Scott second-order F test of independence of ``row`` and ``col`` (see module doc).

    Raises :class:`RaoScottError` (a ``ValueError``) when a variable has fewer than two levels
    among the respondents answering both.
    """
    for v in (row, col):
        if v not in design.data.columns:
            raise DesignError(f"variable {v!r} not found")
    rc, rlev = _label_codes(design.data[row])
    cc, clev = _label_codes(design.data[col])
    both = (rc >= 0) & (cc >= 0)
    n_used = int(both.sum())
    rc, rlev = _observed(np.where(both, rc, -1), rlev)
    cc, clev = _observed(np.where(both, cc, -1), clev)
    nr, nc = len(rlev), len(clev)
    if nr < 2 or nc < 2:
        few = [f"{v!r} has {lv}" for v, lv in ((row, rlev), (col, clev)) if len(lv) < 2]
        raise RaoScottError(
            f"Rao-Scott {row} x {col}: needs at least 2 levels per variable among the "
            f"{n_used} respondents answering both; {', '.join(few)}"
        )
    k = nr * nc
    cell = np.where(both, rc + nr * cc, -1)
    if design.arrays.calibration:
        p, v = calibrated_cell_share_covariance(cell, k, design.arrays)
    else:
        p, v = cell_share_covariance(cell, k, design.arrays)

    cmat = _interaction_contrasts(nr, nc)
    inv_p = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    ic = inv_p[:, None] * cmat  # D^-1 C
    denom = cmat.T @ ic / n_used
    numr = ic.T @ v @ ic
    if np.linalg.matrix_rank(denom) == denom.shape[0]:
        delta = np.linalg.solve(denom, numr)
    else:
        # empty cells can leave fewer non-empty cells than contrasts (e.g. a diagonal table):
        # R's solve() fails; the Moore-Penrose inverse keeps the estimable part (as svy)
        delta = np.linalg.pinv(denom) @ numr
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.sum(delta * delta.T))  # tr(Delta %*% Delta)

    table = p.reshape(nc, nr).T * n_used  # weighted table scaled to n (rows x cols)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n_used
    x2 = float(np.sum((table - expected) ** 2 / expected))
    df = float((nr - 1) * (nc - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        fval = x2 / tr
    return RaoScottTest.from_statistics(
        fval, d0, d0 * design.degf, x2, df, tr, n_used, tuple(rlev), tuple(clev)
    )
