"""Write a SYNTHETIC study at full scale: N survey responses and an M-row Erasmus+ KA1 CSV.

    python benchmarks/generate_scale.py --responses 1000000 --erasmus-rows 3500000 \
        --out benchmarks/_data/scale_1000000 [--seed 2023] [--max-rows-per-file 200000]

Same layouts, constants and generating model as the bundled sample (``data/generate_sample.py``
is imported, not copied: schools, enrolment model, Qualtrics/LimeSurvey column lists and
ImportIds, comment pools, Erasmus+ header, hosts, the IMT Erasmus+ rows themselves, the school
spreadsheet and the codebook), but every per-respondent draw is vectorised (numpy) and the text
is assembled column-wise with pyarrow, so 10^6 responses + 3.5 M Erasmus+ rows take well under
2 minutes.  The same arguments give byte-identical files.

What is written (all in ``--out``):

* Qualtrics (modern 3-row export) waves "2022" and "2023", 38 columns: the sample's 17 metadata
  + 17 question columns + ``Q10_1``/``Q10_2`` (extra Likert questions, mapped in the codebook
  to ``support_international_office`` and ``info_partner_schools``) + ``Q11`` (channel through
  which the student heard of the survey) and ``Q12`` (0-10 recommendation score), **left
  unmapped** on purpose: the reader lists them in ``manifest["unmapped_columns"]``.  A wave
  larger than ``--max-rows-per-file`` is split into several exports, by groups of schools (as
  if each school exported its own distribution), so that planted duplicates stay in one file.
* LimeSurvey (RemoteControl CSV) wave "2021" of IMT Nord Europe, one export per campus.
* Responses: 10 % LimeSurvey, 40 % wave 2022, 50 % wave 2023; the planted messiness of the
  sample (previews, spam, unfinished, speeders, duplicate respondents, out-of-scale Likert
  answers, unknown school codes, hostile free text, LimeSurvey incomplete and 1980 placeholder
  rows) in the same proportions.
* ``enrolment.csv``: the sample's enrolment model multiplied by a factor ``k`` so that the
  response rates stay those of the sample (8 %-25 %): a million responses need millions of
  enrolled students, otherwise finite-population corrections go negative.
* ``erasmus_ka1.csv``: the 24 KA1 columns with the sample's quirks; the IMT rows are the
  sample's own rows (``data/generate_sample.py``) with ``Participants`` multiplied by ``k`` (so
  outgoing rates stay realistic), spread through ``M`` rows of other European and French
  senders (students and staff, incoming and outgoing) that the reader must filter out.
* ``school_mobility_imt_nord_europe.csv`` (the sample's), ``codebook.toml`` (the sample's plus
  the wave-2022 source and the two extra Likert variables), ``study.toml`` and
  ``manifest.json`` (files, rows and planted counts, for checks).
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib.util
import io
import json
import math
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]


def _load_sample_module():
    """Import ``data/generate_sample.py`` (``data/`` is not a package)."""
    name = "generate_sample"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "data" / "generate_sample.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


gs = _load_sample_module()

DEFAULT_SEED = 2023
DEFAULT_MAX_ROWS_PER_FILE = 200_000
ERASMUS_FILE = "erasmus_ka1.csv"
ENROLMENT_FILE = gs.ENROLMENT_FILE
SCHOOL_SHEET_FILE = gs.SCHOOL_SHEET_FILE
CODEBOOK_FILE = gs.CODEBOOK_FILE
STUDY_FILE = gs.STUDY_FILE
MANIFEST_FILE = "manifest.json"

#: (wave, platform, share of the responses); wave "2021" is IMT Nord Europe only (LimeSurvey).
WAVES = (("2021", "limesurvey", 0.10), ("2022", "qualtrics", 0.40), ("2023", "qualtrics", 0.50))
QUALTRICS_SOURCES = {"2022": "imt_survey_2022", "2023": "imt_survey_2023"}
LIMESURVEY_SOURCE = "ine_survey_2021"
FIELD_START = {
    "2022": np.datetime64("2022-03-07T08:00:00"),
    "2023": np.datetime64("2023-03-06T08:00:00"),
}
LS_START = np.datetime64("2021-03-15T08:00:00")
FIELD_DAYS = 40

# Extra question columns of the scaled Qualtrics exports (38 columns in all).
EXTRA_LIKERT = (
    ("Q10_1", "support_international_office", "Support from the international office"),
    ("Q10_2", "info_partner_schools", "Information about partner institutions"),
)
EXTRA_UNMAPPED = (
    ("Q11", "How did you hear about this survey?", "QID11"),
    ("Q12", "How likely are you to recommend a stay abroad to a friend? (0-10)", "QID12"),
)
_SATISFACTION_Q = "How satisfied are you with the following?"

# Planted messiness per Qualtrics row (the sample's counts over its 2,573 rows).
MESSY = {
    "unfinished": 0.045,  # of the complete responses
    "preview": 4 / 2573,
    "spam": 3 / 2573,
    "speeders": 6 / 2573,
    "duplicates": 5 / 2573,
    "out_of_scale": 1 / 2573,  # per kind: one Q6 = 7, one Q7_1 = 7, one Q7_2 = 6 per 2,573 rows
    "unknown_school": 2 / 2573,
}
LS_INCOMPLETE = 24 / 300
LS_PLACEHOLDER = 38 / 276  # of the complete LimeSurvey responses
MIN_RESPONSES = 1_000
MIN_ERASMUS_ROWS = 10_000
ERASMUS_BATCH = 500_000


# ----------------------------------------------------------------------------- text helpers
def _esc(value: str, delimiter: str) -> str:
    """One CSV cell, quoted only when needed (Python csv QUOTE_MINIMAL rules)."""
    if any(c in value for c in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _pool(values: Sequence[str], delimiter: str) -> pa.Array:
    return pa.array([_esc(str(v), delimiter) for v in values], type=pa.string())


def _take(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    return pool.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _blank(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """``arr`` with the cells where ``mask`` is true emptied."""
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar("", pa.string()), arr)


def _lines(columns: Sequence[pa.Array], delimiter: str, eol: str) -> bytes:
    """Join escaped string columns into CSV lines (each ending with ``eol``), as bytes."""
    joined = pc.binary_join_element_wise(*columns, delimiter)
    joined = pc.binary_join_element_wise(joined, pa.scalar("", pa.string()), eol)
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    start, end = int(offsets[joined.offset]), int(offsets[joined.offset + len(joined)])
    return joined.buffers()[2].to_pybytes()[start:end]


def _dates(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` for datetime64[s] values (a pool of days x a pool of times)."""
    secs = seconds.astype("datetime64[s]").astype(np.int64)
    day, sod = np.divmod(secs, 86400)
    d0 = int(day.min())
    days = np.arange(d0, int(day.max()) + 1).astype("datetime64[D]").astype(str)
    dpart = _take(pa.array([d + " " for d in days]), day - d0)
    return pc.binary_join_element_wise(dpart, _take(_times_of_day(), sod), "")


