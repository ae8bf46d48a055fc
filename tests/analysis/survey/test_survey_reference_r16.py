"""Issue 16 against R: calibrated designs, df with missing answers, lonely-PSU totals, raking
at R's default epsilon, export weights (designs W and SW), on three data sets.

Expected values: tests/fixtures/reference_r16/reference16_R.json, written by reference16.R
(R 4.2.2, survey 4.1.1) from the committed CSVs (make_data.py: two regular data sets of 1,200
and 4,000 respondents, and a hostile one with a one-respondent school, a school where everyone
went abroad, 40 % missing answers and a weight 60 x the median).  Tolerance 1e-6 relative.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.survey.compare import difference, rao_scott
from analysis.survey.design import SurveyDesign, mean, proportion, total
from analysis.survey.models import logistic_regression
from analysis.survey.weighting import poststratify, rake

HERE = Path(__file__).resolve().parents[2] / "fixtures" / "reference_r16"
RTOL = 1e-6
DATASETS = ("s1", "s2", "hostile")
BASES = ("S", "W", "SW")
DESIGNS = (
    "S", "S_ps", "W", "W_ps", "W_rake", "W_rake_def", "SW", "SW_ps", "SW_rake", "SW_rake_def"
)  # fmt: skip


@cache
def reference() -> dict:
    return json.loads((HERE / "reference16_R.json").read_text(encoding="utf-8"))


@cache
def raked_r() -> pd.DataFrame:
    return pd.read_csv(HERE / "raked16_R.csv")


@cache
def data(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(HERE / f"{name}.csv")
    pop = pd.read_csv(HERE / f"{name}_population.csv")
    n_h = df.groupby("school")["school"].transform("size")
    df["weight_S"] = df["N_school"] / n_h  # R: weights implied by fpc
    df["cell"] = df["school"] + "|" + df["gender"]
    return df, pop


@cache
def design(name: str, key: str) -> SurveyDesign:
    df, pop = data(name)
    base = key.split("_")[0]
    kind = {"S": "stratified", "W": "weights", "SW": "stratified"}[base]
    wcol = "weight_S" if base == "S" else "weight"
    w0 = df[wcol].to_numpy(dtype=float)
    kw = dict(strata="school", population="N_school")
    if key == base:
        return SurveyDesign.from_frame(df, kind, weight=wcol, **kw)
    if key.endswith("_ps"):
        cells = {f"{s}|{g}": float(k) for s, g, k in pop.itertuples(index=False)}
        res = poststratify(df, cells, ["cell"], base_weight=w0)
        on: tuple[str, ...] = ("cell",)
    else:
        margins = {
            "school": pop.groupby("school")["enrolled"].sum().astype(float).to_dict(),
            "gender": pop.groupby("gender")["enrolled"].sum().astype(float).to_dict(),
        }
        if key.endswith("_rake_def"):  # R's default control: maxit 10, epsilon 1
            res = rake(df, margins, w0, tol=1.0 / w0.sum(), max_iter=10)
        else:
            res = rake(df, margins, w0, tol=1e-10, max_iter=100)
        on = ("school", "gender")
    return SurveyDesign.from_frame(
        df.assign(w_cal=res.weights), kind, weight="w_cal", calibrated_on=on, calibration=res, **kw
    )


def close(actual, expected, rtol: float = RTOL) -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray([np.nan if v is None else v for v in np.atleast_1d(expected)], dtype=float)
    np.testing.assert_allclose(a.reshape(e.shape), e, rtol=rtol, atol=0)


def close_p(actual: float, expected: float) -> None:
    """p-values; below 1e-10 on the log scale (R's glm stops at a deviance change of 1e-8, so
    its t is exact to ~1e-8, and at p = 1e-30 that moves p by ~1e-6 relative)."""
    if expected < 1e-10:
        close(np.log(actual), np.log(expected))
    else:
        close(actual, expected)


CASES = [(n, k) for n in DATASETS for k in DESIGNS]


def ids(case: tuple[str, str]) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_means_and_totals_with_lonely_school_and_calibration(case):
    name, key = case
    ref = reference()[name]["designs"][key]
    d = design(name, key)
    assert d.degf == ref["degf"]
    close(d.arrays.weights.sum(), ref["sum_weights"])
    r = proportion(d, "went_abroad").iloc[0]
    close(
        [r["estimate"], r["se"]], [ref["mean_went_abroad"]["mean"], ref["mean_went_abroad"]["se"]]
    )
    r = mean(d, "interest_dual_degree").iloc[0]
    close([r["estimate"], r["se"]], [ref["mean_interest"]["mean"], ref["mean_interest"]["se"]])
    for v, k in (("interest_dual_degree", "total_interest"), ("went_abroad", "total_went_abroad")):
        r = total(d, v).iloc[0]
        close([r["estimate"], r["se"]], [ref[k]["total"], ref[k]["se"]])
    by = total(d, "interest_dual_degree", by="school").set_index("school")
    for s, rs in ref["by_school"].items():
        if rs.get("total_interest") is not None and s in by.index:
            close(
                [by.loc[s, "estimate"], by.loc[s, "se"]],
                [rs["total_interest"]["total"], rs["total_interest"]["se"]],
            )


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_proportion_cis_use_the_domain_design_df_with_missing_answers(case):
    name, key = case
    ref = reference()[name]["designs"][key]
    d = design(name, key)
    o = ref["intends_overall"]
    for method in ("logit", "beta"):
        r = proportion(d, "intends_abroad", ci_method=method).iloc[0]
        assert r["df"] == o["df"]
        close([r["estimate"], r["se"]], [o[method]["estimate"], o[method]["se"]])
        close([r["ci_low"], r["ci_high"]], o[method]["ci"])
    res = {
        m: proportion(d, "intends_abroad", by="school", ci_method=m).set_index("school")
        for m in ("logit", "beta")
    }
    checked = 0
    for s, rs in ref["by_school"].items():
        for m in ("logit", "beta"):
            ci = rs.get(f"intends_{m}")
            if ci is None or s not in res[m].index or None in ci["ci"]:
                continue  # R: no answer in the school, or df 0
            row = res[m].loc[s]
            assert row["df"] == rs["df"]
            close([row["estimate"], row["se"]], [ci["estimate"], ci["se"]])
            close([row["ci_low"], row["ci_high"]], ci["ci"])
            checked += 1
        if rs.get("interest_mean") is not None:
            mm = mean(d, "interest_dual_degree", by="school").set_index("school")
            close(
                [mm.loc[s, "estimate"], mm.loc[s, "se"]],
                [rs["interest_mean"]["mean"], rs["interest_mean"]["se"]],
            )
            assert mm.loc[s, "df"] == rs["df"]
    assert checked >= 2 * len(ref["by_school"]) - 4
    if "svyby_intends_logit" in ref:  # svyby(..., svyciprop, na.rm = TRUE): the same numbers
        sb = ref["svyby_intends_logit"]
        close(res["logit"].loc[sb["school"], "ci_low"], sb["ci_l"])
        close(res["logit"].loc[sb["school"], "ci_high"], sb["ci_u"])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_rao_scott_on_calibrated_designs(case):
    name, key = case
    ref = reference()[name]["designs"][key]
    d = design(name, key)
    for row, col in (("went_abroad", "school"), ("intends_abroad", "gender")):
        rs = ref[f"chisq_{row}_{col}"]
        r = rao_scott(d, row, col)
        close([r["f"], r["ndf"], r["ddf"]], [rs["F"], rs["ndf"], rs["ddf"]])
        close_p(r["p_value"], rs["p_value"])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_differences_on_calibrated_designs(case):
    name, key = case
    ref = reference()[name]["designs"][key]
    d = design(name, key)
    for v in ("interest_dual_degree", "intends_abroad"):
        rt = ref[f"ttest_{v}_gender"]
        r = difference(d, v, "gender", "M", "F")
        close([r["estimate"], r["t"]], [rt["difference_M_minus_F"], rt["t"]])
        close_p(r["p_value"], rt["p_value"])
        assert r["df"] == rt["df"]
        close([r["ci_low"], r["ci_high"]], rt["ci"])


@pytest.mark.parametrize("control", ("glm", "glm_default"))
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_logistic_model_on_calibrated_designs(case, control):
    """``glm``: converged (epsilon 1e-14, the package default); ``glm_default``: R's own
    default epsilon 1e-8, whose early stop is reproduced (up to 2e-5 apart on the hostile
    data with its extreme weight)."""
    name, key = case
    ref = reference()[name]["designs"][key][control]
    d = design(name, key)
    cats = {"gender": "F"}
    if name != "hostile":
        cats["school"] = reference()[name]["schools"][0]
    kw = {"epsilon": 1e-8, "maxit": 25} if control == "glm_default" else {}
    m = logistic_regression(
        d, "intends_abroad", ["barrier_finance", "barrier_language"], cats, **kw
    )
    got = {
        r["variable"] + (r["level"] if isinstance(r["level"], str) else ""): r
        for _, r in m.iterrows()
    }
    assert sorted(got) == sorted(ref["terms"])
    for i, term in enumerate(ref["terms"]):
        r = got[term]
        close([r["coefficient"], r["se"], r["t"]], [ref["estimate"][i], ref["se"][i], ref["t"][i]])
        close_p(r["p_value"], ref["p_value"][i])
        assert r["df"] == ref["df"]
        assert r["n"] == ref["n"]


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("base", ("W", "SW"))
def test_raking_at_r_default_epsilon_gives_r_weights(name, base):
    d = design(name, f"{base}_rake_def")
    col = raked_r()[f"{name}__{base}_rake_def"].dropna().to_numpy()
    close(d.arrays.weights, col)


# --------------------------------------------------------------------------- the pipeline


def pipeline_design(name: str, method: str, design_type: str) -> SurveyDesign:
    """The report's design over a data set whose export carries a weight column."""
    from analysis.config import DesignConfig, WeightingConfig
    from analysis.survey.study import build_design, weight_responses

    df, pop = data(name)
    responses = df.assign(
        source_id="export",
        source_file=f"{name}.csv",
        source_row=np.arange(1, len(df) + 1),
        wave="2023",
    )
    enrolment = pop.assign(academic_year=2022)[["school", "academic_year", "gender", "enrolled"]]
    weighted = weight_responses(
        responses, enrolment, WeightingConfig(method=method, weight_column="weight")
    )
    return build_design(weighted, DesignConfig(type=design_type))


