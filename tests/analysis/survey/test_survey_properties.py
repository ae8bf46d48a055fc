"""Invariants of the linearization estimator (Hypothesis) and failure handling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.survey.design import SurveyDesign, mean, proportion

rows = st.integers(min_value=3, max_value=60)


@settings(max_examples=40, deadline=None)
@given(n=rows, seed=st.integers(0, 10_000), scale=st.floats(0.1, 50.0))
def test_every_row_used_or_dropped_and_weight_scale_invariance(n, seed, scale):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    y[rng.random(n) < 0.2] = np.nan
    df = pd.DataFrame({"y": y, "w": rng.uniform(0.5, 5, n), "s": rng.choice(["a", "b", "c"], n)})
    d = SurveyDesign.from_frame(df, "weights", weight="w")
    ok = ~np.isnan(y)
    r = proportion(d, "y", ci_method="wald").iloc[0]
    assert r["n"] == ok.sum()  # every answered row used, missing ones dropped
    if ok.sum() == 0:
        return
    assert r["estimate"] == pytest.approx(np.average(y[ok], weights=df.w[ok]))
    by = proportion(d, "y", by="s")
    assert by["n"].sum() == ok.sum()
    d2 = SurveyDesign.from_frame(df.assign(w=df.w * scale), "weights", weight="w")
    r2 = proportion(d2, "y", ci_method="wald").iloc[0]
    assert r2["estimate"] == pytest.approx(r["estimate"], rel=1e-9, abs=1e-12)
    assert r2["se"] == pytest.approx(r["se"], rel=1e-9, abs=1e-12)
    if ok.sum() > 1:
        # with-replacement SE of a weighted mean by hand, R's na.rm convention: rows with a
        # missing answer stay in the variance with influence 0 (full-sample n)
        w = df.w.to_numpy()
        p = np.average(y[ok], weights=w[ok])
        z = np.where(ok, w * (np.nan_to_num(y) - p) / w[ok].sum(), 0.0)
        se_hand = np.sqrt(n / (n - 1) * np.sum((z - z.mean()) ** 2))
        assert r["se"] == pytest.approx(se_hand, rel=1e-9, abs=1e-12)


def test_census_stratum_has_no_sampling_variance():
    df = pd.DataFrame({"s": ["a"] * 4 + ["b"] * 3, "y": [1, 2, 3, 4, 5, 6, 9.0]})
    df["w"] = 1.0
    d = SurveyDesign.from_frame(
        df, "stratified", strata="s", weight="w", population={"a": 4, "b": 3}
    )
    r = mean(d, "y", by="s")
    assert np.allclose(r["se"], 0.0)


def test_model_failure_becomes_a_note(monkeypatch):
    from analysis.survey import study
    from analysis.survey.engine import EngineError

    from .conftest import VARIABLES, synthetic_responses
    from .test_survey_study import _config

    def boom(*a, **k):
        raise EngineError("did not converge")

    monkeypatch.setattr(study, "logistic_regression", boom)
    resp, enr = synthetic_responses(n=300)
    tables, _ = study.survey_result_tables(resp, enr, _config(), VARIABLES)
    model = next(t for t in tables if t.id == "models.intends_abroad")
    assert model.estimates == () and "not estimable" in model.notes[0]
