"""Speed of the survey estimates: 1,000,000 synthetic responses, 10 schools, 30 variables.

Prints the time and peak memory (``resource.getrusage``) of: building the stratified design
(strata = school, fpc from enrolment), then means with Taylor SEs, CIs, df, n and deff for 30
variables overall and by the 10 schools (the loop is over variables; respondents are handled
by vectorised ``np.bincount``).  Target: <= 10 s on 2 cores.  If ``Rscript`` with the
``survey`` package is installed, the same estimates are timed in R (``svymean`` + ``svyby``);
otherwise the script says so.

Run: ``python benchmarks/bench_survey.py [--n 1000000] [--vars 30] [--skip-r]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.survey.design import SurveyDesign, estimate_many  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic(n: int, n_vars: int, seed: int = 7) -> tuple[pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    schools = [f"school_{i:02d}" for i in range(10)]
    share = rng.dirichlet(np.full(10, 5.0))
    school = rng.choice(10, n, p=share)
    enrolled = {s: float(np.sum(school == i)) * rng.uniform(3, 8) for i, s in enumerate(schools)}
    data: dict[str, object] = {"school": pd.Categorical.from_codes(school, schools)}
    for j in range(n_vars):
        if j % 3 == 0:
            v = (rng.random(n) < 0.2 + 0.05 * (school % 4)).astype(float)
        else:
            v = rng.integers(1, 6, n).astype(float)
        v[rng.random(n) < 0.03] = np.nan  # missing answers, dropped per variable
        data[f"v{j:02d}"] = v
    df = pd.DataFrame(data)
    n_h = np.bincount(school, minlength=10)
    w_school = np.array([enrolled[s] for s in schools]) / n_h
    df["weight"] = w_school[school]
    return df, enrolled


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); e <- read.csv(args[2])
d$N <- e$enrolled[match(d$school, e$school)]
t0 <- Sys.time()
des <- svydesign(ids = ~1, strata = ~school, fpc = ~N, data = d)
vars <- grep("^v", names(d), value = TRUE)
for (v in vars) {
  f <- as.formula(paste0("~", v))
  m <- svymean(f, des, na.rm = TRUE, deff = TRUE)
  b <- svyby(f, ~school, des, svymean, na.rm = TRUE, deff = TRUE)
}
cat(sprintf("R_SECONDS %.3f\n", as.numeric(difftime(Sys.time(), t0, units = "secs"))))
"""


def time_r(df: pd.DataFrame, enrolled: dict[str, float]) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R: Rscript is not installed, no R timing")
        return
    ok = subprocess.run(
        [rscript, "-e", "suppressPackageStartupMessages(library(survey))"],
        capture_output=True,
    )
    if ok.returncode != 0:
        print("R: the survey package is not installed, no R timing")
        return
    with tempfile.TemporaryDirectory() as tmp:
        d, e, s = Path(tmp, "d.csv"), Path(tmp, "e.csv"), Path(tmp, "bench.R")
        df.to_csv(d, index=False)
        pd.DataFrame({"school": list(enrolled), "enrolled": list(enrolled.values())}).to_csv(
            e, index=False
        )
        s.write_text(R_SCRIPT)
        out = subprocess.run([rscript, str(s), str(d), str(e)], capture_output=True, text=True)
        line = [x for x in out.stdout.splitlines() if x.startswith("R_SECONDS")]
        if line:
            print(f"R survey (design + svymean + svyby, 30 variables): {line[0].split()[1]} s")
        else:
            print("R run failed:", out.stderr[-500:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--vars", type=int, default=30)
    ap.add_argument("--skip-r", action="store_true")
    a = ap.parse_args()

    t = time.perf_counter()
    df, enrolled = synthetic(a.n, a.vars)
    print(f"generate {a.n:,} responses x {a.vars} variables: {time.perf_counter() - t:.2f} s")
    variables = [c for c in df.columns if c.startswith("v")]

    t0 = time.perf_counter()
    design = SurveyDesign.from_frame(
        df, "stratified", strata="school", weight="weight", population=enrolled
    )
    t1 = time.perf_counter()
    overall = estimate_many(design, variables)
    t2 = time.perf_counter()
    by_school = estimate_many(design, variables, by="school")
    t3 = time.perf_counter()
    print(f"design (strata = school, fpc):           {t1 - t0:6.2f} s")
    print(
        f"{len(variables)} means + SE/CI/df/n/deff overall:  {t2 - t1:6.2f} s ({len(overall)} rows)"
    )
    print(
        f"{len(variables)} means by 10 schools:              {t3 - t2:6.2f} s ({len(by_school)} rows)"
    )
    print(f"total estimation:                        {t3 - t0:6.2f} s (target <= 10 s)")
    print(f"peak memory (ru_maxrss):                 {peak_mb():6.0f} MB")
    assert by_school["se"].notna().all() and (by_school["n"] > 0).all()
    if not a.skip_r:
        time_r(df, enrolled)


if __name__ == "__main__":
    main()
