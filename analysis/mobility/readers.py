"""Readers for outgoing-mobility inputs -> the tidy :class:`analysis.schema.Mobility` table.

Three layouts:

* ``erasmus-ka1``, the EC's Erasmus+ KA1 release, in either of its two forms (told apart by
  the file's content, not its name):

  - the CSV release (24 ``;``-separated columns, aggregated rows with ``Participants`` > 1),
    read in chunks so a 3.5-million-row file never sits in memory; only rows sent by a school
    of the school table are kept;
  - the yearly XLSX workbooks, with header drift (country names instead of codes,
    ``Mobility Start Year/Month``, ``Actual Participants ...``), every sheet with an Erasmus+
    header read (two programmes in two sheets from 2021).  ``erasmus-xlsx`` is an accepted
    alias of ``erasmus-ka1``.
* ``school-mobility``: a school's own spreadsheet (CSV or XLSX) whose columns are mapped in the
  config (``MobilityInput.columns``: source header -> field).

Every data row is either kept, left out by a named filter rule (counted), or quarantined with a
reason: ``rows_read == rows_kept + sum(filtered) + quarantined`` is checked before returning.
Unknown Erasmus codes that look like IMT senders and unknown countries are reported with counts.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from analysis.config_schema import SCHOOL_FIELDS  # the config validates the same names
from analysis.limits import check_input_file
from analysis.mobility.tables import (
    CountryLookup,
    academic_year_of,
    country_lookup,
    is_missing,
    normalise_text,
)
from analysis.numbers import COMMA, POINT, decimal_convention, number_problem, parse_number
from analysis.schema import Mobility, Quarantine
from analysis.schools import SchoolResolver, school_resolver
from analysis.schools import erasmus_code_key as normalise_code

KA1_HEADER: tuple[str, ...] = (
    "Project Reference",
    "Academic Year",
    "Mobility Start Month",
    "Mobility End Month",
    "Mobility Duration",
    "Activity (mob)",
    "Field of Education",
    "Participant Nationality",
    "Education Level",
    "Participant Gender",
    "Participant Profile",
    "Special Needs",
    "Fewer Opportunities",
    "GroupLeader",
    "Participant Age",
    "Sending Country Code",
    "Sending City",
    "Sending Organization",
    "Sending Organisation Erasmus Code",
    "Receiving Country Code",
    "Receiving City",
    "Receiving Organization",
    "Receiving Organisation Erasmus Code",
    "Participants",
)

# Canonical Erasmus fields and the (normalised) header spellings seen across releases.
_ERASMUS_ALIASES: dict[str, tuple[str, ...]] = {
    "academic_year": ("academic year",),
    "start_month": ("mobility start month", "mobility start year/month", "mobility start date"),
    "duration_days": (
        "mobility duration",
        "mobility duration calendar days",
        "mobility duration in days",
    ),
    "activity": ("activity (mob)", "activity mob", "activity"),
    "gender": ("participant gender",),
    "profile": ("participant profile",),
    "sending_country": ("sending country code", "sending country"),
    "sending_name": ("sending organization", "sending organisation"),
    "sending_code": ("sending organisation erasmus code", "sending organization erasmus code"),
    "receiving_country": ("receiving country code", "receiving country"),
    "participants": ("participants",),
}
_REQUIRED_ERASMUS = (
    "activity",
    "profile",
    "sending_country",
    "sending_code",
    "receiving_country",
    "participants",
)
_PARTICIPANTS_PREFIX = "actual participants"

DAYS_PER_MONTH = 30.0
"""Mobility-months = calendar days / 30, the Erasmus+ grant convention."""

_ARROW_BLOCK = 8 << 20
# IMT rows gathered before they are processed (bounded memory; see _read_ka1_batches)
_KA1_FLUSH_ROWS = 200_000
"""Bytes per CSV block read by pyarrow (memory ~ a few blocks)."""
_QUARANTINE_COLUMNS = list(Quarantine.SCHEMA.required)
_RECORD_COLUMNS = [
    Mobility.SCHOOL,
    Mobility.SENDING_CODE,
    Mobility.ACADEMIC_YEAR,
    Mobility.ACTIVITY,
    Mobility.DURATION_DAYS,
    Mobility.DURATION_MONTHS,
    Mobility.COUNTRY,
    "region",
    Mobility.PARTICIPANTS,
    Mobility.GENDER,
    Mobility.ERASMUS_FUNDED,
    Mobility.GRANT_EUR,
    Mobility.SOURCE_FILE,
    Mobility.SOURCE_ROW,
    "source_format",
]
FORMAT_ALIASES = {"erasmus-xlsx": "erasmus-ka1"}
"""Older names of the formats, still accepted in configs."""
SOURCE_FORMAT = "source_format"
"""Extra record column: the reader's format (``erasmus-ka1`` / ``school-mobility``), so double counting can be removed after concatenation."""
_IMT_NAME = re.compile(r"\b(mines|telecom|imt|eurecom)\b")