@functools.cache
def _times_of_day() -> pa.Array:
    return pa.array([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                     for s in range(60)])  # fmt: skip


def _alloc(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainders)."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    raw = total * w
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    if rest:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def _choice(rng: np.random.Generator, p: Sequence[float], n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


# ----------------------------------------------------------------------------- enrolment
def enrolment_scale(responses: int, enrol: dict) -> int:
    """Factor on the sample's enrolment so that response rates stay the sample's."""
    sizes = _wave_sizes(responses)
    k = 1
    for wave, platform, _ in WAVES:
        n = sizes[wave]
        year = int(wave) - 1
        if platform == "qualtrics":
            base = sum(s.survey_rate * sum(enrol[(s.id, year)]) for s in gs.SCHOOLS)
            k = max(k, math.ceil(n / base))
        else:  # IMT Nord Europe only: keep its response rate at most 25 %
            k = max(k, math.ceil(n / (0.25 * sum(enrol[("imt_nord_europe", year)]))))
    return k


def _wave_sizes(responses: int) -> dict[str, int]:
    parts = _alloc(responses, np.array([share for _, _, share in WAVES]))
    return {w: int(n) for (w, _, _), n in zip(WAVES, parts, strict=True)}


# ----------------------------------------------------------------------------- answers
def _answers(
    rng: np.random.Generator, ine: np.ndarray, gender: np.ndarray
) -> dict[str, np.ndarray]:
    """The sample's generating model (``generate_sample._draw_answers``), vectorised."""
    n = len(ine)
    study_year = _choice(rng, [0.22, 0.22, 0.22, 0.20, 0.14], n) + 1
    went = (rng.random(n) < gs._logistic(-3.2 + 0.85 * (study_year - 1))).astype(int)
    fin = _choice(rng, [0.15, 0.20, 0.25, 0.22, 0.18], n) + 1
    lang_b = _choice(rng, [0.25, 0.28, 0.22, 0.15, 0.10], n) + 1
    recog = _choice(rng, [0.30, 0.30, 0.20, 0.12, 0.08], n) + 1
    logit = (1.3 - 0.75 * (fin - 3) - 0.25 * (lang_b - 3) + 0.35 * (gender == 1) + 0.3 * went
             + 0.4 * ine)  # fmt: skip
    intends = (rng.random(n) < gs._logistic(logit)).astype(int)
    interest = np.clip(np.round(rng.normal(2.9 + 0.9 * ine + 0.3 * intends, 1.0)), 1, 5)
    regions = []
    for r in gs.REGIONS:
        p = np.full(n, gs.REGION_PROB[r])
        if r == "euroregion":
            p[ine] = 0.65
        p = np.where(intends == 1, p, p * 0.5)
        regions.append((rng.random(n) < p).astype(int))
    return {
        "study_year": study_year,
        "went": went,
        "intends": intends,
        "interest": interest.astype(int),
        "fin": fin,
        "lang_b": lang_b,
        "recog": recog,
        "regions": np.array(regions),
        "extra": _choice(rng, [0.10, 0.20, 0.30, 0.25, 0.15], 2 * n).reshape(2, n) + 1,
        "channel": _choice(rng, [0.6, 0.2, 0.15, 0.05], n) + 1,
        "nps": rng.integers(0, 11, n),
    }


# ----------------------------------------------------------------------------- Qualtrics
def _qualtrics_wave(rng: np.random.Generator, wave: str, n_rows: int, enrol: dict,
                    max_rows_per_file: int) -> tuple[list[dict], dict]:  # fmt: skip
    """All rows of one Qualtrics wave, as per-file column dicts (files = groups of schools)."""
    year = int(wave) - 1
    schools = gs.SCHOOLS
    n_s = len(schools)
    cnt = {m: max(1, round(f * n_rows)) for m, f in MESSY.items() if m != "unfinished"}
    n_base = n_rows - cnt["preview"] - cnt["spam"] - cnt["speeders"] - cnt["duplicates"]
    n_unfinished = round(n_base * MESSY["unfinished"] / (1 + MESSY["unfinished"]))
    n_complete = n_base - n_unfinished
    rate_w = np.array([s.survey_rate * sum(enrol[(s.id, year)]) for s in schools])
    kinds: list[np.ndarray] = []  # 0 complete, 1 unfinished, 2 preview, 3 spam, 4 speeder, 5 dup
    school_idx: list[np.ndarray] = []
    for kind, n in ((0, n_complete), (1, n_unfinished), (4, cnt["speeders"])):
        school_idx.append(np.repeat(np.arange(n_s), _alloc(n, rate_w)))
        kinds.append(np.full(n, kind))
    for kind, n in ((2, cnt["preview"]), (3, cnt["spam"])):
        school_idx.append(rng.integers(0, n_s, n))
        kinds.append(np.full(n, kind))
    school = np.concatenate(school_idx)
    kind = np.concatenate(kinds)
    n_first = len(school)
    # duplicates: a second answer of a complete respondent, a few days later
    dup_of = rng.choice(np.flatnonzero(kind == 0), cnt["duplicates"], replace=False)
    school = np.concatenate([school, school[dup_of]])
    kind = np.concatenate([kind, np.full(len(dup_of), 5)])
    n = len(school)
    assert n == n_rows, (n, n_rows)

    # gender: women answer more often (odds ratio 1.5), about 2 % "other / prefer not to say"
    share_f = np.array([enrol[(s.id, year)][0] / sum(enrol[(s.id, year)]) for s in schools])
    p_f = 1.5 * share_f / (1.5 * share_f + (1 - share_f))
    u = rng.random(n)
    p_row = np.where(kind == 1, 0.35, p_f[school])
    gender = np.where(u < 0.02, 3, np.where(u < 0.02 + 0.98 * p_row, 1, 2))
    gender[kind == 2] = 2
    gender[n_first:] = gender[dup_of]
    ine = np.array([s.id == "imt_nord_europe" for s in schools])[school]
    a = _answers(rng, ine, gender)
    a["study_year"][n_first:] = a["study_year"][dup_of]
    a["went"][n_first:] = a["went"][dup_of]
    lang_fr = rng.random(n) < 0.7

    # times and durations
    start = (FIELD_START[wave] + rng.integers(0, FIELD_DAYS, n).astype("timedelta64[D]")
             + rng.integers(0, 14 * 3600, n).astype("timedelta64[s]"))  # fmt: skip
    start[kind == 2] = (FIELD_START[wave] - np.timedelta64(5, "D")
                        + rng.integers(0, 2000, int((kind == 2).sum())).astype("timedelta64[m]"))  # fmt: skip
    duration = np.maximum(75, np.round(rng.lognormal(np.log(430), 0.55, n))).astype(np.int64)
    duration[kind == 4] = rng.integers(18, 56, int((kind == 4).sum()))
    duration[kind == 2] = rng.integers(90, 400, int((kind == 2).sum()))
    duration[kind == 3] = rng.integers(20, 200, int((kind == 3).sum()))
    unf = kind == 1
    duration[unf] = 7 * 86400 + rng.integers(0, 600, int(unf.sum()))
    start[n_first:] = start[dup_of] + rng.integers(2, 9, len(dup_of)).astype("timedelta64[D]")
    end = start + duration.astype("timedelta64[s]")
    pages = np.full(n, len(gs.Q_PAGES))
    pages[unf] = rng.integers(1, len(gs.Q_PAGES) - 1, int(unf.sum()))
    progress = np.where(unf, np.round(100 * pages / (len(gs.Q_PAGES) + 1)), 100).astype(int)

    # speeders straight-line their answers
    sp = kind == 4
    straight = rng.integers(1, 6, int(sp.sum()))
    for key in ("interest", "fin", "lang_b", "recog"):
        a[key][sp] = straight
    a["extra"][:, sp] = straight

    # people: names, e-mail, student number (personal data: dropped by the reader)
    person = rng.permutation(n)  # unique serial per row -> unique e-mail and student number
    person[n_first:] = person[dup_of]
    g_f = (gender == 1) | ((gender == 3) & (rng.random(n) < 0.5))
    first_i = np.where(g_f, rng.integers(0, len(gs.FIRST_F), n),
                       len(gs.FIRST_F) + rng.integers(0, len(gs.FIRST_M), n))  # fmt: skip
    first_i[n_first:] = first_i[dup_of]
    last_i = rng.integers(0, len(gs.LAST), n)
    last_i[n_first:] = last_i[dup_of]
    anon = (kind == 2) | (kind == 3)

    cols: dict[str, pa.Array] = {}
    first_names = list(gs.FIRST_F) + list(gs.FIRST_M)
    cols["RecipientFirstName"] = _blank(_take(_pool(first_names, ","), first_i), anon)
    cols["RecipientLastName"] = _blank(_take(_pool(gs.LAST, ","), last_i), anon)
    mail_first = [gs._ascii(f).lower() for f in first_names]
    mail_last = [gs._ascii(last).lower().replace(" ", "-") for last in gs.LAST]
    serial = _ints(person + 1 + 10_000_000 * int(wave[-1]))
    email = pc.binary_join_element_wise(
        _take(pa.array(mail_first), first_i), _take(pa.array(mail_last), last_i), "."
    )
    email = pc.binary_join_element_wise(email, serial, pa.scalar("@example.org"), "")
    cols["RecipientEmail"] = _blank(email, anon)
    cols["ExternalReference"] = _blank(
        pc.binary_join_element_wise(pa.scalar("STU"), _ints(1_000_000 + person), ""), anon
    )
    channel = np.where(kind == 2, 1, np.where(kind == 3, 2, 0))
    cols["DistributionChannel"] = _take(pa.array(["email", "preview", "anonymous"]), channel)
    prefixes = pa.array(["192.0.2.", "198.51.100.", "203.0.113."])
    cols["IPAddress"] = pc.binary_join_element_wise(
        _take(prefixes, rng.integers(0, 3, n)), _ints(rng.integers(1, 255, n)), ""
    )
    lat = np.array([s.lat for s in schools])[school] + rng.normal(0, 0.05, n)
    lon = np.array([s.lon for s in schools])[school] + rng.normal(0, 0.05, n)
    cols["LocationLatitude"] = _coords(lat)
    cols["LocationLongitude"] = _coords(lon)
    cols["StartDate"] = _dates(start)
    cols["EndDate"] = _dates(end)
    cols["RecordedDate"] = cols["EndDate"]
    cols["Status"] = _take(pa.array(["0", "1", "8"]), channel)
    cols["Progress"] = _ints(progress)
    cols["Duration (in seconds)"] = _ints(duration)
    cols["Finished"] = _take(pa.array(["1", "0"]), unf.astype(int))
    alphabet = np.frombuffer(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8
    )
    rid = alphabet[rng.integers(0, len(alphabet), (n, 15))].view("S15").ravel()
    rid_str = np.char.add(b"R_", rid).astype("U17")
    cols["ResponseId"] = pa.array(rid_str, pa.string())
    cols["UserLanguage"] = _take(pa.array(["EN", "FR"]), lang_fr.astype(int))

    # answers
    codes = np.array([s.code for s in schools])[school]
    q1 = codes.copy()
    complete = np.flatnonzero(kind == 0)
    picks = rng.choice(complete, 3 * cnt["out_of_scale"] + cnt["unknown_school"] + 6, replace=False)
    k0 = 3 * cnt["out_of_scale"]
    unknown = picks[k0 : k0 + cnt["unknown_school"]]
    q1[unknown] = 99
    ans = {
        "Q1": q1,
        "Q2": a["study_year"],
        "Q3": gender,
        "Q4": np.where(a["went"] == 1, 1, 2),
        "Q5": np.where(a["intends"] == 1, 1, 2),
        "Q6": a["interest"],
        "Q7_1": a["fin"],
        "Q7_2": a["lang_b"],
        "Q7_3": a["recog"],
        "Q10_1": a["extra"][0],
        "Q10_2": a["extra"][1],
        "Q11": a["channel"],
        "Q12": a["nps"],
    }
    j = cnt["out_of_scale"]
    ans["Q6"][picks[:j]] = 7
    ans["Q7_1"][picks[j : 2 * j]] = 7
    ans["Q7_2"][picks[2 * j : 3 * j]] = 6
    digits = pa.array([str(i) for i in range(100)])
    page_of = {q: p for p, page in enumerate(gs.Q_PAGES) for q in page}
    extra_page = len(gs.Q_PAGES) - 2  # the extra questions come with the region page
    for q, v in ans.items():
        cols[q] = _blank(_take(digits, v), pages <= page_of.get(q, extra_page))
    one_empty = pa.array(["", "1"])
    for i in range(len(gs.REGIONS)):
        q = f"Q8_{i + 1}"
        cols[q] = _blank(_take(one_empty, a["regions"][i]), pages <= page_of[q])
    # free text: 12 % comment (FR/EN pools), junk for spam, six hostile strings per wave
    pool = (list(gs.COMMENTS_EN) + list(gs.COMMENTS_FR) + list(gs.COMMENTS_HOSTILE)
            + ["buy cheap followers www.example.com", "asdfgh", "ok ok ok ok", ""])  # fmt: skip
    ne, nf, nh = len(gs.COMMENTS_EN), len(gs.COMMENTS_FR), len(gs.COMMENTS_HOSTILE)
    empty_i = len(pool) - 1
    ci = np.where(lang_fr, ne + rng.integers(0, nf, n), rng.integers(0, ne, n))
    ci = np.where(rng.random(n) < 0.12, ci, empty_i)
    ci[kind == 3] = ne + nf + nh + rng.integers(0, 3, int((kind == 3).sum()))
    hostile = picks[k0 + cnt["unknown_school"] :]
    ci[hostile] = ne + nf + np.arange(nh)
    cols["Q9_TEXT"] = _blank(_take(_pool(pool, ","), ci), pages <= page_of["Q9_TEXT"])

    # sort by RecordedDate then ResponseId, as Qualtrics does; files = groups of schools
    order = np.lexsort((rid_str, end.astype("datetime64[s]").astype(np.int64)))
    stats = {
        "rows": n, "complete": int(n_complete), "unfinished": int(n_unfinished),
        "preview": cnt["preview"], "spam": cnt["spam"], "speeders": cnt["speeders"],
        "duplicates": cnt["duplicates"], "out_of_scale": 3 * cnt["out_of_scale"],
        "unknown_school": cnt["unknown_school"], "hostile_comments": nh,
    }  # fmt: skip
    per_school = np.bincount(school, minlength=n_s)
    groups = _school_groups(per_school, max_rows_per_file)
    files = []
    for g in groups:
        sel = order[np.isin(school[order], g)]
        files.append({
            "schools": [schools[i].id for i in g],
            "rows": int(len(sel)),
            "columns": {c: v.take(pa.array(sel)) for c, v in cols.items()},
            "kinds": np.bincount(kind[sel], minlength=6),
            "unknown_school": int(np.isin(sel, unknown).sum()),
            "out_of_scale": int(np.isin(sel, picks[:k0]).sum()),
        })  # fmt: skip
    return files, stats


def _school_groups(per_school: np.ndarray, max_rows: int) -> list[list[int]]:
    """Schools split into ceil(total / max_rows) balanced groups (greedy, largest first)."""
    n_files = max(1, math.ceil(int(per_school.sum()) / max_rows))
    n_files = min(n_files, len(per_school))
    loads = [0] * n_files
    groups: list[list[int]] = [[] for _ in range(n_files)]
    for i in np.argsort(-per_school, kind="stable"):
        j = int(np.argmin(loads))
        groups[j].append(int(i))
        loads[j] += int(per_school[i])
    return [sorted(g) for g in groups]


def _coords(x: np.ndarray) -> pa.Array:
    """Coordinates with 12 decimals, as Qualtrics writes them (integer arithmetic: fast)."""
    micro = np.round(x * 1e12).astype(np.int64)
    whole, frac = np.divmod(np.abs(micro), 10**12)
    sign = np.where(micro < 0, "-", "")
    frac_s = pc.utf8_lpad(_ints(frac), 12, "0")
    head = pc.binary_join_element_wise(pa.array(sign), _ints(whole), "")
    return pc.binary_join_element_wise(head, frac_s, ".")


def _qualtrics_header() -> bytes:
    meta, questions = list(gs.Q_META), list(gs.Q_QUESTIONS)
    extra = [(q, f"{_SATISFACTION_Q} - {label}", {"ImportId": f"QID10_{q[-1]}"})
             for q, _, label in EXTRA_LIKERT]  # fmt: skip
    extra += [(q, label, {"ImportId": iid}) for q, label, iid in EXTRA_UNMAPPED]
    spec = meta + questions[:-1] + extra + questions[-1:]
    rows = [[c for c, _, _ in spec], [lab for _, lab, _ in spec],
            [json.dumps(imp, separators=(",", ":")) for _, _, imp in spec]]  # fmt: skip
    return gs._csv_text(rows, delimiter=",", lineterminator="\n").encode("utf-8")


def qualtrics_columns() -> list[str]:
    text = _qualtrics_header().decode()
    return next(csv.reader(io.StringIO(text)))


# ----------------------------------------------------------------------------- LimeSurvey
def _limesurvey(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], dict]:
    """Wave 2021 of IMT Nord Europe (``generate_sample._limesurvey``'s model, vectorised)."""
    campus = np.where(rng.random(n) < 0.6, 1, 2)
    study_year = _choice(rng, [0.24, 0.22, 0.22, 0.20, 0.12], n) + 1
    u = rng.random(n)
    gender = np.where(u < 0.02, 3, np.where(u < 0.37, 1, 2))
    went = rng.random(n) < gs._logistic(-3.6 + 0.8 * (study_year - 1))
    fin = _choice(rng, [0.12, 0.18, 0.25, 0.25, 0.20], n) + 1
    lang_b = _choice(rng, [0.25, 0.28, 0.22, 0.15, 0.10], n) + 1
    intends = rng.random(n) < gs._logistic(0.9 - 0.7 * (fin - 3) - 0.25 * (lang_b - 3))
    dual = rng.random(n) < np.where(intends, 0.62, 0.35)
    regions = []
    for r in gs.REGIONS:
        p = 0.6 if r == "euroregion" else gs.REGION_PROB[r]
        regions.append(rng.random(n) < np.where(intends, p, p / 2))
    comment = np.where(rng.random(n) < 0.1, rng.integers(0, len(gs.LS_COMMENTS), n), -1)
    start = (LS_START + rng.integers(0, 45, n).astype("timedelta64[D]")
             + rng.integers(0, 13 * 3600, n).astype("timedelta64[s]"))  # fmt: skip
    dur = np.maximum(80, rng.lognormal(np.log(380), 0.5, n)).astype(np.int64)
    end = start + dur.astype("timedelta64[s]")
    n_inc = max(1, round(LS_INCOMPLETE * n))
    incomplete = np.zeros(n, dtype=bool)
    incomplete[rng.choice(n, n_inc, replace=False)] = True
    n_ph = max(1, round(LS_PLACEHOLDER * (n - n_inc)))
    placeholder = np.zeros(n, dtype=bool)
    placeholder[rng.choice(np.flatnonzero(~incomplete), n_ph, replace=False)] = True
    page1_only = incomplete & (rng.random(n) >= 0.5)
    data = {
        "campus": campus, "study_year": study_year, "gender": gender, "went": went,
        "intends": intends, "dual": dual, "fin": fin, "lang_b": lang_b,
        "regions": np.array(regions), "comment": comment, "start": start, "end": end,
        "lang_fr": rng.random(n) < 0.9, "seed": rng.integers(10**8, 2 * 10**9, n),
        "id_step": 1 + (rng.random(n) < 0.06), "incomplete": incomplete,
        "placeholder": placeholder, "page1_only": page1_only,
    }  # fmt: skip
    return data, {"rows": n, "incomplete": int(n_inc), "placeholder": int(n_ph)}


