"""Fixtures: the R reference data set and a small synthetic tidy Responses frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REF = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
PREF_OPTIONS = ("euroregion", "other_europe", "north_america", "asia")


def load_reference_survey() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(REF / "survey.csv", dtype=str, keep_default_na=False)
    en = pd.read_csv(REF / "enrollment.csv", dtype=str, keep_default_na=False)
    for c in (
        "went_abroad",
        "intends_abroad",
        "interest_dual_degree",
        "barrier_finance",
        "barrier_language",
        "weight",
        "study_year",
    ):
        df[c] = df[c].astype(float)
    df["grant_eur"] = pd.to_numeric(df["grant_eur"].replace("", np.nan))
    return df, en


@pytest.fixture(scope="session")
def reference_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_reference_survey()


@pytest.fixture(scope="session")
def R() -> dict:
    return json.loads((REF / "reference_R.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def raked_R() -> pd.DataFrame:
    return pd.read_csv(REF / "raked_weights_R.csv")


SCHOOL_SIZES = {
    "imt_atlantique": (600, 1500),
    "imt_nord_europe": (500, 1400),
    "telecom_paris": (300, 1200),
    "eurecom": (100, 300),
}


def synthetic_responses(seed: int = 3, n: int = 600) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tidy Responses frame (two waves, gender X, missing answers) and its enrolment."""
    rng = np.random.default_rng(seed)
    schools = np.array(list(SCHOOL_SIZES))
    school = rng.choice(schools, n, p=[0.35, 0.3, 0.25, 0.1])
    wave = rng.choice(["2022", "2023"], n)
    # wave 2022 has no EURECOM respondents: its population must exclude EURECOM
    school = np.where((wave == "2022") & (school == "eurecom"), "telecom_paris", school)
    gender = rng.choice(["F", "M", "X"], n, p=[0.33, 0.62, 0.05])
    study_year = rng.integers(1, 6, n).astype(float)
    fin = rng.integers(1, 6, n).astype(float)
    lang = np.clip(fin + rng.integers(-1, 2, n), 1, 5).astype(float)
    rec = np.clip(fin + rng.integers(-2, 3, n), 1, 5).astype(float)
    lin = 1.5 - 0.5 * fin - 0.2 * lang + 0.3 * (gender == "F")
    intends = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    went = (rng.random(n) < 0.25 + 0.1 * (school == "eurecom")).astype(float)
    interest = rng.integers(1, 6, n).astype(float)
    for arr, rate in ((intends, 0.03), (interest, 0.05), (fin, 0.02), (rec, 0.04)):
        arr[rng.random(n) < rate] = np.nan
    df = pd.DataFrame(
        {
            "respondent_id": [f"r{i:05d}" for i in range(n)],
            "source_id": "synthetic",
            "source_file": "synthetic.csv",
            "source_row": np.arange(1, n + 1),
            "wave": wave,
            "school": school,
            "gender": gender,
            "study_year": study_year,
            "went_abroad": went,
            "intends_abroad": intends,
            "interest_dual_degree": interest,
            "barrier_finance": fin,
            "barrier_language": lang,
            "barrier_recognition": rec,
        }
    )
    answered = rng.random(n) > 0.1
    for o in PREF_OPTIONS:
        df[f"pref_region__{o}"] = np.where(answered, (rng.random(n) < 0.3).astype(float), np.nan)
    rows = []
    for s, (f_, m_) in SCHOOL_SIZES.items():
        for year, k in ((2021, 1.0), (2022, 1.1)):
            rows.append(
                {"school": s, "academic_year": year, "gender": "F", "enrolled": int(f_ * k)}
            )
            rows.append(
                {"school": s, "academic_year": year, "gender": "M", "enrolled": int(m_ * k)}
            )
    return df, pd.DataFrame(rows)


VARIABLES = {
    "went_abroad": "binary",
    "intends_abroad": "binary",
    "interest_dual_degree": "likert",
    "barrier_finance": "likert",
    "barrier_language": "likert",
    "barrier_recognition": "likert",
    "pref_region": "multi-select",
    "gender": "categorical",
    "study_year": "categorical",
}
