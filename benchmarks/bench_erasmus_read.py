"""Benchmark: read a full-size Erasmus+ KA1 CSV (3.5 million rows x 24 columns) and keep the
IMT senders, printing the wall time and the peak resident memory.

    python benchmarks/bench_erasmus_read.py                 # file in a temporary folder
    python benchmarks/bench_erasmus_read.py --path big.csv  # write (if absent) / reuse a file
    python benchmarks/bench_erasmus_read.py --rows 500000   # a smaller run

The file is generated deterministically (fixed seed) from a pool of realistic rows: about 0.3 %
are sent by IMT schools, the rest by other senders across Europe, like the real release where
IMT rows are a needle in a 3.5 M-row haystack.  Targets: peak RSS well under 2 GB, < 30 s.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.mobility.readers import KA1_HEADER, read_mobility_file  # noqa: E402
from analysis.mobility.tables import default_table_path  # noqa: E402

IMT_CODES = ["F\u00a0 LILLE91", "F  NANTES80", "F  ALBI05", "F  ALES02", "F  EVRY11", "F  DOUAI05"]
OTHER_CODES = [
    ("FR", "F  LYON12"),
    ("FR", "F  PARIS001"),
    ("FR", "F  TOULOUS28"),
    ("DE", "D  BERLIN01"),
    ("ES", "E  MADRID05"),
    ("IT", "I  ROMA01"),
    ("PL", "PL WARSZAW01"),
    ("EL", "G  ATHINE42"),
    ("UK", "UK LONDON001"),
    ("NL", "NL DELFT01"),
]
ACTIVITIES = [
    "Student mobility for studies between Programme Countries",
    "Student mobility for traineeships between Programme Countries",
    "Staff mobility for teaching between Programme Countries",
    "Student mobility for Studies To/From Partner Countries",
]
DEST = ["BE", "NL", "DE", "ES", "IT", "UK", "EL", "SE", "US", "CA", "CN", "-"]


def _line(rng: np.random.Generator, imt: bool) -> str:
    year = int(rng.integers(2014, 2020))
    month = int(rng.integers(1, 13))
    if imt:
        sc, code = "FR", IMT_CODES[int(rng.integers(len(IMT_CODES)))]
    else:
        sc, code = OTHER_CODES[int(rng.integers(len(OTHER_CODES)))]
    act = ACTIVITIES[int(rng.integers(len(ACTIVITIES)))]
    profile = "Staff" if act.startswith("Staff") else "Learner"
    cells = {
        "Project Reference": f"{year}-1-FR01-KA103-{int(rng.integers(1, 99999)):06d}",
        "Academic Year": f"{year}-{(year + 1) % 100:02d}",
        "Mobility Start Month": f"{year + (month < 9)}-{month:02d}",
        "Mobility End Month": f"{year + 1}-{(month + 4) % 12 + 1:02d}",
        "Mobility Duration": str(int(rng.integers(20, 330))),
        "Activity (mob)": act,
        "Field of Education": "Engineering and engineering trades",
        "Participant Nationality": sc,
        "Education Level": "ISCED-7 - Second cycle / Master\u2019s or equivalent level (EQF-7)",
        "Participant Gender": ["Female", "Male", "Undefined"][int(rng.integers(3))],
        "Participant Profile": profile,
        "Special Needs": "No",
        "Fewer Opportunities": "No",
        "GroupLeader": "No",
        "Participant Age": str(int(rng.integers(18, 30))),
        "Sending Country Code": sc,
        "Sending City": "Somewhere",
        "Sending Organization": "SENDING ORGANISATION",
        "Sending Organisation Erasmus Code": code,
        "Receiving Country Code": DEST[int(rng.integers(len(DEST)))],
        "Receiving City": "Elsewhere",
        "Receiving Organization": "RECEIVING ORGANISATION",
        "Receiving Organisation Erasmus Code": "-",
        "Participants": str(int(rng.integers(1, 4))),
    }
    return ";".join(cells[h] for h in KA1_HEADER)


def write_ka1(path: Path, rows: int, seed: int = 20240611) -> None:
    """Write a deterministic KA1 file of ``rows`` data rows (pool of 4,000 distinct lines)."""
    rng = np.random.default_rng(seed)
    pool = np.array([_line(rng, imt=i < 12) for i in range(4000)], dtype=object)
    # 12 of 4,000 pool lines are IMT rows: 0.3 % of the file.
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(KA1_HEADER) + "\n")
        done = 0
        while done < rows:
            n = min(500_000, rows - done)
            idx = rng.integers(0, len(pool), n)
            fh.write("\n".join(pool[idx]) + "\n")
            done += n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3_500_000)
    ap.add_argument("--path", type=Path, default=None, help="file to write/reuse")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.generate_only:
        write_ka1(args.path, args.rows)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "ka1_benchmark.csv"
        if not path.exists():
            # Generate in a child process so its memory does not count in the reader's peak.
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate-only",
                    "--rows",
                    str(args.rows),
                    "--path",
                    str(path),
                ],
                check=True,
            )
            print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB "
                  f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        schools = pd.read_csv(default_table_path("schools"), dtype=str, keep_default_na=False)
        countries = pd.read_csv(default_table_path("countries"), dtype=str, keep_default_na=False)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        ingest = read_mobility_file(path, "erasmus-ka1", schools, countries)
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = ingest.manifest
    print(f"read {m['rows_read']:,} rows in {dt:.1f} s ({m['rows_read'] / dt:,.0f} rows/s)")
    print(
        f"kept {m['rows_kept']:,} IMT rows; filtered {m['filtered']}; quarantined {m['quarantined']}"
    )
    print(f"peak RSS {peak:,.0f} MB (before reading: {rss0:,.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