def _limesurvey_bytes(d: dict[str, np.ndarray], sel: np.ndarray) -> bytes:
    """LimeSurvey's CsvWriter: BOM, every value quoted, NULL unquoted empty, CRLF, final blank."""
    n = len(sel)

    def q(arr: pa.Array) -> pa.Array:  # values never contain quotes except comments (pooled)
        return pc.binary_join_element_wise(pa.scalar('"'), arr, pa.scalar('"'), "")

    def null(arr: pa.Array, mask: np.ndarray) -> pa.Array:
        return _blank(arr, mask)

    inc, ph, p1 = d["incomplete"][sel], d["placeholder"][sel], d["page1_only"][sel]
    none_all = inc & ~p1  # left on page 1: nothing saved
    none_g2 = inc  # page 2 never submitted
    ids = 11 + np.cumsum(d["id_step"][sel])
    start_s = _dates(d["start"][sel])
    end_s = _dates(d["end"][sel])
    ph_s = pa.scalar(gs.LS_PLACEHOLDER)
    submit = pc.if_else(pa.array(ph), ph_s, end_s)
    start_out = pc.if_else(pa.array(ph), pa.scalar("1980-01-01 00:00:00"), start_s)
    yn = pa.array(["N", "Y"])
    cols = [
        q(_ints(ids)),
        null(q(submit), inc),
        null(q(pc.if_else(pa.array(inc), pa.scalar("1"), pa.scalar("2"))), none_all),
        q(_take(pa.array(["en", "fr"]), d["lang_fr"][sel].astype(int))),
        q(_ints(d["seed"][sel])),
        q(start_out),
        q(pc.if_else(pa.array(ph), ph_s, end_s)),
    ]
    g1 = [
        _take(pa.array(["", "A1", "A2"]), d["campus"][sel]),
        _take(pa.array(["", "A1", "A2", "A3", "A4", "A5"]), d["study_year"][sel]),
        _take(pa.array(["", "A1", "A2", "A3"]), d["gender"][sel]),
        _take(yn, d["went"][sel].astype(int)),
        _take(yn, d["intends"][sel].astype(int)),
        _take(yn, d["dual"][sel].astype(int)),
    ]
    likert = pa.array(["", "A1", "A2", "A3", "A4", "A5"])
    sel_pool = pa.array(["", "Y"])
    c_idx = d["comment"][sel]
    g2 = [_take(likert, d["fin"][sel]), _take(likert, d["lang_b"][sel])]
    g2 += [_take(sel_pool, d["regions"][i][sel].astype(int)) for i in range(len(gs.REGIONS))]
    cols += [null(q(c), none_all) for c in g1]
    cols += [null(q(c), none_g2) for c in g2]
    # the comment pool is pre-escaped for ';' (quoted only if needed); LimeSurvey quotes all:
    plain = [c.replace('"', '""') for c in gs.LS_COMMENTS]
    comment = _take(pa.array(plain + [""]), np.where(c_idx < 0, len(plain), c_idx))
    cols.append(null(q(comment), none_g2))
    header = ";".join('"' + c.replace('"', '""') + '"' for c in gs.LS_COLUMNS) + "\r\n"
    body = _lines(cols, ";", "\r\n") if n else b""
    return b"\xef\xbb\xbf" + header.encode() + body + b"\r\n"