class MobilityFormatError(ValueError):
    """Malformed mobility input; the message names the file, the row and the column."""

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.file, self.row, self.column = file, row, column
        self.message = message
        where = f"{file}: row {row if row is not None else '?'}, column {column or '?'}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable: raised in a reader process, re-raised in the flow
        return (type(self), (self.file, self.row, self.column, self.message))


@dataclass(frozen=True)
class MobilityIngest:
    """Result of reading one mobility file.

    ``records`` is the tidy Mobility table (plus a ``region`` column), ``quarantine`` the rows
    that could not be used, ``manifest`` the accounting (rows_read == rows_kept +
    sum(filtered) + quarantined), ``unknown_codes`` Erasmus codes that look like IMT senders
    but are not in the school table, ``unknown_countries`` receiving countries not in the
    country table (value -> rows).
    """

    records: pd.DataFrame
    quarantine: pd.DataFrame
    manifest: dict[str, Any]
    unknown_codes: dict[str, int] = field(default_factory=dict)
    unknown_countries: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- layout detection


def _erasmus_field_map(header_cells: list[str]) -> dict[str, int]:
    """Canonical field -> column index for an Erasmus header (first spelling wins)."""
    wanted = {alias: f for f, aliases in _ERASMUS_ALIASES.items() for alias in aliases}
    out: dict[str, int] = {}
    for i, cell in enumerate(header_cells):
        key = normalise_text(cell).lstrip("\ufeff")
        f = wanted.get(key)
        if f is None and key.startswith(_PARTICIPANTS_PREFIX):
            f = "participants"
        if f is not None and f not in out:
            out[f] = i
    return out


def detect_mobility_layout(header_cells: list[str] | tuple[str, ...]) -> str | None:
    """The header variant: ``"erasmus-ka1"`` for the exact 24-column KA1 CSV header,
    ``"erasmus-xlsx"`` for the drifted header of the yearly workbooks that still has the fields
    the reader needs, else ``None``.  Both are read as the format ``erasmus-ka1``."""
    cells = [str(c if c is not None else "").strip().lstrip("\ufeff") for c in header_cells]
    while cells and not cells[-1]:
        cells.pop()
    if tuple(cells) == KA1_HEADER:
        return "erasmus-ka1"
    fields = _erasmus_field_map(cells)
    if all(f in fields for f in _REQUIRED_ERASMUS) and (
        "academic_year" in fields or "start_month" in fields
    ):
        return "erasmus-xlsx"
    return None


# --------------------------------------------------------------------------- helpers


def _sniff_encoding(path: Path) -> str:
    head = path.read_bytes()[:65536] if path.stat().st_size < 65536 else _head(path)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start > len(head) - 4:  # a multi-byte character cut by the 64 KB window
            return "utf-8"
        return "cp1252"


def _head(path: Path, n: int = 65536) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _header_line(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, newline="") as fh:
        return fh.readline().rstrip("\r\n")


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d])


_UNITS = re.compile(r"\s*(?:€|eur|%)\s*$", re.IGNORECASE)


def sheet_number(value: object, convention: str | None) -> float | None:
    """A number of a school sheet: :func:`analysis.numbers.parse_number` after a trailing
    ``€``/``EUR``/``%``; ``None`` for a missing marker.  Raises ``ValueError`` with the
    reason (``ambiguous_number`` / ``unparseable_number``) when the text is not a number."""
    if is_missing(value):
        return None
    text = _UNITS.sub("", str(value)) if isinstance(value, str) else value
    x = parse_number(text, convention)
    if x is None:
        reason, detail = number_problem(text, convention)
        raise ValueError(f"{reason}: {value!r}: {detail}")
    return x


def _count(value: str, convention: str) -> float | None:
    """A participants / days cell of an Erasmus+ release (``None`` when not a number)."""
    return parse_number(value, convention)


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m")
    return str(v)


