"""Pipeline entry point: weights, design-based estimates, comparisons and models as ResultTables.

:func:`survey_result_tables` is what the Prefect flow calls.  It weights each wave to the
enrolment of the wave's academic year, builds the design chosen in ``config.design`` and
returns the report's tables (ids and keys below) with the weighted responses.

Weighting rules (documented in docs/survey-statistics.md):

* wave ``"2023"`` is weighted to academic year 2022 (the year before the wave's calendar year;
  ``weighting.reference_year`` is used only for waves whose label holds no year); if that year
  is missing from the enrolment the latest earlier year is used and a note says so;
* only the schools present in the wave are in its population;
* post-stratification cells school x gender: respondents with gender ``X`` or missing form a
  third cell per school whose population is their unweighted share of the school's
  respondents (so the school's weights still sum to its enrolment) and F/M cells get the
  rest of the school's enrolment split as in the enrolment table; a school whose F or M cell
  has population but no respondents (or respondents but no population) is post-stratified by
  school only (reported);
* raking margins school and gender: the gender margin gets the same X rule at group level;
* ``weighting.weight_column`` (a numeric codebook variable): the export's own weights; with
  ``method = "column"`` they are the weights (R's design W, ``svydesign(weights=~w)``), with
  ``poststratify``/``rake`` they are the base weights calibrated to the enrolment (R:
  ``postStratify``/``rake`` of that design);
* ``weighting.trim_max_ratio``: weights above ratio x median are capped and the weights
  re-calibrated, until none exceeds the cap;
* design ``"stratified"``: strata = wave x school, fpc from that school's enrolment;
  the calibration (post-strata or raking margins, with the weights before calibration and
  raking's per-margin weights) is passed to the design so that every standard error - means,
  proportions, differences, Rao-Scott tests and the logistic model - is that of R's
  ``postStratify``/``rake`` design.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from analysis.config import DesignConfig, StudyConfig, WeightingConfig
from analysis.results import Estimate, ResultTable, domain_of
from analysis.sample import wave_academic_year
from analysis.schema import Enrolment, Responses, validate_columns
from analysis.survey.compare import bh_adjust, difference, rao_scott
from analysis.survey.design import DesignError, SurveyDesign, _missing_mask, proportion
from analysis.survey.glm import ModelError
from analysis.survey.models import logistic_regression
from analysis.survey.raoscott import RaoScottError
from analysis.survey.scales import cronbach_alpha, likert_summary, multiselect_shares
from analysis.survey.weighting import (
    WeightingError,
    WeightingResult,
    kish_n_eff,
    poststratify,
    rake,
    trim_and_recalibrate,
    weighting_deff,
)

R = Responses
POP_COL = "_population_stratum"
STRATUM_COL = "_stratum"
PS_CELL = "_ps_cell"
RK_SCHOOL = "_rk_school"
RK_GENDER = "_rk_gender"
_HELPERS = (POP_COL, STRATUM_COL, PS_CELL, RK_SCHOOL, RK_GENDER)

EXPERIENCE_VARS = ("went_abroad", "intends_abroad")
BARRIER_VARS = ("barrier_finance", "barrier_language", "barrier_recognition")
DOMAINS = ("school", "gender", "study_year", "wave")
FOCUS_SCHOOL = "imt_nord_europe"
REFERENCE_SCHOOL = "imt_atlantique"


# --------------------------------------------------------------------------- weighting


@dataclass(frozen=True)
class WeightedResponses:
    """Responses with ``weight`` (+ helper columns), per-wave summaries and diagnostics."""

    frame: pd.DataFrame
    diagnostics: pd.DataFrame  # per wave x school
    waves: Mapping[str, Mapping[str, object]]  # per wave: year used, method, convergence...
    calibrated_on: tuple[str, ...]
    notes: tuple[str, ...]
    # the calibration behind ``frame[weight]`` (all waves; None for method "none")
    calibration: WeightingResult | None = None


def wave_enrolment_year(wave: str, weighting: WeightingConfig) -> int:
    """Academic year (start year) whose enrolment is the population of ``wave``.

    The rule of :func:`analysis.sample.wave_academic_year` (``"2023"`` -> 2022, i.e. 2022-23;
    ``"2022-23"`` -> 2022), shared with the response rates; ``weighting.reference_year`` is used
    for waves whose label holds no year.
    """
    try:
        return wave_academic_year(wave)
    except ValueError:
        if weighting.reference_year is not None:
            return int(weighting.reference_year)
    raise WeightingError(
        f"wave {wave!r}: cannot infer the enrolment year; set weighting.reference_year"
    )


def _gender_cell(g: pd.Series) -> pd.Series:
    s = g.astype("string").str.strip().str.upper()
    return s.where(s.isin(["F", "M"]), "X").fillna("X").astype(str)


def _first_row(frame: pd.DataFrame, mask: np.ndarray) -> str:
    i = int(np.flatnonzero(mask)[0])
    row = frame.iloc[i]
    return f"{row.get(R.SOURCE_FILE, '?')}, row {row.get(R.SOURCE_ROW, '?')}"


def weight_responses(
    responses: pd.DataFrame, enrolment: pd.DataFrame, weighting: WeightingConfig
) -> WeightedResponses:
    """Weights per wave from the enrolment (see the module docstring for the rules)."""
    validate_columns(responses, R.SCHEMA, "responses")
    validate_columns(enrolment, Enrolment.SCHEMA, "enrolment")
    if weighting.method not in ("none", "poststratify", "rake", "column"):
        raise WeightingError(f"weighting.method {weighting.method!r} is not supported")
    unknown_cells = set(weighting.cells) - {"school", "gender"}
    if unknown_cells:
        raise WeightingError(
            f"weighting.cells {sorted(unknown_cells)}: the enrolment has only school and gender"
        )
    # reset_index already returns a new frame (a copy, or copy-on-write in pandas 3); only
    # columns are added to it below, so the caller's frame is never modified
    frame = responses.reset_index(drop=True)
    miss_school = _missing_mask(frame[R.SCHOOL])  # isna | blank, per distinct school
    if miss_school.any():
        raise WeightingError(
            f"responses: {_first_row(frame, miss_school)}, column 'school': missing school"
        )
    enr = enrolment.copy()
    enr["_year"] = pd.to_numeric(enr[Enrolment.ACADEMIC_YEAR], errors="raise").astype(int)
    enr["_n"] = pd.to_numeric(enr[Enrolment.ENROLLED], errors="raise").astype(float)
    enr["_school"] = enr[Enrolment.SCHOOL].astype(str)
    enr["_g"] = enr[Enrolment.GENDER].astype(str)
    years = sorted(enr["_year"].unique())

    column_weights = export_weights(frame, weighting)  # None unless weighting.weight_column
    frame["_wave"] = frame[R.WAVE].astype(str)
    frame["_school"] = frame[R.SCHOOL].astype(str)
    frame["_g"] = _gender_cell(frame[R.GENDER]) if R.GENDER in frame else "X"
    weights = np.full(len(frame), np.nan)
    cal_base = np.full(len(frame), np.nan)
    cal_steps: list[np.ndarray] = []
    pop_col = np.full(len(frame), np.nan)
    ps_cell = np.empty(len(frame), dtype=object)
    diag_rows, waves_info, notes = [], {}, []
    use_gender = "gender" in weighting.cells

    # the per-wave work needs only these columns (row positions for the error messages):
    # taking every column of every wave would copy the whole frame once more
    sub_cols = [c for c in ("_school", "_g", R.SOURCE_FILE, R.SOURCE_ROW) if c in frame.columns]
    for wave in sorted(frame["_wave"].unique()):
        idx = np.flatnonzero((frame["_wave"] == wave).to_numpy())
        sub = frame[sub_cols].iloc[idx]
        target_year = wave_enrolment_year(wave, weighting)
        usable = [y for y in years if y <= target_year]
        if not usable:
            raise WeightingError(
                f"wave {wave!r}: no enrolment for academic year {target_year} or earlier "
                f"(enrolment years: {years})"
            )
        year = usable[-1]
        if year != target_year:
            notes.append(f"wave {wave}: enrolment of {target_year} missing, used {year} instead")
        e = enr[enr["_year"] == year]
        n_school = e.groupby("_school")["_n"].sum()
        n_sg = e.groupby(["_school", "_g"])["_n"].sum()
        schools = sorted(sub["_school"].unique())
        not_in = ~sub["_school"].isin(n_school.index).to_numpy()
        if not_in.any():
            raise WeightingError(
                f"responses: {_first_row(sub, not_in)}, column 'school': school "
                f"{sub['_school'].iloc[int(np.flatnonzero(not_in)[0])]!r} has no enrolment "
                f"for academic year {year} (wave {wave})"
            )
        # per distinct school, then spread by code (Series.map hashes every row)
        s_codes, s_uniques = pd.factorize(sub["_school"])
        school_code = {u: i for i, u in enumerate(s_uniques)}  # in_s: compare codes, not str
        pop_col[idx] = n_school.reindex(s_uniques).to_numpy(dtype=float)[s_codes]

        # post-stratification cells (also the start of raking: school-level weights)
        cells: dict[str, float] = {}
        cell_of = np.empty(len(sub), dtype=object)
        collapsed = []
        g_wave = sub["_g"].to_numpy()  # once per wave, not once per school
        for s in schools:
            in_s = s_codes == school_code[s]
            g = g_wave[in_s]
            n_h, big_n = int(in_s.sum()), float(n_school[s])
            n_x = int(np.sum(g == "X"))
            fm_pop = {k: float(n_sg.get((s, k), 0.0)) for k in ("F", "M")}
            fm_resp = {k: int(np.sum(g == k)) for k in ("F", "M")}
            ok = (
                use_gender
                and all((fm_pop[k] > 0) == (fm_resp[k] > 0) for k in ("F", "M"))
                and (n_h - n_x) > 0
            )
            if ok:
                share_fm = 1.0 - n_x / n_h
                tot_fm = fm_pop["F"] + fm_pop["M"]
                for k in ("F", "M"):
                    if fm_resp[k]:
                        cells[f"{wave}|{s}|{k}"] = big_n * share_fm * fm_pop[k] / tot_fm
                if n_x:
                    cells[f"{wave}|{s}|X"] = big_n * n_x / n_h
                # one label per distinct gender cell, spread back (no f-string per row)
                g_inv, g_cells = pd.factorize(g)
                cell_of[in_s] = np.array([f"{wave}|{s}|{k}" for k in g_cells], dtype=object)[g_inv]
            else:
                if use_gender:
                    collapsed.append(s)
                cells[f"{wave}|{s}|*"] = big_n
                cell_of[in_s] = f"{wave}|{s}|*"
        if collapsed:
            notes.append(
                f"wave {wave}: post-stratified by school only (a gender cell without "
                f"respondents or population) for {', '.join(collapsed)}"
            )
        ps_cell[idx] = cell_of
        cell_frame = pd.DataFrame({PS_CELL: cell_of})

        calibrate = partial(
            _calibrate_wave,
            method=weighting.method,
            cell_frame=cell_frame,
            cells=cells,
            sub=sub,
            n_school=n_school,
            n_sg=n_sg,
            use_gender=use_gender,
        )

        start = None if column_weights is None else column_weights[idx]
        if weighting.method == "none":
            res = WeightingResult(weights=np.ones(len(sub)), method="none")
        elif weighting.method == "column":  # the export's weights as they are (design W)
            res = WeightingResult(weights=start, method="column")  # type: ignore[arg-type]
            if weighting.trim_max_ratio is not None:  # capped, not re-calibrated
                res = trim_and_recalibrate(
                    res,
                    lambda w: WeightingResult(weights=w, method="column"),
                    float(weighting.trim_max_ratio),
                )
        else:
            res = calibrate(start)  # start: the export's base weights, or None
            if weighting.trim_max_ratio is not None:
                res = trim_and_recalibrate(res, calibrate, float(weighting.trim_max_ratio))
        if not res.converged:
            notes.append(f"wave {wave}: raking did not converge ({res.iterations} sweeps)")
        notes.extend(f"wave {wave}: {n}" for n in res.notes if "converge" not in n)
        weights[idx] = res.weights
        if res.base_weights is not None:
            cal_base[idx] = res.base_weights
        for j, step in enumerate(res.margin_weights):
            if len(cal_steps) <= j:
                cal_steps.append(np.full(len(frame), np.nan))
            cal_steps[j][idx] = step
        waves_info[wave] = {**res.summary(), "academic_year": year}
        for s in schools:
            in_s = s_codes == school_code[s]
            w = res.weights[in_s]
            diag_rows.append(
                {
                    "wave": wave,
                    "school": s,
                    "academic_year": year,
                    "population": float(n_school[s]),
                    "respondents": int(in_s.sum()),
                    "sum_weights": float(w.sum()),
                    "kish_n_eff": kish_n_eff(w),
                    "deff_w": weighting_deff(w),
                }
            )

    frame[R.WEIGHT] = weights
    frame[POP_COL] = pop_col
    frame[STRATUM_COL] = frame["_wave"] + "|" + frame["_school"]
    frame[PS_CELL] = ps_cell
    frame[RK_SCHOOL] = frame["_wave"] + "|" + frame["_school"]
    frame[RK_GENDER] = frame["_wave"] + "|" + frame["_g"]
    frame = frame.drop(columns=["_wave", "_school", "_g"])
    calibrated = {
        "none": (),
        "column": (),
        "poststratify": (PS_CELL,),
        "rake": (RK_SCHOOL, RK_GENDER) if use_gender else (RK_SCHOOL,),
    }[weighting.method]
    calibration = None
    if calibrated:
        steps = tuple(cal_steps) if all(np.all(np.isfinite(c)) for c in cal_steps) else ()
        calibration = WeightingResult(
            weights=weights,
            method=weighting.method,
            base_weights=cal_base if np.all(np.isfinite(cal_base)) else None,
            margin_weights=steps if len(steps) == len(calibrated) else (),
        )
    return WeightedResponses(
        frame=frame,
        diagnostics=pd.DataFrame(diag_rows),
        waves=waves_info,
        calibrated_on=calibrated,
        notes=tuple(notes),
        calibration=calibration,
    )


def export_weights(frame: pd.DataFrame, weighting: WeightingConfig) -> np.ndarray | None:
    """The export's weight column named by ``weighting.weight_column`` (None if not set).

    Required by ``method = "column"``; with ``poststratify``/``rake`` these are the base
    weights calibrated to the enrolment.  Every weight must be a positive number: a missing,
    zero, negative or non-numeric weight raises naming the file, row and column.
    """
    col = getattr(weighting, "weight_column", None)
    if col is None:
        if weighting.method == "column":
            raise WeightingError(
                "weighting.method = 'column' needs weighting.weight_column (the codebook "
                "variable holding the export's weights)"
            )
        return None
    if col not in frame.columns:
        raise WeightingError(
            f"weighting.weight_column {col!r}: no such variable in the responses (declare it "
            "in the codebook as a numeric variable)"
        )
    w = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise WeightingError(
            f"responses: {_first_row(frame, bad)}, column {col!r}: weight must be a positive "
            f"number, got {frame[col].iloc[i]!r} ({int(bad.sum())} such rows)"
        )
    return w


def _calibrate_wave(
    start: np.ndarray | None,
    *,
    method: str,
    cell_frame: pd.DataFrame,
    cells: Mapping[str, float],
    sub: pd.DataFrame,
    n_school: pd.Series,
    n_sg: pd.Series,
    use_gender: bool,
) -> WeightingResult:
    """Post-stratify or rake one wave, from ``start`` weights (None: design weights)."""
    if method == "poststratify":
        return poststratify(cell_frame, cells, [PS_CELL], base_weight=start)
    schools = sorted(sub["_school"].unique())
    if start is None:
        n_resp = sub["_school"].value_counts()
        start = (sub["_school"].map(n_school) / sub["_school"].map(n_resp)).to_numpy(dtype=float)
    margins: dict[str, dict[str, float]] = {"_school": {s: float(n_school[s]) for s in schools}}
    if use_gender:
        # gender margin: the X (other / not said) share keeps its weighted sample share; F and
        # M share the rest as in the enrolment of the wave's schools
        total = sum(margins["_school"].values())
        gvals = sub["_g"].to_numpy()
        x_share = float(start[gvals == "X"].sum() / start.sum())
        present = [k for k in ("F", "M") if (gvals == k).any()]
        fm = {k: float(sum(n_sg.get((s, k), 0.0) for s in schools)) for k in present}
        tot_fm = sum(fm.values())
        gm = {k: total * (1 - x_share) * fm[k] / tot_fm for k in present if tot_fm > 0}
        if x_share > 0:
            gm["X"] = total * x_share
        margins["_g"] = gm
    return rake(sub, margins, base_weight=start)


def build_design(weighted: WeightedResponses, design: DesignConfig) -> SurveyDesign:
    """The design of ``config.design.type`` over the weighted responses."""
    return SurveyDesign.from_frame(
        weighted.frame,
        design.type,
        strata=STRATUM_COL,
        weight=R.WEIGHT,
        population=POP_COL,
        calibrated_on=weighted.calibrated_on,
        calibration=weighted.calibration,
    )


# --------------------------------------------------------------------------- estimates -> results


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _dim_value(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _rows_to_estimates(
    df: pd.DataFrame,
    table: str,
    key_base: str,
    dims: Sequence[str],
    *,
    weighted: bool,
    base: str,
    with_level: bool = False,
    statistic: str | None = None,
) -> list[Estimate]:
    out = []
    for _, r in df[df["n"] > 0].iterrows():  # domains without any valid answer: no estimate
        dom = {d: _dim_value(r[d]) for d in dims if d in r and pd.notna(r[d])}
        key = key_base + "".join(f".by_{d}.{v}" for d, v in dom.items())
        level = r["level"] if with_level and r["level"] is not None else None
        if level is not None:
            key += f".{level}"
        out.append(
            Estimate(
                key=key,
                table=table,
                statistic=statistic or str(r["statistic"]),
                variable=str(r["variable"]),
                estimate=_num(r["estimate"]),
                domain=domain_of(**dom),
                level=None if level is None else str(level),
                se=_num(r["se"]),
                ci_low=_num(r["ci_low"]),
                ci_high=_num(r["ci_high"]),
                ci_method=str(r["ci_method"]),
                ci_level=float(r["ci_level"]),
                n_unweighted=int(r["n"]),
                df=_num(r["df"]),
                deff=_num(r["deff"]) if weighted else None,
                weighted=weighted,
                base=base,
                n_cell=int(r["n_cell"]) if "n_cell" in r and pd.notna(r["n_cell"]) else None,
                weight_base=_num(r["weight_sum"]) if weighted and "weight_sum" in r else None,
            )
        )
    return out


def _by_sets(design: SurveyDesign, dims: Sequence[str]) -> list[str | None]:
    return [None] + [d for d in dims if d in design.data.columns]


def _experience_table(design: SurveyDesign, present: Sequence[str], ci: str) -> ResultTable:
    est: list[Estimate] = []
    for v in present:
        for by in _by_sets(design, DOMAINS):
            df = proportion(design, v, by=by, ci_method=ci)
            est += _rows_to_estimates(
                df,
                "survey.experience",
                f"survey.{v}",
                [by] if by else [],
                weighted=design.weighted,
                base=f"respondents who answered {v} (missing answers excluded)",
            )
    return ResultTable(
        "survey.experience",
        "survey",
        tuple(est),
        dims=DOMAINS,
        notes=("share answering yes; Taylor-linearised SE; CI: " + ci,),
    )


def _likert_estimates(
    design: SurveyDesign, variable: str, table: str, by_dims: Sequence[str], ci: str
) -> list[Estimate]:
    est: list[Estimate] = []
    for by in _by_sets(design, by_dims):
        df = likert_summary(design, variable, by=by, ci_method=ci)
        dims = [by] if by else []
        base = f"respondents who answered {variable} (1-5; missing answers excluded)"
        for stat, sub in df.groupby("statistic", sort=False):
            name = {"proportion": "distribution"}.get(str(stat), str(stat))
            est += _rows_to_estimates(
                sub,
                table,
                f"survey.{variable}.{name}",
                dims,
                weighted=design.weighted,
                base=base,
                with_level=(stat == "proportion"),
                statistic="proportion" if stat != "mean" else "mean",
            )
    return est


def _barriers_table(design: SurveyDesign, present: Sequence[str], ci: str) -> ResultTable:
    est: list[Estimate] = []
    for v in present:
        est += _likert_estimates(design, v, "survey.barriers", (), ci)
    notes = ["5 = strong barrier; top-2-box = share answering 4 or 5"]
    if len(present) >= 2:
        a = cronbach_alpha(design, present)
        est.append(
            Estimate(
                key="survey.barriers.alpha",
                table="survey.barriers",
                statistic="alpha",
                variable="barriers",
                estimate=_num(a.alpha),
                n_unweighted=a.n,
                weighted=design.weighted,
                base=f"respondents who answered all of {', '.join(present)}",
            )
        )
        notes.append("Cronbach's alpha of " + ", ".join(present) + " (design-weighted variances)")
    return ResultTable("survey.barriers", "survey", tuple(est), dims=(), notes=tuple(notes))


def _destinations_table(design: SurveyDesign, variable: str, ci: str) -> ResultTable:
    est: list[Estimate] = []
    for by in _by_sets(design, ("wave",)):
        df = multiselect_shares(design, variable, by=by, ci_method=ci)
        est += _rows_to_estimates(
            df,
            "survey.destinations",
            f"survey.{variable}.share",
            [by] if by else [],
            weighted=design.weighted,
            with_level=True,
            base=f"respondents who answered {variable} (several options possible)",
        )
    return ResultTable(
        "survey.destinations",
        "survey",
        tuple(est),
        dims=("wave",),
        notes=("share of respondents choosing each option; shares do not sum to 1",),
    )


def _comparison_specs(design: SurveyDesign) -> list[dict[str, object]]:
    data = design.data
    specs: list[dict[str, object]] = []
    has = set(data.columns)
    # distinct values first: str() of 10^6 cells, then a set of them, cost seconds
    genders = set(data[R.GENDER].astype(str).unique()) if R.GENDER in has else set()
    schools = set(data[R.SCHOOL].astype(str).unique())
    for v in ("intends_abroad", "went_abroad"):
        if v in has and {"F", "M"} <= genders:
            specs.append(
                dict(
                    variable=v,
                    group="gender",
                    a="F",
                    b="M",
                    label="F_vs_M",
                    what=f"{v}: women minus men",
                )
            )
    if FOCUS_SCHOOL in schools and len(schools) > 1:
        for v in ("interest_dual_degree", "intends_abroad"):
            if v in has:
                specs.append(
                    dict(
                        variable=v,
                        group="school",
                        a=FOCUS_SCHOOL,
                        b=None,
                        label=f"{FOCUS_SCHOOL}_vs_rest",
                        what=f"{v}: IMT Nord Europe minus the rest of the group",
                    )
                )
    if "intends_abroad" in has and "barrier_finance" in has:
        specs.append(
            dict(
                variable="intends_abroad",
                group="barrier_finance",
                a=[4.0, 5.0],
                b=[1.0, 2.0],
                label="high_vs_low",
                what="intends_abroad: finance barrier 4-5 minus 1-2",
            )
        )
    return specs


def _comparison_tables(
    design: SurveyDesign, present: set[str], min_base: int | None = None
) -> tuple[ResultTable, ResultTable]:
    diffs, notes = [], []
    for spec in _comparison_specs(design):
        try:
            r = difference(design, str(spec["variable"]), str(spec["group"]), spec["a"], spec["b"])
        except DesignError as exc:  # e.g. overlapping groups in odd data: report, do not crash
            notes.append(f"{spec['what']}: not computed ({exc})")
            continue
        if r["n_a"] == 0 or r["n_b"] == 0:
            notes.append(f"{spec['what']}: not computed (a group has no respondents)")
            continue
        if min_base and min(r["n_a"], r["n_b"]) < min_base:
            # a difference against a group this small would publish its members' answers
            notes.append(
                f"{spec['what']}: not computed (a group has fewer than {min_base} respondents)"
            )
            continue
        diffs.append((spec, r))
    tests = []
    for row, col in (("went_abroad", "school"), ("intends_abroad", "gender")):
        if row in present and col in design.data.columns:
            ok = design.data[[row, col]].dropna()
            if ok[row].nunique() >= 2 and ok[col].astype(str).nunique() >= 2:
                try:
                    tests.append(rao_scott(design, row, col))
                except RaoScottError as exc:
                    notes.append(f"Rao-Scott {row} x {col}: not computed ({exc})")
            else:
                notes.append(f"Rao-Scott {row} x {col}: not computed (fewer than 2 levels)")
    p_all = [r["p_value"] for _, r in diffs] + [t["p_value"] for t in tests]
    p_adj = bh_adjust(p_all)
    fam = f"Benjamini-Hochberg over the {len(p_all)} comparisons of this report"
    dest: list[Estimate] = []
    for i, (spec, r) in enumerate(diffs):
        dest.append(
            Estimate(
                key=f"comparisons.{spec['variable']}.difference.by_{spec['group']}.{spec['label']}",
                table="comparisons.differences",
                statistic="difference",
                variable=str(spec["variable"]),
                estimate=_num(r["estimate"]),
                domain=domain_of(**{str(spec["group"]): str(spec["label"])}),
                se=_num(r["se"]),
                ci_low=_num(r["ci_low"]),
                ci_high=_num(r["ci_high"]),
                ci_method="t",
                n_unweighted=int(r["n_a"]) + int(r["n_b"]),
                df=_num(r["df"]),
                p_value=_num(r["p_value"]),
                p_adjusted=_num(p_adj[i]),
                weighted=design.weighted,
                base=f"{spec['what']}; respondents answering both (n = {r['n_a']} vs {r['n_b']})",
            )
        )
    rs: list[Estimate] = []
    for j, t in enumerate(tests):
        k = len(diffs) + j
        rs.append(
            Estimate(
                key=f"comparisons.{t['row']}.rao_scott.by_{t['col']}",
                table="comparisons.rao_scott",
                statistic="f_statistic",
                variable=str(t["row"]),
                estimate=_num(t["f"]),
                df=_num(t["ndf"]),
                p_value=_num(t["p_value"]),
                p_adjusted=_num(p_adj[k]),
                n_unweighted=int(t["n"]),
                weighted=design.weighted,
                base=f"respondents answering {t['row']} and {t['col']}",
            )
        )
        rs.append(
            Estimate(
                key=f"comparisons.{t['row']}.rao_scott.by_{t['col']}.ddf",
                table="comparisons.rao_scott",
                statistic="df_denominator",
                variable=str(t["row"]),
                estimate=_num(t["ddf"]),
                n_unweighted=int(t["n"]),
                weighted=design.weighted,
                base="denominator degrees of freedom of the Rao-Scott F",
            )
        )
    t1 = ResultTable(
        "comparisons.differences",
        "comparisons",
        tuple(dest),
        dims=(),
        notes=(
            "difference a - b of weighted means/proportions; design-based t test "
            "(svyttest), CI t(df)",
            fam,
            *notes,
        ),
    )
    t2 = ResultTable(
        "comparisons.rao_scott",
        "comparisons",
        tuple(rs),
        dims=(),
        notes=(
            "Rao-Scott second-order F test of independence (svychisq statistic='F'); "
            "df = numerator df, the .ddf estimate gives the denominator df",
            fam,
        ),
    )
    return t1, t2


def _model_table(design: SurveyDesign, min_base: int | None = None) -> ResultTable:
    data = design.data
    numeric = [v for v in ("barrier_finance", "barrier_language") if v in data.columns]
    cats: dict[str, str] = {}
    notes = []
    needed = ["intends_abroad", *numeric, "gender", "school"]
    if not set(needed) <= set(data.columns):
        return ResultTable("models.intends_abroad", "models", (), notes=("variables missing",))
    complete = data[needed].dropna()
    for c, pref in (("gender", "F"), ("school", REFERENCE_SCHOOL)):
        levels = sorted(complete[c].astype(str).unique())
        if len(levels) >= 2:
            cats[c] = pref if pref in levels else levels[0]
        else:
            notes.append(f"{c} dropped from the model (one level only)")
    if len(complete) < 10 or complete["intends_abroad"].nunique() < 2:
        return ResultTable(
            "models.intends_abroad",
            "models",
            (),
            notes=("model not estimable: too few respondents or no variation",),
        )
    try:
        m = logistic_regression(design, "intends_abroad", numeric, cats, min_base=min_base)
    except ModelError as exc:
        return ResultTable(
            "models.intends_abroad", "models", (), notes=(f"model not estimable: {exc}",)
        )
    est: list[Estimate] = []
    base = "respondents who answered intends_abroad and every regressor"
    for _, r in m.iterrows():
        term = "intercept" if r["variable"] == "(Intercept)" else str(r["variable"])
        lv = r["level"] if isinstance(r["level"], str) else None
        suffix = term + (f".{lv}" if lv else "")
        dom = domain_of(**{term: lv}) if lv else ()
        common = dict(
            table="models.intends_abroad",
            variable=term,
            domain=dom,
            level=lv,
            se=_num(r["se"]),
            ci_method="t",
            n_unweighted=int(r["n"]) if _num(r["n"]) is not None else None,
            not_estimable=r["not_estimable"] if isinstance(r["not_estimable"], str) else None,
            df=_num(r["df"]),
            p_value=_num(r["p_value"]),
            weighted=design.weighted,
            base=base,
        )
        est.append(
            Estimate(
                key=f"models.intends_abroad.odds_ratio.{suffix}",
                statistic="odds" if term == "intercept" else "odds_ratio",
                estimate=_num(r["odds_ratio"]),
                ci_low=_num(r["ci_low"]),
                ci_high=_num(r["ci_high"]),
                **common,  # type: ignore[arg-type]
            )
        )
        est.append(
            Estimate(
                key=f"models.intends_abroad.coefficient.{suffix}",
                statistic="log_odds",
                estimate=_num(r["coefficient"]),
                ci_low=_num(r["coef_ci_low"]),
                ci_high=_num(r["coef_ci_high"]),
                **common,  # type: ignore[arg-type]
            )
        )
    refs = ", ".join(f"{c} = {v}" for c, v in cats.items())
    return ResultTable(
        "models.intends_abroad",
        "models",
        tuple(est),
        dims=(),
        notes=(
            "design-based logistic regression intends_abroad ~ "
            + " + ".join([*numeric, *cats])
            + f" (svyglm); reference levels: {refs}",
            "odds_ratio keys: exp(coefficient) with CI exp(b +- t(df) se); se is the SE of the "
            "coefficient (log-odds scale); coefficient keys give b with its CI",
            "p-values: t with df = design df + 1 - number of coefficients (as svyglm); "
            "standard errors include the weighting calibration (as svyglm on R's calibrated "
            "design)",
            *notes,
            *m.attrs.get("notes", ()),
        ),
    )


def _diagnostics_table(weighted: WeightedResponses, singletons: int) -> ResultTable:
    est: list[Estimate] = []
    stats_ = ("population", "respondents", "sum_weights", "kish_n_eff", "deff_w")
    for _, r in weighted.diagnostics.iterrows():
        dom = {"wave": str(r["wave"]), "school": str(r["school"])}
        for s in stats_:
            est.append(
                Estimate(
                    key=f"weighting.weight.{s}.by_wave.{r['wave']}.by_school.{r['school']}",
                    table="weighting.diagnostics",
                    statistic=s,
                    variable="weight",
                    estimate=_num(r[s]),
                    domain=domain_of(**dom),
                    n_unweighted=int(r["respondents"]),
                    weighted=s in ("sum_weights", "kish_n_eff", "deff_w"),
                    base=f"respondents of the school in wave {r['wave']}; population = "
                    f"enrolment {r['academic_year']}",
                )
            )
    for wave, info in weighted.waves.items():
        for s in ("iterations", "max_change", "trimmed", "kish_n_eff", "deff_w", "sum_weights"):
            est.append(
                Estimate(
                    key=f"weighting.weight.{s}.by_wave.{wave}",
                    table="weighting.diagnostics",
                    statistic=s,
                    variable="weight",
                    estimate=_num(info[s]),
                    domain=domain_of(wave=wave),
                    n_unweighted=int(info["n"]),  # type: ignore[arg-type]
                    weighted=True,
                    base=f"all respondents of wave {wave} ({info['method']}, enrolment "
                    f"{info['academic_year']})",
                )
            )
    notes = [
        "deff_w = 1 + cv^2 of the weights (Kish); kish_n_eff = (sum w)^2 / sum w^2",
        *weighted.notes,
    ]
    if singletons:
        notes.append(
            f"{singletons} stratum/strata with a single respondent: variance centred on the "
            "overall mean (R survey.lonely.psu = 'adjust')"
        )
    return ResultTable(
        "weighting.diagnostics",
        "weighting",
        tuple(est),
        dims=("wave", "school"),
        notes=tuple(notes),
    )


def _dual_degree_table(design: SurveyDesign, ci: str) -> ResultTable:
    est = _likert_estimates(
        design, "interest_dual_degree", "survey.dual_degree", ("school", "wave"), ci
    )
    return ResultTable(
        "survey.dual_degree",
        "survey",
        tuple(est),
        dims=("school", "wave"),
        notes=("interest in a dual degree, 1 = none, 5 = strong; top-2-box = 4 or 5",),
    )


def survey_result_tables(
    responses: pd.DataFrame,
    enrolment: pd.DataFrame,
    config: StudyConfig,
    variables: Mapping[str, str],
) -> tuple[list[ResultTable], pd.DataFrame]:
    """Weights, estimates, comparisons and the model as report tables.

    Returns the tables ``weighting.diagnostics``, ``survey.experience``,
    ``survey.dual_degree``, ``survey.barriers``, ``survey.destinations``,
    ``comparisons.differences``, ``comparisons.rao_scott``, ``models.intends_abroad`` and the
    responses with a ``weight`` column (helper columns removed).
    """
    weighted = weight_responses(responses, enrolment, config.weighting)
    design = build_design(weighted, config.design)
    ci = config.design.ci_method
    cols = set(design.data.columns)

    def has(v: str, kinds: Sequence[str] = ()) -> bool:
        if v not in cols:
            return False
        return not kinds or variables.get(v, kinds[0]) in kinds

    present_exp = [v for v in EXPERIENCE_VARS if has(v, ("binary",))]
    barriers = [v for v in BARRIER_VARS if has(v, ("likert",))]
    # The tables are independent functions of one read-only design: built by two threads
    # (numpy and svy release the GIL in their loops; the design's caches hold deterministic
    # values, so a race computes one twice, never differently). Same tables, same order.
    jobs: list[Callable[[], ResultTable | tuple[ResultTable, ...]]] = [
        partial(_diagnostics_table, weighted, design.singleton_strata),
        partial(_experience_table, design, present_exp, ci),
    ]
    if has("interest_dual_degree", ("likert",)):
        jobs.append(partial(_dual_degree_table, design, ci))
    jobs.append(partial(_barriers_table, design, barriers, ci))
    if any(c.startswith("pref_region__") for c in cols):
        jobs.append(partial(_destinations_table, design, "pref_region", ci))
    jobs += [
        partial(_comparison_tables, design, set(present_exp), config.disclosure.min_base),
        partial(_model_table, design, config.disclosure.min_base),
    ]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="survey-tables") as pool:
        built = list(pool.map(lambda job: job(), jobs))
    tables: list[ResultTable] = []
    for b in built:
        tables.extend(b if isinstance(b, tuple) else (b,))
    out = weighted.frame.drop(columns=[c for c in _HELPERS if c in weighted.frame.columns])
    return tables, out