# ----------------------------------------------------------------------------- Erasmus+
_FILLER_COUNTRIES = [
    # (country code as written, Erasmus code prefix, city stems, weight)
    ("DE", "D", ["BERLIN", "MUNCHEN", "HAMBURG", "KOLN", "STUTTGA", "LEIPZIG", "BONN", "MAINZ"], 15),
    ("ES", "E", ["MADRID", "BARCELO", "VALENCI", "SEVILLA", "GRANADA", "BILBAO", "ZARAGOZ"], 14),
    ("IT", "I", ["ROMA", "MILANO", "BOLOGNA", "TORINO", "NAPOLI", "PADOVA", "FIRENZE"], 12),
    ("FR", "F", ["LYON", "TOULOUS", "GRENOBL", "BORDEAU", "MARSEIL", "STRASBO", "RENNES",
                 "MONTPEL", "NANCY", "COMPIEG", "ROUEN", "CAEN", "DIJON", "REIMS", "AMIENS"], 14),
    ("PL", "PL", ["WARSZAW", "KRAKOW", "WROCLAW", "POZNAN", "GDANSK", "LODZ"], 7),
    ("NL", "NL", ["AMSTERD", "UTRECHT", "GRONING", "LEIDEN", "ROTTERD"], 5),
    ("BE", "B", ["BRUXEL", "LEUVEN", "LIEGE", "ANTWERP"], 4),
    ("PT", "P", ["LISBOA", "PORTO", "COIMBRA", "BRAGA"], 4),
    ("UK", "UK", ["LONDON", "MANCHES", "LEEDS", "GLASGOW", "BRISTOL"], 5),
    ("EL", "G", ["ATHINE", "THESSAL", "PATRA"], 2),
    ("CZ", "CZ", ["PRAHA", "BRNO", "OSTRAVA"], 3),
    ("SE", "S", ["STOCKHO", "UPPSALA", "LUND", "GOTEBOR"], 3),
    ("AT", "A", ["WIEN", "GRAZ", "INNSBRU"], 3),
    ("RO", "RO", ["BUCURES", "CLUJNAP", "IASI"], 3),
    ("HU", "HU", ["BUDAPES", "DEBRECE", "SZEGED"], 2),
    ("FI", "SF", ["HELSINK", "TAMPERE", "OULU"], 2),
    ("TR", "TR", ["ISTANBU", "ANKARA", "IZMIR"], 4),
]  # fmt: skip
_ORG_WORD = {"DE": "UNIVERSITAET", "ES": "UNIVERSIDAD DE", "IT": "UNIVERSITA DEGLI STUDI DI",
             "FR": "UNIVERSITE DE", "PT": "UNIVERSIDADE DE"}  # fmt: skip


