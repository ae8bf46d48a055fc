"""Issue 16 item 6: the survey statistics of one study at 1,000,000 respondents, and R's time.

Steps timed (2 cores, one process): read the CSV, build the stratified design with fpc (strata =
school, N from enrolment), five means overall and by the 10 schools (SE, CI, df, deff), the
Rao-Scott test went_abroad x school, and the logistic model intends_abroad ~ barrier_finance +
barrier_language + gender + school (svyglm sandwich).  If ``Rscript`` with ``survey`` is
installed, the same steps are timed in R on the same file (``read.csv``, ``svydesign``,
``svymean`` + ``svyby``, ``svychisq``, ``svyglm``) and the largest relative difference of the
Rao-Scott F and of the model's coefficients and SEs is printed (same numbers).

Run: ``python benchmarks/bench_survey_model.py [--n 1000000] [--skip-r]`` (default 100,000;
the 10^6 figures are in docs/scale.md).
"""

from __future__ import annotations

import argparse
import json
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

from analysis.survey.compare import rao_scott  # noqa: E402
from analysis.survey.design import SurveyDesign, estimate_many  # noqa: E402
from analysis.survey.models import logistic_regression  # noqa: E402

MEANS = (
    "interest_dual_degree",
    "barrier_finance",
    "barrier_language",
    "went_abroad",
    "intends_abroad",
)


def write_data(path: Path, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    schools = np.array([f"school_{i:02d}" for i in range(10)])
    school = rng.choice(10, n, p=rng.dirichlet(np.full(10, 5.0)))
    n_h = np.bincount(school, minlength=10)
    big_n = (n_h * rng.uniform(3, 8, 10)).astype(int) + 1
    gender = np.where(rng.random(n) < 0.4, "F", "M")
    fin = rng.integers(1, 6, n).astype(float)
    lang = np.clip(fin + rng.integers(-1, 2, n), 1, 5).astype(float)
    lin = 1.5 - 0.5 * fin - 0.2 * lang + 0.3 * (gender == "F") + 0.05 * (school % 4)
    intends = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    went = (rng.random(n) < 0.2 + 0.05 * (school % 4)).astype(float)
    interest = rng.integers(1, 6, n).astype(float)
    interest[rng.random(n) < 0.05] = np.nan
    pd.DataFrame(
        {
            "school": schools[school],
            "gender": gender,
            "went_abroad": went,
            "intends_abroad": intends,
            "interest_dual_degree": interest,
            "barrier_finance": fin,
            "barrier_language": lang,
            "N_school": big_n[school],
        }
    ).to_csv(path, index=False)


def run_python(path: Path) -> dict[str, object]:
    t = {"start": time.perf_counter()}
    df = pd.read_csv(path, engine="pyarrow")
    t["read"] = time.perf_counter()
    df["weight"] = df["N_school"] / df.groupby("school")["school"].transform("size")
    design = SurveyDesign.from_frame(
        df, "stratified", strata="school", weight="weight", population="N_school"
    )
    t["design"] = time.perf_counter()
    overall = estimate_many(design, list(MEANS))
    by_school = estimate_many(design, list(MEANS), by="school")
    t["means"] = time.perf_counter()
    rs = rao_scott(design, "went_abroad", "school")
    t["rao_scott"] = time.perf_counter()
    model = logistic_regression(
        design,
        "intends_abroad",
        ["barrier_finance", "barrier_language"],
        {"gender": "F", "school": "school_00"},
    )
    t["model"] = time.perf_counter()
    assert len(overall) == 5 and by_school["se"].notna().all()
    steps = ["read", "design", "means", "rao_scott", "model"]
    prev, times = t["start"], {}
    for s in steps:
        times[s] = t[s] - prev
        prev = t[s]
    times["total"] = t["model"] - t["start"]
    return {"times": times, "rao_scott_f": rs["f"], "model": model}


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
t0 <- Sys.time(); tt <- c()
d <- read.csv(args[1]); tt["read"] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
d$school <- factor(d$school); d$gender <- factor(d$gender, levels = c("F", "M"))
t1 <- Sys.time()
des <- svydesign(ids = ~1, strata = ~school, fpc = ~N_school, data = d)
tt["design"] <- as.numeric(difftime(Sys.time(), t1, units = "secs")); t1 <- Sys.time()
for (v in c("interest_dual_degree", "barrier_finance", "barrier_language", "went_abroad",
            "intends_abroad")) {
  f <- as.formula(paste0("~", v))
  m <- svymean(f, des, na.rm = TRUE, deff = TRUE)
  b <- svyby(f, ~school, des, svymean, na.rm = TRUE, deff = TRUE)
}
tt["means"] <- as.numeric(difftime(Sys.time(), t1, units = "secs")); t1 <- Sys.time()
x <- svychisq(~went_abroad + school, des, statistic = "F")
tt["rao_scott"] <- as.numeric(difftime(Sys.time(), t1, units = "secs")); t1 <- Sys.time()
g <- svyglm(intends_abroad ~ barrier_finance + barrier_language + gender + school, des,
            family = quasibinomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
tt["model"] <- as.numeric(difftime(Sys.time(), t1, units = "secs"))
tt["total"] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
cf <- summary(g)$coefficients
cat(sprintf('{"times": {%s}, "F": %.17g, "coef": [%s], "se": [%s]}\n',
    paste(sprintf('"%s": %.3f', names(tt), tt), collapse = ", "), x$statistic,
    paste(sprintf("%.17g", cf[, 1]), collapse = ", "), paste(sprintf("%.17g", cf[, 2]), collapse = ", ")))
"""


def run_r(path: Path) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R: Rscript is not installed, no R timing")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "bench.R")
        script.write_text(R_SCRIPT)
        out = subprocess.run([rscript, str(script), str(path)], capture_output=True, text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not line:
        print("R run failed (is r-cran-survey installed?):", out.stderr[-500:])
        return None
    return json.loads(line[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--skip-r", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "survey.csv")
        write_data(path, a.n)
        py = run_python(path)
        times = py["times"]
        print(f"{a.n:,} respondents, 10 schools, 2 cores")
        print("step                                   python      R")
        r = None if a.skip_r else run_r(path)
        labels = {
            "read": "read CSV",
            "design": "stratified design with fpc",
            "means": "5 means overall + by 10 schools",
            "rao_scott": "Rao-Scott went_abroad x school",
            "model": "logistic model (13 terms)",
            "total": "total",
        }
        for k, lab in labels.items():
            rt = f"{r['times'][k]:8.2f} s" if r else ""
            print(f"{lab:36s} {times[k]:7.2f} s {rt}")
        print(
            f"peak memory (ru_maxrss, python): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        if r:
            m = py["model"]
            rel_f = abs(py["rao_scott_f"] / r["F"] - 1)
            rel_b = np.max(np.abs(m["coefficient"].to_numpy() / np.array(r["coef"]) - 1))
            rel_se = np.max(np.abs(m["se"].to_numpy() / np.array(r["se"]) - 1))
            print(
                f"same numbers as R: Rao-Scott F {rel_f:.1e}, coefficients {rel_b:.1e}, "
                f"SEs {rel_se:.1e} (max relative difference); R/python total "
                f"{r['times']['total'] / times['total']:.1f}x"
            )


if __name__ == "__main__":
    main()
