"""Design-based survey statistics equal to R's ``survey`` package.

Public API (see docs/survey-statistics.md):

* :class:`SurveyDesign` (``SurveyDesign.from_frame``) and the estimate functions
  :func:`proportion`, :func:`distribution`, :func:`mean`, :func:`total`,
  :func:`estimate_many`, :func:`standard_deviation`, :func:`binomial_proportion`;
* comparisons :func:`difference`, :func:`rao_scott`, :func:`bh_adjust`;
* :func:`logistic_regression`;
* scales :func:`likert_summary`, :func:`cronbach_alpha`, :func:`multiselect_shares`;
* weighting :func:`poststratify`, :func:`rake`, :func:`trim_and_recalibrate`,
  :func:`weight_diagnostics`, :func:`kish_n_eff`, :func:`weighting_deff`;
* the pipeline entry point :func:`analysis.survey.study.survey_result_tables`.

Importing this package does not import svy/polars (only comparisons and models load the
engine, on first use).
"""

from analysis.survey.compare import bh_adjust, difference, rao_scott
from analysis.survey.design import (
    DesignError,
    SurveyDesign,
    binomial_proportion,
    distribution,
    estimate_many,
    mean,
    proportion,
    standard_deviation,
    total,
)
from analysis.survey.models import logistic_regression
from analysis.survey.scales import cronbach_alpha, likert_summary, multiselect_shares
from analysis.survey.weighting import (
    WeightingError,
    WeightingResult,
    kish_n_eff,
    poststratify,
    rake,
    trim_and_recalibrate,
    weight_diagnostics,
    weighting_deff,
)

__all__ = [
    "DesignError",
    "SurveyDesign",
    "WeightingError",
    "WeightingResult",
    "bh_adjust",
    "binomial_proportion",
    "cronbach_alpha",
    "difference",
    "distribution",
    "estimate_many",
    "kish_n_eff",
    "likert_summary",
    "logistic_regression",
    "mean",
    "multiselect_shares",
    "poststratify",
    "proportion",
    "rake",
    "rao_scott",
    "standard_deviation",
    "total",
    "trim_and_recalibrate",
    "weight_diagnostics",
    "weighting_deff",
]