def _filler_senders() -> list[tuple[str, str, str, str]]:
    """(country, padded Erasmus code, organisation, city) of the non-IMT senders."""
    imt = {code for table in gs.ERASMUS_SENDERS.values() for _, ss in table for code, *_ in ss}
    out = []
    for cc, prefix, stems, _w in _FILLER_COUNTRIES:
        for stem in stems:
            for j in range(1, 9):
                code = f"{stem}{j:02d}"
                if code in imt or code in ("DOUAI12", "LILLE103", "TOULOUS28", "GRENOBL22"):
                    continue
                nbsp = (len(stem) + j) % 3 == 0 and len(prefix) < 3
                org = f"{_ORG_WORD.get(cc, 'UNIVERSITY OF')} {stem.title()} {j}"
                if j % 4 == 0:
                    org = (
                        f"HOCHSCHULE {stem.title()} {j}"
                        if cc == "DE"
                        else f"{stem} INSTITUTE OF TECHNOLOGY"
                    )
                out.append((cc, gs._pad_code(code, country=prefix, nbsp=nbsp), org, stem.title()))
    return out


def _erasmus_imt_lines(rng: np.random.Generator, enrol: dict, k: int) -> list[bytes]:
    """The sample's Erasmus+ rows (IMT senders and the rows to leave out), Participants x k."""
    text, _stats = gs._erasmus(rng, enrol)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == gs.ERASMUS_HEADER
    for r in body:
        r[-1] = str(int(r[-1]) * k)
    out = gs._csv_text(body, delimiter=";", lineterminator="\n")
    return [line.encode("utf-8") + b"\n" for line in out.split("\n") if line]