PIPELINE = [
    ("s1", "column", "weights", "W"),
    ("s1", "poststratify", "stratified", "SW_ps"),
    ("s1", "rake", "stratified", "SW_rake"),
    ("hostile", "poststratify", "weights", "W_ps"),
    ("hostile", "rake", "stratified", "SW_rake"),
]


@pytest.mark.parametrize("case", PIPELINE, ids=lambda c: "-".join(c))
def test_pipeline_weight_column_and_calibration_equal_r(case):
    """weighting.weight_column: the export's weights as design W, or calibrated to enrolment
    (R: postStratify / rake of svydesign(weights = ~weight)); every SE as R's."""
    name, method, design_type, key = case
    ref = reference()[name]["designs"][key]
    d = pipeline_design(name, method, design_type)
    close(d.arrays.weights.sum(), ref["sum_weights"])
    r = proportion(d, "went_abroad").iloc[0]
    close(
        [r["estimate"], r["se"]], [ref["mean_went_abroad"]["mean"], ref["mean_went_abroad"]["se"]]
    )
    rs = ref["chisq_went_abroad_school"]
    t = rao_scott(d, "went_abroad", "school")
    close([t["f"], t["ndf"], t["ddf"]], [rs["F"], rs["ndf"], rs["ddf"]])
    rt = ref["ttest_interest_dual_degree_gender"]
    diff = difference(d, "interest_dual_degree", "gender", "M", "F")
    close([diff["estimate"], diff["t"]], [rt["difference_M_minus_F"], rt["t"]])
    g = ref["glm"]
    cats = {"gender": "F"}
    if name != "hostile":
        cats["school"] = reference()[name]["schools"][0]
    m = logistic_regression(d, "intends_abroad", ["barrier_finance", "barrier_language"], cats)
    names = [
        v + (lv if isinstance(lv, str) else "")
        for v, lv in zip(m["variable"], m["level"], strict=True)
    ]
    assert names == g["terms"]
    close(m["coefficient"], g["estimate"])
    close(m["se"], g["se"])