def _map_unique(series: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` once per distinct value (the exports repeat a few values a million times)."""
    uniq = series.unique()
    table = {u: fn(u) for u in uniq}
    return series.map(table)


def _gender(v: str) -> str | None:
    k = normalise_text(v)
    if k in ("female", "f", "femme", "feminin", "w"):
        return "F"
    if k in ("male", "m", "homme", "masculin", "h"):
        return "M"
    return None if is_missing(v) else "X"


def _ka1_activity(v: str) -> str | None:
    """``study`` / ``traineeship`` for student mobility activities (2014-20 names such as
    ``Student mobility for studies between Programme Countries`` and 2021-27 ones such as
    ``Blended mobility of higher education students``), ``None`` for anything else (staff
    mobility, EVS, visits...)."""
    k = normalise_text(v)
    if "student" not in k or "staff" in k or "mobility" not in k:
        return None
    if "traineeship" in k or "placement" in k or "trainee" in k:
        return "traineeship"
    return "study"


_SCHOOL_ACTIVITY = {
    "dual_degree": ("double diplome", "double degree", "dual degree", "diplome double", "dd"),
    "traineeship": ("stage", "internship", "traineeship", "placement", "stages"),
    "study": ("etudes", "etude", "study", "studies", "echange", "exchange", "semestre"),
}


def _school_activity(v: str) -> str | None:
    k = normalise_text(v)
    for act, words in _SCHOOL_ACTIVITY.items():
        if k in words:
            return act
    for act, words in _SCHOOL_ACTIVITY.items():
        if any(len(w) > 3 and w in k for w in words):
            return act
    return None


class _Accumulator:
    """Collects kept records, quarantined rows and filter counts across chunks."""

    def __init__(self, file: str, fmt: str) -> None:
        self.file, self.fmt = file, fmt
        # decimal mark of the release's text cells: the KA1 CSV is ';'-separated (decimal
        # comma); workbook numbers are written by this reader with a point
        self.convention = COMMA
        self.container = "csv"
        self.records: list[pd.DataFrame] = []
        self.quarantine: list[pd.DataFrame] = []
        self.filtered: Counter[str] = Counter()
        self.filtered_participants: Counter[str] = Counter()
        self.rows_read = 0
        self.unknown_codes: Counter[str] = Counter()
        self.unknown_countries: Counter[str] = Counter()

    def quarantine_rows(
        self, rows: pd.Series, column: str, values: pd.Series, reason: str, detail: str
    ) -> None:
        if len(rows) == 0:
            return
        self.quarantine.append(
            pd.DataFrame(
                {
                    Quarantine.SOURCE_FILE: self.file,
                    Quarantine.SOURCE_ROW: rows.to_numpy(dtype="int64"),
                    Quarantine.COLUMN: column,
                    Quarantine.VALUE: values.astype(str).str.slice(0, 40).to_numpy(),
                    Quarantine.REASON: reason,
                    Quarantine.DETAIL: detail,
                }
            )
        )

    def result(self) -> MobilityIngest:
        records = (
            pd.concat(self.records, ignore_index=True)
            if self.records
            else pd.DataFrame({c: pd.Series(dtype="object") for c in _RECORD_COLUMNS})
        )
        records = records[_RECORD_COLUMNS]
        quarantine = (
            pd.concat(self.quarantine, ignore_index=True)
            .sort_values([Quarantine.SOURCE_FILE, Quarantine.SOURCE_ROW], kind="stable")
            .reset_index(drop=True)
            if self.quarantine
            else pd.DataFrame({c: pd.Series(dtype="object") for c in _QUARANTINE_COLUMNS})
        )
        n_q = (
            len(quarantine.drop_duplicates([Quarantine.SOURCE_FILE, Quarantine.SOURCE_ROW]))
            if len(quarantine)
            else 0
        )
        kept = len(records)
        if self.rows_read != kept + sum(self.filtered.values()) + n_q:
            raise AssertionError(
                f"{self.file}: rows_read {self.rows_read} != kept {kept} + filtered "
                f"{sum(self.filtered.values())} + quarantined {n_q}"
            )
        manifest = {
            "file": self.file,
            "format": self.fmt,
            "container": self.container,
            "rows_read": self.rows_read,
            "rows_kept": kept,
            "participants_kept": int(records[Mobility.PARTICIPANTS].sum()) if kept else 0,
            # the years this source reports on (analysis.mobility.coverage)
            "academic_years": sorted({int(y) for y in records[Mobility.ACADEMIC_YEAR]})
            if kept
            else [],
            "filtered": dict(sorted(self.filtered.items())),
            "filtered_participants": dict(sorted(self.filtered_participants.items())),
            "quarantined": n_q,
            "unknown_codes": dict(self.unknown_codes.most_common()),
            "unknown_countries": dict(self.unknown_countries.most_common()),
        }
        return MobilityIngest(
            records=records.reset_index(drop=True),
            quarantine=quarantine,
            manifest=manifest,
            unknown_codes=dict(self.unknown_codes.most_common()),
            unknown_countries=dict(self.unknown_countries.most_common()),
        )


# --------------------------------------------------------------------------- Erasmus chunks


@dataclass(frozen=True)
class _ErasmusContext:
    schools: SchoolResolver
    countries: CountryLookup
    watch_cities: frozenset[str]


def _code_city(code: str) -> str:
    # "F  DOUAI05" -> "DOUAI"; "F ST-ETIE06" -> "ST-ETIE"
    c = normalise_code(code)
    c = c[1:] if c[:1].isalpha() and len(c) > 1 else c
    return re.sub(r"\d+$", "", c)


def _erasmus_context(schools: pd.DataFrame, countries: pd.DataFrame) -> _ErasmusContext:
    sl = school_resolver(schools)
    unverified = schools[schools["code_verified"].str.strip().str.lower() != "true"]
    cities = {
        _code_city(c)
        for codes in unverified["erasmus_codes"]
        for c in str(codes).split("|")
        if c.strip()
    }
    return _ErasmusContext(sl, country_lookup(countries), frozenset(cities))


def _country_code(v: str, cl: CountryLookup) -> str | None:
    """alpha-2, ``""`` for a missing marker, ``None`` for an unknown value."""
    if is_missing(v, na_is_missing=False):
        return ""
    return cl.code_of(v)


def _process_erasmus_chunk(
    chunk: pd.DataFrame, row_numbers: np.ndarray, acc: _Accumulator, ctx: _ErasmusContext
) -> None:
    """Filter one chunk (canonical column names, str values; ``row_numbers`` the 1-based data
    row of each line) and append kept records."""
    acc.rows_read += len(chunk)
    rows = pd.Series(row_numbers, index=chunk.index)
    codes = _map_unique(chunk["sending_code"], normalise_code)
    known = codes.isin(ctx.schools.codes)
    send_cc = _map_unique(chunk["sending_country"], lambda v: _country_code(v, ctx.countries))
    not_fr = ~known & (send_cc != "FR")
    pnum = _map_unique(chunk["participants"], lambda v: _count(v, acc.convention)).fillna(0)

    def count(rule: str, mask: pd.Series) -> None:
        acc.filtered[rule] += int(mask.sum())
        acc.filtered_participants[rule] += int(pnum[mask[mask].index].sum())

    count("sender_not_in_france", not_fr)
    fr_other = ~known & ~not_fr
    if fr_other.any():
        count("sender_not_imt", fr_other)
        _report_unknown_codes(chunk.loc[fr_other], codes[fr_other], acc, ctx)
    df = chunk.loc[known]
    if df.empty:
        return
    rows = rows[known]
    codes = codes[known]

    profile = _map_unique(df["profile"], normalise_text)
    staff = profile == "staff"
    count("staff_profile", staff)
    bad_profile = ~staff & (profile != "learner")
    acc.quarantine_rows(
        rows[bad_profile],
        "Participant Profile",
        df.loc[bad_profile, "profile"],
        "bad_profile",
        "expected Learner or Staff",
    )
    keep = ~staff & ~bad_profile
    activity = _map_unique(df["activity"], _ka1_activity)
    non_student = keep & activity.isna()
    count("not_student_activity", non_student)
    keep &= ~non_student

    # Academic year: the column if present, else the start month.
    year = pd.Series(np.nan, index=df.index)
    if "academic_year" in df:
        year = _map_unique(df["academic_year"], academic_year_of).astype(float)
    if "start_month" in df:
        year = year.fillna(_map_unique(df["start_month"], academic_year_of).astype(float))
    bad_year = keep & year.isna()
    src_year = df["academic_year"] if "academic_year" in df else df["start_month"]
    acc.quarantine_rows(
        rows[bad_year], "Academic Year", src_year[bad_year], "bad_year", "no academic year"
    )
    keep &= ~bad_year

    part = _map_unique(df["participants"], lambda v: _count(v, acc.convention)).astype(float)
    bad_part = keep & (part.isna() | (part < 1) | (part % 1 != 0))
    acc.quarantine_rows(
        rows[bad_part],
        "Participants",
        df.loc[bad_part, "participants"],
        "bad_participants",
        "expected an integer >= 1",
    )
    keep &= ~bad_part

    if not keep.any():
        return
    df, rows, codes = df.loc[keep], rows[keep], codes[keep]
    recv = _map_unique(df["receiving_country"], lambda v: _country_code(v, ctx.countries))
    unknown = recv.isna()
    if unknown.any():
        acc.unknown_countries.update(df.loc[unknown, "receiving_country"].value_counts().to_dict())
    country = recv.where(~unknown & (recv != ""), None)
    if "duration_days" in df:
        days = _map_unique(df["duration_days"], lambda v: _count(v, acc.convention)).astype(float)
    else:
        days = pd.Series(np.nan, index=df.index)
    years = year[keep].astype(int)
    school = pd.Series(
        [ctx.schools.school_of_code(c, y) for c, y in zip(codes, years, strict=True)],
        index=df.index,
        dtype="object",
    )
    gender = (
        _map_unique(df["gender"], _gender)
        if "gender" in df
        else pd.Series(None, index=df.index, dtype="object")
    )
    acc.records.append(
        pd.DataFrame(
            {
                Mobility.SCHOOL: school,
                Mobility.SENDING_CODE: codes,
                Mobility.ACADEMIC_YEAR: years,
                Mobility.ACTIVITY: activity[keep],
                Mobility.DURATION_DAYS: days,
                Mobility.DURATION_MONTHS: days / DAYS_PER_MONTH,
                Mobility.COUNTRY: country.astype("object"),
                "region": country.map(ctx.countries.region).astype("object"),
                Mobility.PARTICIPANTS: part[keep].astype("int64"),
                Mobility.GENDER: gender,
                Mobility.ERASMUS_FUNDED: True,
                Mobility.GRANT_EUR: np.nan,
                Mobility.SOURCE_FILE: acc.file,
                Mobility.SOURCE_ROW: rows.astype("int64"),
                SOURCE_FORMAT: acc.fmt,
            }
        )
    )


def _read_ka1(path: Path, ctx: _ErasmusContext, acc: _Accumulator) -> None:
    encoding = _sniff_encoding(path)
    header = _header_line(path, encoding).split(";")
    cells = [h.strip().lstrip("\ufeff") for h in header]
    if tuple(cells) != KA1_HEADER:
        for i, want in enumerate(KA1_HEADER):
            got = cells[i] if i < len(cells) else None
            if got != want:
                raise MobilityFormatError(
                    path.name,
                    1,
                    want,
                    f"not the Erasmus+ KA1 header: expected {want!r} at position {i + 1}, "
                    f"found {got!r}",
                )
        raise MobilityFormatError(
            path.name, 1, cells[len(KA1_HEADER)], "extra column after the 24 KA1 columns"
        )
    fmap = _erasmus_field_map(cells)
    try:
        _read_ka1_batches(path, encoding, fmap, ctx, acc)
    except pa.ArrowInvalid as e:
        row = _first_ragged_row(path, encoding, len(KA1_HEADER))
        raise MobilityFormatError(
            path.name, row, None, f"not a valid ';'-separated KA1 row ({str(e)[:120]})"
        ) from e
    except UnicodeDecodeError as e:
        raise MobilityFormatError(
            path.name, None, None, f"not readable as {encoding} ({e.reason} at byte {e.start})"
        ) from e


_ARROW_IMT_NAME = r"\b(mines|t[eé]l[eé]com|imt|eurecom)\b"


def _read_ka1_batches(
    path: Path, encoding: str, fmap: dict[str, int], ctx: _ErasmusContext, acc: _Accumulator
) -> None:
    """Stream the file with pyarrow's CSV reader (blocks of 8 MB) and pre-filter each block
    in Arrow: only rows whose sender code is in the school table (a fraction of a percent of
    the real release) and the few IMT-looking unknown senders become pandas frames."""
    names = {i: f for f, i in fmap.items()}
    include = [KA1_HEADER[i] for i in sorted(names)]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            block_size=_ARROW_BLOCK,
            encoding="utf8" if encoding.startswith("utf-8") else encoding,
            use_threads=False,  # measured faster on 2 cores, and less memory
        ),
        parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"'),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(KA1_HEADER, pa.string()),
            include_columns=include,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    imt_codes = ctx.schools.codes

    def _is_imt_code(v: str) -> bool:
        return normalise_code(v) in imt_codes

    # The rows of IMT senders (a fraction of a percent) are gathered over many blocks and
    # processed together: per call, _process_erasmus_chunk has a fixed cost (~35 ms) that,
    # paid for every 8 MB block, came to ~5 s on the full release.
    pending: list[pa.Table] = []
    pending_rows: list[np.ndarray] = []
    pending_n = 0
    suspects: list[pa.Table] = []

    def flush() -> None:
        nonlocal pending, pending_rows, pending_n
        if not pending:
            return
        df = pa.concat_tables(pending).to_pandas()
        df.columns = [names[KA1_HEADER.index(c)] for c in df.columns]
        _process_erasmus_chunk(df, np.concatenate(pending_rows), acc, ctx)
        pending, pending_rows, pending_n = [], [], 0

    first_row = 1
    for batch in reader:
        n = batch.num_rows
        if n == 0:
            continue
        col = {names[fmap[f]]: batch.column(KA1_HEADER[fmap[f]]) for f in fmap}
        # The code, country and participants columns repeat a few thousand distinct values:
        # normalise the dictionary once in Python, then take() back to the rows.
        known = _dict_map(col["sending_code"], _is_imt_code, pa.bool_())
        fr = _dict_map(
            col["sending_country"],
            lambda v: _country_code(v, ctx.countries) == "FR",
            pa.bool_(),
        )
        part = _dict_map(
            col["participants"],
            lambda v: int(x) if (x := _count(v, COMMA)) is not None and x.is_integer() else 0,
            pa.int64(),
        )
        not_known = pc.invert(known)
        not_fr = pc.and_(not_known, pc.invert(fr))
        fr_other = pc.and_(not_known, fr)
        for rule, mask in (("sender_not_in_france", not_fr), ("sender_not_imt", fr_other)):
            k = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
            acc.filtered[rule] += k
            acc.rows_read += k
            acc.filtered_participants[rule] += pc.sum(pc.filter(part, mask)).as_py() or 0
        if pc.any(fr_other).as_py():
            # French senders outside the table: the few whose name looks IMT (or is blank)
            # are kept aside to count their codes; the name test runs on those rows only.
            others = pa.Table.from_batches([batch]).filter(fr_other)
            if "sending_name" in col:
                name_l = pc.utf8_lower(
                    pc.utf8_trim_whitespace(others.column(KA1_HEADER[fmap["sending_name"]]))
                )
                looks = pc.or_(
                    pc.match_substring_regex(name_l, _ARROW_IMT_NAME),
                    pc.is_in(name_l, value_set=pa.array(["", "-", "? unknown ?"])),
                )
                others = others.filter(looks)
            if others.num_rows:
                suspects.append(others)
        if pc.any(known).as_py():
            pending.append(pa.Table.from_batches([batch]).filter(known))
            pending_rows.append(first_row + np.flatnonzero(known.to_numpy(zero_copy_only=False)))
            pending_n += pending[-1].num_rows
            if pending_n >= _KA1_FLUSH_ROWS:
                flush()
        first_row += n
    flush()
    if suspects:
        sub = pa.concat_tables(suspects).to_pandas()
        sub.columns = [names[KA1_HEADER.index(c)] for c in sub.columns]
        _report_unknown_codes(sub, _map_unique(sub["sending_code"], normalise_code), acc, ctx)


def _dict_map(arr: pa.Array, fn: Any, typ: pa.DataType) -> pa.Array:
    """``fn`` applied to each distinct value of a string array, spread back to every row."""
    enc = pc.dictionary_encode(arr)
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=typ)
    return pc.take(mapped, enc.indices)


def _report_unknown_codes(
    sub: pd.DataFrame, codes: pd.Series, acc: _Accumulator, ctx: _ErasmusContext
) -> None:
    """Count codes of French non-IMT senders that look like IMT (name or predecessor city)."""
    names = (
        sub["sending_name"]
        if "sending_name" in sub
        else pd.Series("", index=sub.index, dtype="object")
    )
    imt_name = _map_unique(names, lambda v: bool(_IMT_NAME.search(normalise_text(v))))
    no_name = _map_unique(names, is_missing)
    city = _map_unique(codes, _code_city)
    looks = imt_name.astype(bool) | (no_name.astype(bool) & city.isin(ctx.watch_cities))
    if looks.any():
        acc.unknown_codes.update(codes[looks].value_counts().to_dict())


def _first_ragged_row(path: Path, encoding: str, width: int) -> int | None:
    """1-based data row of the first line without ``width`` fields (error path only)."""
    with path.open("r", encoding=encoding, newline="") as fh:
        for i, rec in enumerate(csv.reader(fh, delimiter=";")):
            if i > 0 and rec and len(rec) != width:
                return i
    return None


def _xlsx_rows(path: Path) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    from openpyxl import load_workbook

    # a file handle, not the path: openpyxl refuses names without an Excel extension, and the
    # content (a zip archive), not the name, says what a file is
    with path.open("rb") as fh:
        try:
            wb = load_workbook(fh, read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - openpyxl raises many types for a damaged file
            raise MobilityFormatError(
                path.name, None, None, f"not a readable XLSX workbook ({e})"
            ) from e
        try:
            for ws in wb.worksheets:
                yield ws.title, ws.iter_rows(values_only=True)
        finally:
            wb.close()


def _read_erasmus_xlsx(path: Path, ctx: _ErasmusContext, acc: _Accumulator) -> None:
    sheets_used = 0
    for title, rows in _xlsx_rows(path):
        header: list[str] | None = None
        for _ in range(5):  # the header is on one of the first rows
            first = next(rows, None)
            if first is None:
                break
            cells = [_cell_text(c).strip() for c in first]
            if detect_mobility_layout(cells) is not None:
                header = cells
                break
        if header is None:
            continue
        sheets_used += 1
        fmap = _erasmus_field_map(header)
        sub = _Accumulator(f"{path.name}[{title}]", acc.fmt)
        sub.convention = POINT  # cells are typed numbers, written by _cell_text with a point
        batch: list[list[str]] = []
        first_row = 1

        def flush(
            batch: list[list[str]],
            first_row: int,
            sub: _Accumulator = sub,
            fmap: dict[str, int] = fmap,
        ) -> None:
            frame = pd.DataFrame(
                {f: [r[i] if i < len(r) else "" for r in batch] for f, i in fmap.items()},
                dtype="object",
            ).astype(str)
            _process_erasmus_chunk(frame, np.arange(first_row, first_row + len(frame)), sub, ctx)

        for r in rows:
            if r is None or all(c is None or str(c).strip() == "" for c in r):
                continue
            batch.append([_cell_text(c) for c in r])
            if len(batch) >= 50_000:
                flush(batch, first_row)
                first_row += len(batch)
                batch = []
        if batch:
            flush(batch, first_row)
        # Merge the sheet's accounting into the file's.
        acc.rows_read += sub.rows_read
        acc.records += sub.records
        acc.quarantine += sub.quarantine
        acc.filtered.update(sub.filtered)
        acc.filtered_participants.update(sub.filtered_participants)
        acc.unknown_codes.update(sub.unknown_codes)
        acc.unknown_countries.update(sub.unknown_countries)
    if sheets_used == 0:
        raise MobilityFormatError(
            path.name,
            1,
            None,
            "no sheet has an Erasmus+ header (need activity, participant profile, sending "
            "country and Erasmus code, receiving country, participants, year or start month)",
        )


# --------------------------------------------------------------------------- school sheets


def _school_table_rows(path: Path) -> tuple[list[str], list[list[str]], str | None]:
    """Header, non-blank data rows and the delimiter (``None`` for a workbook)."""
    if _is_workbook(path):
        for _title, rows in _xlsx_rows(path):
            all_rows = [[_cell_text(c).strip() for c in r] for r in rows if r is not None]
            all_rows = [r for r in all_rows if any(r)]
            if not all_rows:
                raise MobilityFormatError(path.name, 1, None, "empty sheet")
            return all_rows[0], all_rows[1:], None
        raise MobilityFormatError(path.name, None, None, "workbook has no sheet")
    encoding = _sniff_encoding(path)
    text = path.read_text(encoding=encoding)
    lines = text.splitlines()
    if not lines:
        raise MobilityFormatError(path.name, 1, None, "empty file")
    delim = _sniff_delimiter(lines[0])
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    all_rows = [r for r in reader]
    header = [h.strip().lstrip("\ufeff") for h in all_rows[0]]
    body = [r for r in all_rows[1:] if any(c.strip() for c in r)]
    for i, r in enumerate(body, start=1):
        if len(r) > len(header):
            raise MobilityFormatError(
                path.name, i, None, f"{len(r)} fields, the header has {len(header)}"
            )
    return header, body, delim


def _read_school_sheet(
    path: Path,
    school: str | None,
    columns: Mapping[str, str] | None,
    schools: pd.DataFrame,
    countries: pd.DataFrame,
    acc: _Accumulator,
) -> None:
    cl = country_lookup(countries)
    if not school:
        raise MobilityFormatError(path.name, None, None, "school-mobility input needs 'school'")
    school_id = school_resolver(schools).resolve(school)
    if school_id is None:
        raise MobilityFormatError(path.name, None, None, f"unknown school {school!r}")
    if not columns:
        raise MobilityFormatError(path.name, 1, None, "school-mobility input needs 'columns'")
    bad = sorted(set(columns.values()) - set(SCHOOL_FIELDS))
    if bad:
        raise MobilityFormatError(
            path.name, None, None, f"unknown field(s) {bad} in columns; allowed {SCHOOL_FIELDS}"
        )
    header, body, delimiter = _school_table_rows(path)
    acc.container = "csv" if delimiter else "xlsx"
    norm_header = [normalise_text(h) for h in header]
    idx: dict[str, int] = {}
    for src, fld in columns.items():
        key = normalise_text(src)
        if key not in norm_header:
            raise MobilityFormatError(path.name, 1, src, "mapped column not in the header")
        idx[fld] = norm_header.index(key)
    for need in ("academic_year", "activity", "country"):
        if need not in idx:
            raise MobilityFormatError(path.name, 1, need, "no column mapped to this field")
    label = {fld: header[i] for fld, i in idx.items()}

    def cell(r: list[str], fld: str) -> str:
        i = idx.get(fld)
        return r[i] if i is not None and i < len(r) else ""

    numeric = [f for f in ("duration_months", "grant_eur", "participants") if f in idx]
    convention = decimal_convention(
        (_UNITS.sub("", cell(r, f)) for r in body for f in numeric), delimiter
    )
    out: list[dict[str, Any]] = []
    for rownum, r in enumerate(body, start=1):
        acc.rows_read += 1

        def quarantine(
            fld: str, reason: str, detail: str, rownum: int = rownum, r: list[str] = r
        ) -> None:
            acc.quarantine_rows(
                pd.Series([rownum]), label.get(fld, fld), pd.Series([cell(r, fld)]), reason, detail
            )

        year = academic_year_of(cell(r, "academic_year"))
        if year is None:
            quarantine("academic_year", "bad_year", "no academic year")
            continue
        act = _school_activity(cell(r, "activity"))
        if act is None:
            quarantine("activity", "unknown_activity", "not study / traineeship / dual degree")
            continue
        nums: dict[str, float | None] = {"participants": 1.0}
        failed = False
        for fld in numeric:
            try:
                nums[fld] = sheet_number(cell(r, fld), convention)
            except ValueError as e:
                reason = "ambiguous_number" if str(e).startswith("ambiguous") else "bad_number"
                quarantine(fld, reason, str(e)[:80])
                failed = True
                break
        if failed:
            continue
        months, grant = nums.get("duration_months"), nums.get("grant_eur")
        part_v = nums["participants"]
        if part_v is None or part_v < 1 or not float(part_v).is_integer():
            quarantine("participants", "bad_participants", "expected an integer >= 1")
            continue
        raw_country = cell(r, "country")
        cc = _country_code(raw_country, cl)
        if cc is None:
            acc.unknown_countries[raw_country] += 1
        country = cc or None
        funding = cell(r, "funding")
        funded = (
            None
            if "funding" not in idx or is_missing(funding)
            else "erasmus" in normalise_text(funding)
        )
        out.append(
            {
                Mobility.SCHOOL: school_id,
                Mobility.SENDING_CODE: "",
                Mobility.ACADEMIC_YEAR: year,
                Mobility.ACTIVITY: act,
                Mobility.DURATION_DAYS: months * DAYS_PER_MONTH if months is not None else np.nan,
                Mobility.DURATION_MONTHS: months if months is not None else np.nan,
                Mobility.COUNTRY: country,
                "region": cl.region.get(country) if country else None,
                Mobility.PARTICIPANTS: int(part_v),
                Mobility.GENDER: None,
                Mobility.ERASMUS_FUNDED: funded,
                Mobility.GRANT_EUR: grant if grant is not None else np.nan,
                Mobility.SOURCE_FILE: acc.file,
                Mobility.SOURCE_ROW: rownum,
                SOURCE_FORMAT: acc.fmt,
            }
        )
    if out:
        acc.records.append(pd.DataFrame(out))


# --------------------------------------------------------------------------- entry point


def read_mobility_file(
    path: Path,
    fmt: str,
    schools: pd.DataFrame,
    countries: pd.DataFrame,
    school: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> MobilityIngest:
    """Read one mobility input into tidy records + quarantine + manifest.

    ``fmt`` is ``"erasmus-ka1"`` (the Erasmus+ KA1 release, CSV or XLSX workbook: told apart
    by the file's content; ``"erasmus-xlsx"`` is an accepted alias), ``"school-mobility"`` or
    ``"auto"`` (detected from the header with :func:`detect_mobility_layout`; a file with
    neither layout needs an explicit format).  Filter rules (counted in ``manifest["filtered"]``):
    ``sender_not_in_france`` (incoming or foreign rows), ``sender_not_imt`` (French sender not
    in the school table), ``staff_profile``, ``not_student_activity``.
    """
    path = Path(path)
    if not path.is_file():
        raise MobilityFormatError(path.name, None, None, f"file not found: {path}")
    check_input_file(path)  # a zip bomb, a giant line or header: refused before parsing
    fmt = FORMAT_ALIASES.get(fmt, fmt)
    if fmt == "auto":
        fmt = _detect_file(path)
    acc = _Accumulator(path.name, fmt)
    if fmt == "erasmus-ka1" and _is_workbook(path):
        acc.container = "xlsx"
        _read_erasmus_xlsx(path, _erasmus_context(schools, countries), acc)
    elif fmt == "erasmus-ka1":
        _read_ka1(path, _erasmus_context(schools, countries), acc)
    elif fmt == "school-mobility":
        _read_school_sheet(path, school, columns, schools, countries, acc)
    else:
        raise MobilityFormatError(path.name, None, None, f"unknown mobility format {fmt!r}")
    return acc.result()


def _is_workbook(path: Path) -> bool:
    """An XLSX workbook (a zip archive), whatever its name says."""
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _detect_file(path: Path) -> str:
    if _is_workbook(path):
        for _title, rows in _xlsx_rows(path):
            for _ in range(5):
                r = next(rows, None)
                if r is None:
                    break
                layout = detect_mobility_layout([_cell_text(c).strip() for c in r])
                if layout is not None:
                    return "erasmus-ka1"
    else:
        line = _header_line(path, _sniff_encoding(path))
        if detect_mobility_layout(line.split(";")) == "erasmus-ka1":
            return "erasmus-ka1"
    raise MobilityFormatError(
        path.name, 1, None, "format 'auto': header is not an Erasmus+ layout; set the format"
    )


def drop_double_counted(records: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Count each mobility from one source only.

    A school's own sheet repeats the mobilities Erasmus+ funds: its rows (``source_format`` =
    ``school-mobility``) with ``erasmus_funded`` true are left out when Erasmus+ records
    (``erasmus-ka1``, CSV or XLSX) exist for the same school and academic year.  Returns
    the remaining records and ``{source_file: {"rows": n, "participants": n}}`` for each
    school sheet.  Records without a ``source_format`` column are returned unchanged.
    """
    if SOURCE_FORMAT not in records.columns or records.empty:
        return records, {}
    fmt = records[SOURCE_FORMAT].astype(str)
    years = records[Mobility.ACADEMIC_YEAR].astype(int)
    key = pd.Series(list(zip(records[Mobility.SCHOOL], years, strict=True)), index=records.index)
    covered = set(key[fmt.str.startswith("erasmus")])
    sheet = fmt == "school-mobility"
    dup = sheet & (records[Mobility.ERASMUS_FUNDED] == True) & key.isin(covered)  # noqa: E712
    dropped = {
        str(f): {
            "rows": int(dup[records[Mobility.SOURCE_FILE] == f].sum()),
            "participants": int(
                records.loc[dup & (records[Mobility.SOURCE_FILE] == f), Mobility.PARTICIPANTS].sum()
            ),
        }
        for f in records.loc[sheet, Mobility.SOURCE_FILE].unique()
    }
    return records.loc[~dup].reset_index(drop=True), dropped


def combine_mobility_records(
    ingests: Sequence[MobilityIngest],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Concatenate the records of several inputs and remove double counting
    (:func:`drop_double_counted`).  Returns the records and
    ``{"double_counted": {file: {"rows": n, "participants": n}}}``."""
    frames = [i.records for i in ingests if len(i.records)]
    if not frames:
        return pd.DataFrame(columns=_RECORD_COLUMNS), {"double_counted": {}}
    out = pd.concat(frames, ignore_index=True)
    out[Mobility.ACADEMIC_YEAR] = out[Mobility.ACADEMIC_YEAR].astype("int64")
    out[Mobility.PARTICIPANTS] = out[Mobility.PARTICIPANTS].astype("int64")
    out, dropped = drop_double_counted(out)
    return out, {"double_counted": dropped}