def _erasmus_filler(rng: np.random.Generator, n: int, senders, hosts, refs) -> pa.Array:
    """``n`` rows of other senders, in the KA1 layout, as lines (one string per row)."""
    sp = lambda v: _pool(v, ";")  # noqa: E731
    w_country = {cc: w for cc, _, _, w in _FILLER_COUNTRIES}
    per_country = Counter(s[0] for s in senders)
    sw = np.array([w_country[s[0]] / per_country[s[0]] for s in senders])
    # a long tail: some senders are much bigger than others
    sw = sw * (1.0 + 4.0 * (np.arange(len(senders)) % 7 == 0))
    s_idx = _choice(rng, sw, n)
    covid = np.array([gs.COVID_FACTOR.get(y, 1.0) for y in gs.YEARS])
    y_idx = _choice(rng, covid * (1 + 0.02 * np.arange(len(gs.YEARS))), n)
    act = _choice(rng, [0.50, 0.28, 0.07, 0.08, 0.07], n)  # study, train, partner, 2 staff
    staff = act >= 3
    acts = [gs.ACT_STUDY, gs.ACT_TRAIN, gs.ACT_PARTNER, *gs.ACT_STAFF]
    h_idx = rng.integers(0, len(hosts), n)
    lvl = np.where(rng.random(n) < 0.03, 3, _choice(rng, [0.2, 0.7, 0.1], n))
    lvl[staff] = 3
    fields = sorted({f for v in gs.FIELDS.values() for f in v}) + [gs.FIELD_UNKNOWN]
    f_idx = rng.integers(0, len(fields), n)
    f_idx[staff] = len(fields) - 1
    nat_pool = [s[0] for s in _FILLER_COUNTRIES] + gs.NATIONALITIES + ["-"]
    nat = np.where(rng.random(n) < 0.9, np.array([_cc_index(s[0]) for s in senders])[s_idx],
                   rng.integers(0, len(nat_pool), n))  # fmt: skip
    ages = [str(a) for a in range(17, 66)] + ["-"]
    age = 19 + np.round(rng.gamma(2.0, 1.2, n)).astype(int) - 17
    age = np.where(staff, rng.integers(28, 64, n) - 17, np.minimum(age, 35 - 17))
    age[rng.random(n) < 0.02] = len(ages) - 1
    # periods: studies start in September or February, traineeships in spring
    months = np.where(act == 1, rng.integers(2, 7, n), np.where(rng.random(n) < 0.7, 5, 10))
    start_m = np.where(act == 1, rng.integers(3, 9, n), np.where(rng.random(n) < 0.7, 9, 2))
    start_y = gs.YEARS[0] + y_idx + (start_m < 9)
    months[staff] = 1
    start_i = (start_y - 2014) * 12 + start_m - 1
    end_i = start_i + months - 1
    month_pool = [f"{y}-{m:02d}" for y in range(2014, 2026) for m in range(1, 13)]
    days = np.where(staff, rng.integers(2, 8, n), np.round(months * 30.4).astype(int)
                    + rng.integers(-9, 4, n))  # fmt: skip
    part = 1 + rng.geometric(0.55, n) - 1
    g = _choice(rng, [0.52, 0.475, 0.005], n)
    cols = [
        _take(refs, s_idx * len(gs.YEARS) + y_idx),
        _take(sp([gs._ay(y) for y in gs.YEARS]), y_idx),
        _take(pa.array(month_pool), start_i),
        _take(pa.array(month_pool), end_i),
        _ints(days),
        _take(sp(acts), act),
        _take(sp(fields), f_idx),
        _take(sp(nat_pool), nat),
        _take(sp([gs.LEVEL_6, gs.LEVEL_7, gs.LEVEL_8, gs.LEVEL_UNKNOWN]), lvl),
        _take(pa.array(["Female", "Male", "Undefined"]), g),
        _take(pa.array(["Learner", "Staff"]), staff.astype(int)),
        _take(pa.array(["No", "Yes"]), (rng.random(n) < 0.01).astype(int)),
        _take(pa.array(["No", "Yes"]), (rng.random(n) < 0.04).astype(int)),
        _take(pa.array(["No", "Yes"]), (staff & (rng.random(n) < 0.1)).astype(int)),
        _take(pa.array(ages), age),
        _take(sp([s[0] for s in senders]), s_idx),
        _take(sp([s[3] for s in senders]), s_idx),
        _take(sp([s[2] for s in senders]), s_idx),
        _take(sp([s[1] for s in senders]), s_idx),
        _take(sp([h[0] for h in hosts]), h_idx),
        _take(sp([h[2] for h in hosts]), h_idx),
        _take(sp([h[1] for h in hosts]), h_idx),
        _take(sp([h[3] for h in hosts]), h_idx),
        _ints(part),
    ]
    joined = pc.binary_join_element_wise(*cols, ";")
    return pc.binary_join_element_wise(joined, pa.scalar(""), "\n")