def test_weight_column_errors_name_the_row_and_column():
    from analysis.config import WeightingConfig
    from analysis.survey.study import weight_responses
    from analysis.survey.weighting import WeightingError

    df, pop = data("s1")
    responses = df.assign(
        source_id="e", source_file="s1.csv", source_row=np.arange(1, len(df) + 1), wave="2023"
    )
    responses.loc[4, "weight"] = -1.0
    enrolment = pop.assign(academic_year=2022)
    with pytest.raises(WeightingError, match=r"s1.csv, row 5, column 'weight'"):
        weight_responses(
            responses, enrolment, WeightingConfig(method="column", weight_column="weight")
        )
    with pytest.raises(WeightingError, match="needs weighting.weight_column"):
        weight_responses(responses, enrolment, WeightingConfig(method="column"))


@pytest.mark.parametrize("design_type", ["stratified", "weights"])
def test_numpy_model_equals_the_svy_route_on_the_reference_data(reference_data, design_type):
    """The previous engine (svy's GLM, pandas -> polars) gives the same model (to 1e-9)."""
    from analysis.survey import engine

    df, en = reference_data
    pop = dict(zip(en["school"], en["enrolled"].astype(float), strict=True))
    d = SurveyDesign.from_frame(df, design_type, strata="school", population=pop)
    args = ("intends_abroad", ["barrier_finance", "barrier_language"])
    cats = {"gender": "F", "school": en["school"].iloc[0]}
    ours = logistic_regression(d, *args, cats)
    svy = engine.logistic_regression(df, engine.engine_design(d), *args, cats)
    key = ["variable", "level"]
    m = ours.fillna({"level": ""}).merge(svy.fillna({"level": ""}), on=key, suffixes=("", "_svy"))
    assert len(m) == len(ours) == len(svy) == 13
    for c in ("coefficient", "se", "t", "df"):
        np.testing.assert_allclose(m[c], m[f"{c}_svy"], rtol=1e-9)


def test_raking_at_default_epsilon_needs_the_per_margin_weights():
    """Guard: with the final weights for every margin (no ``calibration=``) the SE of the raked
    mean moves away from R's when raking stopped at R's default epsilon."""
    d = design("hostile", "W_rake_def")
    ref = reference()["hostile"]["designs"]["W_rake_def"]["mean_went_abroad"]["se"]
    plain = SurveyDesign.from_frame(
        d.data, "weights", weight="w_cal", calibrated_on=("school", "gender")
    )
    close(proportion(d, "went_abroad").iloc[0]["se"], ref)
    assert abs(proportion(plain, "went_abroad").iloc[0]["se"] / ref - 1) > 1e-7
