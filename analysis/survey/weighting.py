"""Survey weights from enrolment: post-stratification, raking, trimming, diagnostics.

* :func:`poststratify` - ``w_i = w0_i * N_c / sum_{c} w0`` in each cell ``c`` (R
  ``postStratify``); a cell with population but no respondent cannot be weighted and raises.
* :func:`rake` - iterative proportional fitting to several margins, as R ``rake()``: each
  sweep post-stratifies to every margin in turn; it stops when the largest change of a sweep
  in the weighted cross-table of all margin variables is below ``tol * sum(w0)`` (R's
  ``epsilon < 1``; R's default ``epsilon = 1`` is ``tol = 1 / sum(w0)``) and reports the
  sweeps and the last change.  Not converging within ``max_iter`` sweeps is reported (``converged=False``).
* :func:`trim_and_recalibrate` - caps weights at ``max_ratio x median`` and re-calibrates,
  repeated until no weight exceeds the cap after calibration (or ``max_rounds``).
* :func:`weight_diagnostics` - per group: population, respondents, sum of weights, Kish
  effective sample size ``(sum w)^2 / sum w^2`` and the design effect due to weighting
  ``1 + cv^2 = n sum w^2 / (sum w)^2``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class WeightingError(ValueError):
    """Weights cannot be computed (the message names the cell / margin)."""


@dataclass(frozen=True)
class WeightingResult:
    """Calibrated weights (aligned with the input rows) and how they were obtained."""

    weights: np.ndarray
    method: str  # "poststratify" | "rake" | "none"
    iterations: int = 0
    max_change: float = 0.0
    converged: bool = True
    trimmed: int = 0
    trim_rounds: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # for the calibrated variance (SurveyDesign.from_frame(calibration=...)): the weights
    # before calibration, and for raking the weights after each margin's step of the last sweep
    base_weights: np.ndarray | None = field(default=None, repr=False, compare=False)
    margin_weights: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)

    def summary(self) -> dict[str, object]:
        return {
            "method": self.method,
            "iterations": self.iterations,
            "max_change": self.max_change,
            "converged": self.converged,
            "trimmed": self.trimmed,
            "trim_rounds": self.trim_rounds,
            "n": int(self.weights.size),
            "sum_weights": float(self.weights.sum()),
            "kish_n_eff": kish_n_eff(self.weights),
            "deff_w": weighting_deff(self.weights),
        }


def kish_n_eff(w: np.ndarray) -> float:
    """Kish effective sample size ``(sum w)^2 / sum w^2``."""
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else float("nan")


def weighting_deff(w: np.ndarray) -> float:
    """Design effect due to unequal weights ``1 + cv^2 = n sum w^2 / (sum w)^2`` (Kish)."""
    w = np.asarray(w, dtype=float)
    return float(w.size * np.sum(w**2) / w.sum() ** 2) if w.size else float("nan")


def _cell_codes(frame: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, list[tuple]]:
    keys = frame[list(cols)].astype(str)
    grouped = keys.groupby(list(cols), sort=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    labels = [k if isinstance(k, tuple) else (k,) for k in grouped.size().index]
    return codes, labels


def _base(frame: pd.DataFrame, base_weight: str | np.ndarray | None) -> np.ndarray:
    if base_weight is None:
        return np.ones(len(frame))
    if isinstance(base_weight, str):
        return frame[base_weight].to_numpy(dtype=float).copy()
    return np.asarray(base_weight, dtype=float).copy()


def poststratify(
    frame: pd.DataFrame,
    population: Mapping[tuple | str, float],
    cells: Sequence[str],
    base_weight: str | np.ndarray | None = None,
) -> WeightingResult:
    """Post-stratify to population cell totals.

    ``population`` maps a cell key (a tuple of the ``cells`` values as strings, or a plain
    string for one cell column) to its population.  Every respondent's cell must have a
    population; a population cell without respondents raises (collapse cells first).
    """
    w0 = _base(frame, base_weight)
    codes, labels = _cell_codes(frame, cells)
    pop = {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in population.items()}
    missing = [lab for lab in labels if lab not in pop]
    if missing:
        raise WeightingError(f"post-stratification cells {cells}: no population for {missing[:5]}")
    empty = [k for k, v in pop.items() if v > 0 and k not in set(labels)]
    if empty:
        raise WeightingError(
            f"post-stratification cells {cells}: population but no respondent in {empty[:5]}"
        )
    target = np.array([pop[lab] for lab in labels])
    sums = np.bincount(codes, weights=w0, minlength=len(labels))
    w = w0 * (target / sums)[codes]
    return WeightingResult(
        weights=w, method="poststratify", iterations=1, converged=True, base_weights=w0
    )


def rake(
    frame: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    base_weight: str | np.ndarray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> WeightingResult:
    """Rake (IPF) to the population totals of several margins.

    ``margins`` maps a column to {level (as string): population total}.  Every observed level
    needs a total, and every level with a positive total needs respondents.  Totals of the
    margins should agree (they are used as given).  Convergence (as R): largest absolute
    change within one sweep of the weighted table crossing all margin variables
    ``< tol * sum(base weights)``; ``max_change`` reports that last change.
    """
    w0 = _base(frame, base_weight)
    codes, targets = [], []
    for col, totals in margins.items():
        c, labels = _cell_codes(frame, [col])
        lab = [x[0] for x in labels]
        tot = {str(k): float(v) for k, v in totals.items()}
        missing = [x for x in lab if x not in tot]
        if missing:
            raise WeightingError(f"raking margin {col!r}: no population total for {missing}")
        empty = [k for k, v in tot.items() if v > 0 and k not in set(lab)]
        if empty:
            raise WeightingError(f"raking margin {col!r}: no respondent for level(s) {empty}")
        codes.append(c)
        targets.append(np.array([tot[x] for x in lab]))
    eps = tol * w0.sum()
    joint, joint_labels = _cell_codes(frame, list(margins))
    n_joint = len(joint_labels)
    w = w0.copy()
    old_table = np.bincount(joint, weights=w, minlength=n_joint)
    change = float("inf")
    it = 0
    steps: list[np.ndarray] = []
    while it < max_iter:
        steps = []
        for c, t in zip(codes, targets, strict=True):
            sums = np.bincount(c, weights=w, minlength=t.size)
            w = w * (t / sums)[c]
            steps.append(w)
        table = np.bincount(joint, weights=w, minlength=n_joint)
        change = float(np.max(np.abs(table - old_table)))
        old_table = table
        it += 1
        if change < eps:
            break
    converged = bool(change < eps)
    notes = () if converged else (f"raking did not converge in {max_iter} sweeps",)
    return WeightingResult(
        weights=w,
        method="rake",
        iterations=it,
        max_change=change,
        converged=converged,
        notes=notes,
        base_weights=w0,
        margin_weights=tuple(steps),
    )


def trim_and_recalibrate(
    result: WeightingResult,
    calibrate: Callable[[np.ndarray], WeightingResult],
    max_ratio: float,
    *,
    max_rounds: int = 20,
) -> WeightingResult:
    """Cap weights at ``max_ratio x median`` then re-calibrate (``calibrate(start_weights)``).

    Repeats until no weight exceeds the cap (recomputed from the new median) or ``max_rounds``;
    the result's ``trimmed`` counts the weights capped in the first round.  The cap is a
    ratio > 1 to the median weight.
    """
    if max_ratio <= 1:
        raise WeightingError(f"trim ratio must be > 1, got {max_ratio}")
    w = result.weights
    first = None
    rounds = 0
    current = result
    tol = 1e-9
    while rounds < max_rounds:
        cap = max_ratio * float(np.median(w))
        over = w > cap * (1 + tol)
        if not over.any():
            break
        if first is None:
            first = int(over.sum())
        rounds += 1
        current = calibrate(np.minimum(w, cap))
        w = current.weights
    cap = max_ratio * float(np.median(w))
    notes = list(current.notes)
    if np.any(w > cap * (1 + 1e-6)):
        notes.append(
            f"after {rounds} trimming rounds {int(np.sum(w > cap * (1 + 1e-6)))} weights still "
            f"exceed {max_ratio} x median (calibration pulls them back)"
        )
    return WeightingResult(
        weights=w,
        method=current.method,
        iterations=current.iterations,
        max_change=current.max_change,
        converged=current.converged,
        trimmed=first or 0,
        trim_rounds=rounds,
        notes=tuple(notes),
        base_weights=current.base_weights,
        margin_weights=current.margin_weights,
    )


def weight_diagnostics(
    frame: pd.DataFrame,
    weights: np.ndarray,
    by: Sequence[str],
    population: Mapping[tuple, float] | None = None,
) -> pd.DataFrame:
    """Tidy diagnostics per group ``by``: population, respondents, sum_weights, ratio,
    kish_n_eff, deff_w, min/max weight.  ``population`` maps group keys (tuples of strings)
    to their population; missing groups get NaN."""
    tmp = frame[list(by)].astype(str).assign(_w=np.asarray(weights, dtype=float))
    rows = []
    for key, g in tmp.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        w = g["_w"].to_numpy()
        pop = float(population.get(key, np.nan)) if population is not None else np.nan
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "population": pop,
                "respondents": int(w.size),
                "sum_weights": float(w.sum()),
                "weights_to_population": float(w.sum() / pop) if pop and pop > 0 else np.nan,
                "kish_n_eff": kish_n_eff(w),
                "deff_w": weighting_deff(w),
                "min_weight": float(w.min()),
                "max_weight": float(w.max()),
            }
        )
    return pd.DataFrame(rows)