def _cc_index(cc: str) -> int:
    return [s[0] for s in _FILLER_COUNTRIES].index(cc)


def _hosts() -> list[tuple[str, str, str, str]]:
    """(country, organisation, city, Erasmus code) of receiving organisations."""
    out = [(cc, name, city, code) for cc, hs in gs.HOSTS.items() for name, city, code in hs]
    out += [(cc, name, city, "") for cc, cs in gs.COMPANIES.items() for name, city in cs]
    out += [(cc, name, city, "") for cc, name, city in gs.PARTNER_HOSTS]
    out += [("FR", f"UNIVERSITE DE {c.upper()}", c, f"F  {c.upper()[:7]}01")
            for c in ("Lyon", "Bordeaux", "Rennes", "Strasbourg")]  # fmt: skip
    return out


def _project_refs(rng: np.random.Generator, senders) -> pa.Array:
    """One grant project per sender and year (the national agency of the sender's country)."""
    refs = []
    for cc, *_ in senders:
        agency = {"UK": "UK01", "EL": "EL01"}.get(cc, f"{cc}01")
        for y in gs.YEARS:
            serial = int(rng.integers(1000, 99999))
            if y >= 2021:
                refs.append(f"{y}-1-{agency}-KA131-HED-{serial:09d}")
            else:
                refs.append(f"{y}-1-{agency}-KA103-{serial:06d}")
    return pa.array(refs)


def _write_erasmus(path: Path, rng_imt: np.random.Generator, seed: int, rows: int,
                   enrol: dict, k: int) -> dict:  # fmt: skip
    imt_lines = _erasmus_imt_lines(rng_imt, enrol, k)
    n_fill = rows - len(imt_lines)
    if n_fill < 0:
        raise SystemExit(f"--erasmus-rows {rows}: fewer than the {len(imt_lines)} IMT rows")
    senders, hosts = _filler_senders(), _hosts()
    refs = _project_refs(np.random.default_rng([seed, 30]), senders)
    place = np.random.default_rng([seed, 31])
    n_batches = max(1, math.ceil(rows / ERASMUS_BATCH))
    fill_parts = _alloc(n_fill, np.ones(n_batches))
    imt_parts = np.cumsum(np.concatenate([[0], _alloc(len(imt_lines), np.ones(n_batches))]))
    with path.open("wb") as fh:
        fh.write(gs._csv_text([gs.ERASMUS_HEADER], delimiter=";", lineterminator="\n").encode())
        for b in range(n_batches):
            rng = np.random.default_rng([seed, 32, b])
            fill = _erasmus_filler(rng, int(fill_parts[b]), senders, hosts, refs)
            mine = [x.decode("utf-8") for x in imt_lines[imt_parts[b] : imt_parts[b + 1]]]
            batch = pa.concat_arrays([fill, pa.array(mine, pa.string())])
            batch = batch.take(pa.array(place.permutation(len(batch))))
            fh.write(_lines([batch], ";", ""))
    return {"rows": rows, "imt_and_sample_rows": len(imt_lines), "filler_rows": n_fill}


# ----------------------------------------------------------------------------- codebook, config
def _codebook_text() -> str:
    """The sample codebook + the wave-2022 Qualtrics source + two extra Likert variables."""
    text = gs._codebook()
    anchor = 'Q9_TEXT = "comment"\n'
    if text.count(anchor) != 1:
        raise RuntimeError("data/generate_sample.py codebook changed: cannot find the Q9 line")
    extra_cols = "".join(f'{q} = "{v}"\n' for q, v, _ in EXTRA_LIKERT)
    text = text.replace(anchor, anchor + extra_cols)
    start = text.index('[[sources]]\nid = "imt_survey_2023"')
    end = text.index("[[sources]]", start + 10)
    block = text[start:end].replace('"imt_survey_2023"', '"imt_survey_2022"')
    block = block.replace('wave = "2023"', 'wave = "2022"')
    text = text[:end] + block + text[end:]
    variables = "".join(
        f"""
[variables.{v}]
type = "likert"
label = {{ en = "{label}", fr = "{label}" }}
scale = [1, 5]
direction = "ascending"
"""
        for _, v, label in EXTRA_LIKERT
    )
    marker = "# ---------------------------------------------------------------- sources"
    if text.count(marker) != 1:
        raise RuntimeError("data/generate_sample.py codebook changed: no sources marker")
    text = text.replace(marker, variables.lstrip("\n") + "\n" + marker)
    text = text.replace(
        "# Codebook of the SYNTHETIC sample surveys (written by data/generate_sample.py).",
        "# Codebook of the SYNTHETIC scaled surveys (benchmarks/generate_scale.py, from the "
        "sample's).\n# Qualtrics columns Q11 and Q12 are deliberately left unmapped.",
    )
    return text


