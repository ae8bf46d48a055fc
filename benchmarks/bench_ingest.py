"""Memory/time benchmark of survey ingest: 1,000,000 responses x 40 columns, Qualtrics layout.

    python benchmarks/bench_ingest.py [--rows 1000000] [--keep]

Generates a deterministic Qualtrics-layout CSV (3 header rows, 17 metadata columns including
personal data, 23 question columns) in a temporary folder, then reads it through the codebook
in a *child* process and prints the elapsed time and that process's peak RSS (target: < 2 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

META = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel",
    "UserLanguage",
]  # fmt: skip
LIKERT = ["interest_dual_degree", "barrier_finance", "barrier_language", "barrier_recognition"]
EXTRA_LIKERT = [f"extra_{i}" for i in range(1, 6)]
REGIONS = [
    "euroregion",
    "other_europe",
    "north_america",
    "latin_america",
    "asia",
    "africa",
    "oceania",
]

CODEBOOK = """
version = 1
[variables.school]
type = "school"
values = { "1" = "imt_atlantique", "2" = "imt_nord_europe", "3" = "imt_mines_albi", "4" = "imt_mines_ales", "5" = "mines_saint_etienne", "6" = "telecom_paris", "7" = "telecom_sudparis", "8" = "imt_bs" }
[variables.gender]
type = "categorical"
values = { "1" = "F", "2" = "M", "3" = "X" }
[variables.study_year]
type = "numeric"
range = [1, 5]
[variables.went_abroad]
type = "binary"
values = { "1" = 1, "2" = 0 }
[variables.intends_abroad]
type = "binary"
values = { "1" = 1, "2" = 0 }
[variables.pref_region]
type = "multi-select"
options = ["euroregion", "other_europe", "north_america", "latin_america", "asia", "africa", "oceania"]
[variables.comment]
type = "free-text"
"""
for _v in LIKERT + EXTRA_LIKERT:
    CODEBOOK += f'[variables.{_v}]\ntype = "likert"\nscale = [1, 5]\n'
CODEBOOK += '[[sources]]\nid = "bench"\nplatform = "qualtrics"\nwave = "2023"\n[sources.columns]\n'
_QCOLS = ["Q1", "Q2", "Q3", "Q4", "Q5"]
for _q, _v in zip(
    _QCOLS, ["school", "gender", "study_year", "went_abroad", "intends_abroad"], strict=True
):
    CODEBOOK += f'{_q} = "{_v}"\n'
for _i, _v in enumerate(LIKERT + EXTRA_LIKERT, 6):
    CODEBOOK += f'Q{_i} = "{_v}"\n'
for _i, _r in enumerate(REGIONS, 1):
    CODEBOOK += f'Q20_{_i} = {{ variable = "pref_region", option = "{_r}" }}\n'
CODEBOOK += 'Q21_TEXT = "comment"\n'
QUESTIONS = _QCOLS + [f"Q{i}" for i in range(6, 6 + len(LIKERT + EXTRA_LIKERT))]
QUESTIONS += [f"Q20_{i}" for i in range(1, 8)] + ["Q21_TEXT", "Q22"]


def generate(path: Path, rows: int, seed: int = 20231) -> None:
    rng = np.random.default_rng(seed)
    cols = META + QUESTIONS
    assert len(cols) == 40, len(cols)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(cols) + "\n")
        fh.write(",".join(cols) + "\n")
        fh.write(",".join(f'"{{""ImportId"":""{c}""}}"' for c in cols) + "\n")
        block = 100_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            ids = np.arange(start, start + n)
            df = {
                "StartDate": "2023-03-01 10:00:00",
                "EndDate": "2023-03-01 10:09:00",
                "Status": rng.choice(["0", "0", "0", "0", "0", "0", "0", "0", "0", "1"], n),
                "IPAddress": [f"10.{i % 256}.{(i // 256) % 256}.{i % 97}" for i in ids],
                "Progress": "100",
                "Duration (in seconds)": rng.integers(60, 1800, n).astype(str),
                "Finished": rng.choice(["1", "1", "1", "0"], n),
                "RecordedDate": "2023-03-01 10:09:00",
                "ResponseId": [f"R_{i:015d}" for i in ids],
                "RecipientLastName": "",
                "RecipientFirstName": "",
                "RecipientEmail": "",
                "ExternalReference": "",
                "LocationLatitude": "48.1",
                "LocationLongitude": "-1.6",
                "DistributionChannel": "anonymous",
                "UserLanguage": rng.choice(["EN", "FR"], n),
                "Q1": rng.integers(1, 9, n).astype(str),
                "Q2": rng.integers(1, 4, n).astype(str),
                "Q3": rng.integers(1, 6, n).astype(str),
                "Q4": rng.integers(1, 3, n).astype(str),
                "Q5": rng.integers(1, 3, n).astype(str),
            }
            for q in QUESTIONS[5:14]:
                df[q] = rng.integers(1, 6, n).astype(str)
            for i in range(1, 8):
                df[f"Q20_{i}"] = rng.choice(["1", ""], n)
            df["Q21_TEXT"] = rng.choice(["", "", "", "Plus de bourses, svp", "=HYPERLINK(x)"], n)
            df["Q22"] = rng.integers(0, 100, n).astype(str)
            pd.DataFrame(df, columns=cols).to_csv(
                fh, header=False, index=False, lineterminator="\n"
            )


def read(path: Path) -> None:
    from analysis.config import FilterConfig
    from analysis.ingest import parse_codebook, read_survey_export

    t0 = time.perf_counter()
    cb = parse_codebook(CODEBOOK, "bench-codebook.toml")
    res = read_survey_export(
        path, cb, "bench", wave="2023", filters=FilterConfig(), pseudonym_key="bench-key"
    )
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    m = res.manifest
    print(json.dumps({
        "seconds": round(dt, 1), "peak_rss_mib": round(rss), "rows_read": m["rows_read"],
        "rows_kept": m["rows_kept"], "filtered": m["filtered"], "quarantined": m["quarantined"],
        "responses_mib": round(res.responses.memory_usage(deep=True).sum() / 2**20),
    }))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.read:
        read(args.read)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    path = tmp / "qualtrics_bench.csv"
    t0 = time.perf_counter()
    generate(path, args.rows)
    print(f"generated {args.rows:,} rows x 40 columns, {path.stat().st_size / 2**20:.0f} MiB "
          f"in {time.perf_counter() - t0:.1f} s: {path}")  # fmt: skip
    out = subprocess.run(
        [sys.executable, __file__, "--read", str(path)], capture_output=True, text=True
    )
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        sys.exit(out.returncode)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"ingest: {res['seconds']} s, peak RSS {res['peak_rss_mib']} MiB (target < 2048 MiB)")
    print(f"rows read {res['rows_read']:,}, kept {res['rows_kept']:,}, filtered {res['filtered']}, "
          f"quarantined {res['quarantined']:,}; tidy table {res['responses_mib']} MiB")  # fmt: skip
    if not args.keep:
        path.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
