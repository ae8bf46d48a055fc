"""Design-based logistic regression (R ``svyglm(family = quasibinomial())``).

Fitted by :mod:`analysis.survey.glm` (IRLS and the sandwich variance in numpy, calibration
carried into the variance as R does on a ``postStratify``/``rake`` design); the svy engine
(:func:`analysis.survey.engine.logistic_regression`) remains as a cross-check in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey import separation
from analysis.survey.design import SurveyDesign
from analysis.survey.glm import GLM_EPSILON, GLM_MAXIT, fit_logistic


def logistic_regression(
    design: SurveyDesign,
    outcome: str,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, str] | None = None,
    *,
    ci_level: float = 0.95,
    min_base: int | None = None,
    epsilon: float = GLM_EPSILON,
    maxit: int = GLM_MAXIT,
) -> pd.DataFrame:
    """Odds ratios of a design-based logistic model of the 0/1 ``outcome``.

    ``categorical`` maps each categorical regressor to its reference level (always explicit).
    Base: respondents with the outcome and every regressor answered (others dropped, ``n``).
    Coefficients are log-odds (``coefficient``, ``se``: sandwich/linearization SE as svyglm,
    ``t``, ``p_value`` from t with df = degf + 1 - p as svyglm; a calibrated design's
    calibration is carried into the SEs); ``odds_ratio = exp(coefficient)``
    with ``ci_low``/``ci_high = exp(coefficient +- t(df) se)``.  The intercept row's
    ``odds_ratio`` is the baseline odds.  ``epsilon``/``maxit``: R's ``glm.control`` (default
    1e-14 / 100: the maximum of the likelihood; R's own default 1e-8 / 25 is reproduced too).

    Terms that cannot be published (:mod:`analysis.survey.separation`): levels below
    ``min_base`` respondents are merged or left out before the fit; after it, a term with
    separation, an unstable or singular estimate has its numbers removed and its reason in
    ``not_estimable``; the notes on merged / left-out levels are in ``out.attrs["notes"]``.
    """
    prep = separation.prepare_model_data(
        design.data, outcome, numeric, dict(categorical or {}), min_base
    )
    design = design.with_data(**prep.recoded) if prep.recoded else design
    categorical, numeric = dict(prep.categorical), prep.numeric
    out = fit_logistic(
        design.data,
        design.arrays,
        outcome,
        list(numeric),
        categorical,
        epsilon=epsilon,
        maxit=maxit,
    ).table()
    q = stats.t.ppf(0.5 + ci_level / 2, out["df"].to_numpy(dtype=float))
    b = out["coefficient"].to_numpy(dtype=float)
    se = out["se"].to_numpy(dtype=float)
    out["odds_ratio"] = np.exp(b)
    out["ci_low"] = np.exp(b - q * se)
    out["ci_high"] = np.exp(b + q * se)
    out["coef_ci_low"] = b - q * se
    out["coef_ci_high"] = b + q * se
    out["ci_method"] = "t"
    reasons = separation.non_estimable_terms(design.data, outcome, numeric, categorical, out)
    out = separation.blank_non_estimable(out, reasons, prep)
    out.insert(0, "outcome", outcome)
    out.attrs["notes"] = prep.notes
    return out