def _study_text(seed: int, surveys: list[dict]) -> str:
    cols = "\n".join(f'"{k}" = "{v}"' for k, v in gs.SCHOOL_SHEET_COLUMNS.items())
    blocks = "\n".join(
        f'[[inputs.surveys]]\npath = "{s["file"]}"\nsource = "{s["source"]}"\nwave = "{s["wave"]}"\n'
        for s in surveys
    )
    return f"""# Study configuration of the SYNTHETIC scaled data (benchmarks/generate_scale.py,
# seed {seed}). Paths are relative to this file's folder.

[study]
title = {{ en = "IMT group study at scale (synthetic benchmark data)", fr = "Étude du groupe IMT à grande échelle (données synthétiques)" }}
synthetic = true
language = "en"
data_cutoff = "2023-06-30"
pseudonym_key = "synthetic-scale-key-not-secret"
covid_break_years = [2019, 2020]

[inputs]
codebook = "{CODEBOOK_FILE}"
enrolment = "{ENROLMENT_FILE}"

{blocks}
[[inputs.mobility]]
path = "{ERASMUS_FILE}"
format = "erasmus-ka1"

[[inputs.mobility]]
path = "{SCHOOL_SHEET_FILE}"
format = "school-mobility"
school = "imt_nord_europe"

[inputs.mobility.columns]
{cols}

{gs.ANALYSIS_SETTINGS_TOML}"""


# ----------------------------------------------------------------------------- entry points
def generate(out_dir: Path, responses: int, erasmus_rows: int, seed: int = DEFAULT_SEED,
             max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE) -> dict:  # fmt: skip
    """Write the scaled study into ``out_dir``; return the manifest (also ``manifest.json``)."""
    if responses < MIN_RESPONSES:
        raise ValueError(f"--responses must be at least {MIN_RESPONSES}")
    if erasmus_rows < MIN_ERASMUS_ROWS:
        raise ValueError(f"--erasmus-rows must be at least {MIN_ERASMUS_ROWS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, k])

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    enrol0 = gs._enrolment(rng(5))
    k = enrolment_scale(responses, enrol0)
    enrol = {key: (f * k, m * k) for key, (f, m) in enrol0.items()}
    gs._write(out / ENROLMENT_FILE,
              gs._csv_text(gs._enrolment_rows(enrol), delimiter=";", lineterminator="\n"))  # fmt: skip
    sizes = _wave_sizes(responses)
    surveys: list[dict] = []
    planted: dict[str, dict] = {}
    header = _qualtrics_header()
    for i, (wave, platform, _) in enumerate(WAVES):
        if platform == "qualtrics":
            files, stats = _qualtrics_wave(rng(10 + i), wave, sizes[wave], enrol, max_rows_per_file)
            order = qualtrics_columns()
            for j, f in enumerate(files):
                name = f"survey_{wave}_qualtrics_part{j + 1}.csv"
                body = _lines([f["columns"][c] for c in order], ",", "\n") if f["rows"] else b""
                (out / name).write_bytes(header + body)
                kinds = f["kinds"]
                surveys.append({
                    "file": name, "source": QUALTRICS_SOURCES[wave], "wave": wave,
                    "platform": platform, "rows": f["rows"], "schools": f["schools"],
                    "columns": len(order),
                    "planted": {"preview": int(kinds[2]), "spam": int(kinds[3]),
                                "unfinished": int(kinds[1]), "speeders": int(kinds[4]),
                                "duplicates": int(kinds[5]),
                                "unknown_school": f["unknown_school"],
                                "out_of_scale": f["out_of_scale"]},
                })  # fmt: skip
        else:
            d, stats = _limesurvey(rng(10 + i), sizes[wave])
            for campus, label in ((1, "douai"), (2, "villeneuve_d_ascq")):
                sel = np.flatnonzero(d["campus"] == campus)
                name = f"survey_{wave}_limesurvey_imt_nord_europe_{label}.csv"
                (out / name).write_bytes(_limesurvey_bytes(d, sel))
                surveys.append({
                    "file": name, "source": LIMESURVEY_SOURCE, "wave": wave,
                    "platform": platform, "rows": int(len(sel)), "schools": ["imt_nord_europe"],
                    "columns": len(gs.LS_COLUMNS),
                    "planted": {"incomplete": int(d["incomplete"][sel].sum()),
                                "placeholder": int(d["placeholder"][sel].sum())},
                })  # fmt: skip
        planted[wave] = stats
    timings["surveys"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    erasmus = _write_erasmus(out / ERASMUS_FILE, rng(3), seed, erasmus_rows, enrol0, k)
    timings["erasmus"] = time.perf_counter() - t1
    sheet, _ = gs._school_sheet(rng(4))
    gs._write(out / SCHOOL_SHEET_FILE, sheet, bom=True)
    codebook = _codebook_text()
    gs._write(out / CODEBOOK_FILE, codebook)
    tomllib.loads(codebook)
    study = _study_text(seed, surveys)
    tomllib.loads(study)
    gs._write(out / STUDY_FILE, study)
    timings["total"] = time.perf_counter() - t0
    manifest = {
        "generator": "benchmarks/generate_scale.py",
        "seed": seed,
        "responses": responses,
        "erasmus_rows": erasmus_rows,
        "enrolment_scale": k,
        "wave_sizes": sizes,
        "surveys": surveys,
        "planted": planted,
        "erasmus": erasmus,
        "unmapped_qualtrics_columns": [q for q, _, _ in EXTRA_UNMAPPED],
        "seconds": {key: round(v, 2) for key, v in timings.items()},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a SYNTHETIC full-scale study (benchmarks).")
    p.add_argument("--responses", type=int, required=True, help="survey responses (all files)")
    p.add_argument("--erasmus-rows", type=int, default=3_500_000, help="rows of the KA1 CSV")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--max-rows-per-file", type=int, default=DEFAULT_MAX_ROWS_PER_FILE,
                   help="split a Qualtrics wave into several exports above this size")  # fmt: skip
    args = p.parse_args(argv)
    try:
        m = generate(args.out, args.responses, args.erasmus_rows, args.seed,
                     args.max_rows_per_file)  # fmt: skip
    except ValueError as exc:
        p.error(str(exc))
    for s in m["surveys"]:
        print(f"{s['rows']:>9,d} rows  {s['columns']} cols  {s['file']}")
    print(f"{m['erasmus']['rows']:>9,d} rows  24 cols  {ERASMUS_FILE}")
    print(f"enrolment x {m['enrolment_scale']}; seconds: {m['seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
