"""``read_survey_export``: one survey export, read through the codebook into the tidy table.

Order of operations (each data row ends in exactly one place):

1. rows with missing fields (a truncated last line) -> quarantine (``short_row``);
2. platform filters, in this order, each counted under its name in ``manifest["filtered"]``:
   ``qualtrics_preview`` / ``qualtrics_test`` / ``qualtrics_spam`` (Qualtrics ``Status``; always),
   ``unfinished`` (Qualtrics ``Finished`` false) or ``incomplete`` (LimeSurvey empty
   ``submitdate``) when ``filters.drop_unfinished``, ``speeder`` (duration below
   ``filters.min_duration_seconds``; rows whose duration is unknown are kept), ``duplicate``
   (same response id, e-mail or token as an earlier row, keep the first; detected before the
   personal columns are dropped) when ``filters.drop_duplicates``;
3. codebook mapping of the remaining rows.  A *row* is quarantined when its school is unknown
   (``unknown_school``) or empty (``missing_school``) or its Qualtrics status is unknown; a
   *cell* problem (Likert answer outside its scale ``out_of_range``, unknown answer code
   ``unknown_code``, ``unparseable_number``, ``unparseable_date``) keeps the row, sets that
   variable to missing and records the cell in the quarantine table (``scope = "cell"``).

Personal-data columns (IP, e-mail, names, tokens, external references, coordinates, referrer
URL, the platform's respondent id) never reach the tidy table; they are listed in the manifest.
The respondent id is an HMAC-SHA256 of ``source_id|platform id`` under ``pseudonym_key``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import FilterConfig
from analysis.ingest.codebook import Codebook, ColumnMap, Source, Variable
from analysis.ingest.errors import CodebookError, InputError
from analysis.ingest.personal import find_roles, is_personal_column
from analysis.ingest.source import CHUNK_ROWS, RawTable, open_table
from analysis.ingest.text import (
    DEFAULT_MISSING,
    LIMESURVEY_NO_DATE,
    match_key,
    neutralise_text,
    safe_value,
)
from analysis.numbers import number_problem, parse_number
from analysis.schema import Quarantine, Responses
from analysis.schools import SchoolResolver, school_resolver

#: Tidy columns filled from platform metadata when the codebook does not define them.
AUTO_VARIABLES = ("duration_seconds", "finished")

_DEFAULT_BINARY = {
    "1": 1,
    "0": 0,
    "yes": 1,
    "no": 0,
    "oui": 1,
    "non": 0,
    "true": 1,
    "false": 0,
    "y": 1,
    "n": 0,
    "vrai": 1,
    "faux": 0,
}
_UNSELECTED = {"", "0", "n", "no", "non", "false", "faux"}
_QUALTRICS_STATUS = {
    "0": None,
    "ip address": None,
    "4": None,
    "imported": None,
    "16": None,
    "offline": None,
    "": None,
    "1": "qualtrics_preview",
    "survey preview": "qualtrics_preview",
    "2": "qualtrics_test",
    "survey test": "qualtrics_test",
    "8": "qualtrics_spam",
    "spam": "qualtrics_spam",
}
_DATE_FORMATS_ISO = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
_DATE_FORMATS_DMY = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y")
_DATE_FORMATS_MDY = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y")

_KEPT, _QUARANTINED = 0, 1
QUARANTINE_COLUMNS = (*Quarantine.SCHEMA.required, "scope")


@dataclass(frozen=True)
class SurveyIngest:
    """Result of reading one export: the tidy responses, the quarantine and a manifest."""

    responses: pd.DataFrame
    quarantine: pd.DataFrame
    manifest: dict[str, Any]


# ----------------------------------------------------------------------------- helpers
_SHA256_BLOCK = 64  # bytes


def pseudonymise(key: str, source_id: str, raw_id: str) -> str:
    """Keyed hash (HMAC-SHA256, 128 bits in hex) of a platform respondent id."""
    msg = f"{source_id}|{raw_id}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()[:32]


def _pseudonymiser(key: str, source_id: str) -> Callable[[str], str]:
    """:func:`pseudonymise` with the keyed state computed once.

    The HMAC construction of RFC 2104 written out with :mod:`hashlib` (the inner and outer
    SHA-256 states, key pads and ``source_id|`` prefix absorbed once, then copied per id):
    the same digest as ``hmac.new`` (tested), about twice as fast as copying an ``hmac``
    object, whose ``copy`` is Python code.
    """
    k = key.encode()
    if len(k) > _SHA256_BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    inner.update(f"{source_id}|".encode())
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def one(raw_id: str) -> str:
        i = inner.copy()
        i.update(raw_id.encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:32]

    return one


def _resolve_columns(table: RawTable, src: Source) -> dict[str, int]:
    """Codebook column key -> field position (exact id, Qualtrics ImportId, then loose match)."""
    cols = table.layout.columns
    exact = {c: i for i, c in enumerate(cols)}
    iids = {c: i for i, c in enumerate(table.layout.import_ids) if c}
    loose: dict[str, int] = {}
    for i, c in enumerate(cols):
        loose.setdefault(match_key(c), i)
    out, missing = {}, []
    for key in src.columns:
        if key in exact:
            out[key] = exact[key]
        elif key in iids:
            out[key] = iids[key]
        elif match_key(key) in loose:
            out[key] = loose[match_key(key)]
        else:
            missing.append(key)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            f"{table.name}: column(s) {shown} of codebook source {src.id!r} not in the file"
        )
    return out


class _Issues:
    """Quarantine records, gathered as column lists (cheap even for many issues)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.cols: dict[str, list[Any]] = {c: [] for c in QUARANTINE_COLUMNS}

    def add(
        self, row: int, column: str, value: object, reason: str, detail: str, scope: str
    ) -> None:
        c = self.cols
        c[Quarantine.SOURCE_FILE].append(self.file)
        c[Quarantine.SOURCE_ROW].append(int(row))
        c[Quarantine.COLUMN].append(column)
        c[Quarantine.VALUE].append(safe_value(value))
        c[Quarantine.REASON].append(reason)
        c[Quarantine.DETAIL].append(detail)
        c["scope"].append(scope)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.cols, columns=list(QUARANTINE_COLUMNS))
        return df.astype({Quarantine.SOURCE_ROW: "int64"})


def _factorized(series: pd.Series, fn: Callable[[str], tuple[Any, tuple[str, str] | None]]):
    """Apply ``fn`` to each distinct value: returns (values per row, issue per row or None)."""
    codes, uniques = pd.factorize(series, sort=False)
    results = [fn(u) for u in uniques]
    vals = np.empty(len(results), dtype=object)
    for i, r in enumerate(results):
        vals[i] = r[0]
    issues = [r[1] for r in results]
    bad = np.array([i is not None for i in issues], dtype=bool)
    return vals[codes] if len(codes) else np.empty(0, dtype=object), codes, issues, bad, vals


def _per_row(uvals: np.ndarray, codes: np.ndarray, fn: Callable[[Any], Any], dtype: Any):
    """``np.array([fn(v) for v in uvals[codes]], dtype)``, calling ``fn`` once per distinct value."""
    return np.array([fn(v) for v in uvals], dtype=dtype)[codes]


class _Mapper:
    """Maps one variable's source answers to canonical values (one call per distinct answer)."""

    def __init__(self, var: Variable, src: Source, codebook: Codebook, table: RawTable,
                 column: str, schools: SchoolResolver) -> None:  # fmt: skip
        self.var = var
        self.vmap: dict[str, Any] = {**var.values, **src.values.get(var.name, {})}
        self.missing = DEFAULT_MISSING | codebook.missing | src.missing | var.missing
        self.value_labels = table.value_labels.get(column, {})
        self.user_missing = table.user_missing.get(column, [])
        self.decimal_mark = table.decimal_mark
        self.schools = schools
        self.limesurvey = table.layout.format == "limesurvey"
        if var.type == "likert":
            lo, _hi = var.scale  # type: ignore[misc]
            self.label_codes = {
                match_key(lab): lo + i for labs in var.labels.values() for i, lab in enumerate(labs)
            }
        if var.type == "date":
            mdy_first = src.language == "en"
            self.formats = var.formats or (
                _DATE_FORMATS_ISO
                + (
                    _DATE_FORMATS_MDY + _DATE_FORMATS_DMY
                    if mdy_first
                    else _DATE_FORMATS_DMY + _DATE_FORMATS_MDY
                )
            )
        if var.type in ("multi-select", "categorical"):
            # option ids and their labels in every language are answers too (a Google Forms
            # export writes the labels); the value maps win
            self.option_keys = {match_key(o): o for o in var.options}
            for table in var.option_labels.values():
                self.option_keys.update({match_key(lab): o for o, lab in table.items()})
            self.option_keys.update(self.vmap)

    def is_missing(self, s: str) -> bool:
        if match_key(s) in self.missing:
            return True
        if self.user_missing:
            x = parse_number(s, self.decimal_mark)
            return x is not None and any(lo <= x <= hi for lo, hi in self.user_missing)
        return False

    def lookup(self, s: str) -> Any:
        """Codebook value for answer ``s`` (its SPSS value label as a fallback), else None."""
        k = match_key(s)
        if k in self.vmap:
            return self.vmap[k]
        lab = self.value_labels.get(s.strip())
        if lab is not None and match_key(lab) in self.vmap:
            return self.vmap[match_key(lab)]
        return None

    def __call__(self, s: str) -> tuple[Any, tuple[str, str] | None]:
        if self.is_missing(s):
            return None, None
        return getattr(self, "_" + self.var.type.replace("-", "_"))(s.strip())

    def _school(self, s: str):
        hit = self.lookup(s)
        cand = str(hit) if hit is not None else s
        sid = self.schools.resolve(cand)
        if sid is None and hit is None:
            lab = self.value_labels.get(s)
            sid = self.schools.resolve(lab) if lab else None
        if sid is None:
            return None, ("unknown_school", "not a school id, name or alias in the school table")
        return sid, None

    def _categorical(self, s: str):
        hit = self.lookup(s)
        if hit is not None:
            return str(hit), None
        if self.var.categories:
            for c in self.var.categories:
                if match_key(c) == match_key(s):
                    return c, None
        by_label = self.option_keys.get(match_key(s))
        if by_label is not None:
            return str(by_label), None
        if self.vmap or self.var.categories:
            return None, ("unknown_code", f"not a known answer of {self.var.name}")
        return neutralise_text(s), None

    def _binary(self, s: str):
        hit = self.lookup(s)
        if hit is None and not self.vmap:
            hit = _DEFAULT_BINARY.get(match_key(s))
            if hit is None and self.value_labels.get(s):
                hit = _DEFAULT_BINARY.get(match_key(self.value_labels[s]))
        if hit is None:
            return None, ("unknown_code", f"not a known answer of {self.var.name}")
        return float(hit), None

    def _likert(self, s: str):
        lo, hi = self.var.scale  # type: ignore[misc]
        hit = self.lookup(s)
        if hit is not None:
            return float(hit), None  # value maps give canonical codes (no reversal)
        code = self.label_codes.get(match_key(s))
        if code is None and self.value_labels.get(s):
            code = self.label_codes.get(match_key(self.value_labels[s]))
        if code is None:
            x = parse_number(s, self.decimal_mark)
            if x is None:
                return None, ("unknown_code", f"not a {lo}-{hi} answer or scale label")
            if not x.is_integer() or not lo <= x <= hi:
                return None, ("out_of_range", f"outside the {lo}-{hi} scale")
            code = int(x)
        if self.var.direction == "descending":
            code = lo + hi - code
        return float(code), None

    def _numeric(self, s: str):
        hit = self.lookup(s)
        x = float(hit) if hit is not None else parse_number(s, self.decimal_mark)
        if x is None:
            return None, number_problem(s, self.decimal_mark)
        if self.var.range and not self.var.range[0] <= x <= self.var.range[1]:
            lo, hi = self.var.range
            return None, ("out_of_range", f"outside [{lo:g}, {hi:g}]")
        return x, None

    def _date(self, s: str):
        if self.limesurvey and s == LIMESURVEY_NO_DATE:
            return None, None
        for f in self.formats:
            try:
                return datetime.strptime(s, f), None
            except ValueError:
                continue
        return None, ("unparseable_date", "not a date in a known format")

    def _identifier(self, s: str):
        return s, None  # hashed by the caller (needs the key)

    def _free_text(self, s: str):
        return neutralise_text(s), None

    def _multi_select(self, s: str):
        """A joined answer (Google Forms ``", "`` or ``";"``): the set of options, matching the
        longest known label first so that labels containing commas survive.  A part that is
        no option ("Other: Afrique", a free "other" answer) does not set the answer aside:
        the known options stay ticked and the unknown parts are only counted
        (:attr:`_Choices.unknown`), their text is never kept."""
        parts = [p for p in re.split(r"\s*[,;]\s*", s) if p]
        chosen: set[str] = set()
        unknown = 0
        i = 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                k = match_key(", ".join(parts[i:j]))
                if k in self.option_keys:
                    chosen.add(self.option_keys[k])
                    i = j
                    break
            else:
                unknown += 1
                i += 1
        return _Choices.of(chosen, unknown), None


class _Choices(frozenset):
    """The options ticked in one joined multi-select answer, and how many of its parts were no
    option of the codebook (``unknown``: a count, never the text)."""

    unknown: int = 0

    @classmethod
    def of(cls, chosen: set[str], unknown: int) -> _Choices:
        c = cls(chosen)
        c.unknown = unknown
        return c


# ----------------------------------------------------------------------------- main entry
def read_survey_export(
    path: Path,
    codebook: Codebook,
    source_id: str,
    *,
    wave: str,
    filters: FilterConfig,
    pseudonym_key: str,
    schools: pd.DataFrame | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> SurveyIngest:
    """Read one survey export into the tidy response table (see the module docstring).

    ``responses`` has the :class:`analysis.schema.Responses` columns, one column per codebook
    variable (multi-select as ``<variable>__<option>`` 0/1 floats, NaN when unanswered;
    likert/binary/numeric as float with NaN; categorical/school as categories; dates as
    datetime64) plus ``duration_seconds`` and ``finished`` from the platform metadata when the
    codebook does not define them.  ``quarantine`` has the :class:`Quarantine` columns plus
    ``scope`` ("row" or "cell").  ``manifest`` counts every row: read = kept + filtered + quarantined.
    """
    if not pseudonym_key:
        raise ValueError("pseudonym_key is empty: set study.pseudonym_key in the study config")
    table = open_table(Path(path))
    lay = table.layout
    name = table.name
    if lay.format in ("erasmus-ka1", "school-mobility"):
        raise InputError(f"{name}: a {lay.format} mobility file, not a survey export")
    src = codebook.source(source_id)
    generic = {"csv", "xlsx"}
    if (
        src.platform != "auto"
        and src.platform != lay.format
        and not (src.platform in generic and lay.format in generic)
        and not (src.platform == "spss" and table.container == "sav")
    ):
        raise InputError(
            f"{name}: codebook source {src.id!r} is a {src.platform} export but the file is "
            f"{lay.format}" + (f" ({lay.variant})" if lay.variant else "")
        )
    school_cols = [k for k, cm in src.columns.items() if cm.variable == Responses.SCHOOL]
    if not school_cols:
        raise CodebookError(f"{codebook.path}: source {src.id!r} maps no column to 'school'")
    positions = _resolve_columns(table, src)
    roles = find_roles(lay.format, lay.columns)
    personal = [c for c in lay.columns if is_personal_column(c)]
    for key, pos in positions.items():
        col = lay.columns[pos]
        var = codebook.variables[src.columns[key].variable]
        if col in personal and var.type != "identifier":
            raise CodebookError(
                f"{codebook.path}: source {src.id!r} maps personal-data column {col!r} to "
                f"{var.name!r} ({var.type}); only 'identifier' variables (hashed) may read it"
            )
    resolver = school_resolver(schools)
    hash_id = _pseudonymiser(pseudonym_key, src.id)
    hash_value = _pseudonymiser(pseudonym_key, src.id + "#value")

    # variables -> (column key, position) lists
    by_var: dict[str, list[tuple[str, int, ColumnMap]]] = {}
    for key, cm in src.columns.items():
        by_var.setdefault(cm.variable, []).append((key, positions[key], cm))
    mappers = {
        v: _Mapper(codebook.variables[v], src, codebook, table, lay.columns[cols[0][1]], resolver)
        for v, cols in by_var.items()
    }

    filter_names: list[str] = []
    if "status" in roles:
        filter_names += ["qualtrics_preview", "qualtrics_test", "qualtrics_spam"]
    if filters.drop_unfinished and "finished" in roles:
        filter_names.append("unfinished")
    if filters.drop_unfinished and "submitdate" in roles:
        filter_names.append("incomplete")
    has_duration = "duration" in roles or (
        "start" in roles and ("end" in roles or "submitdate" in roles)
    )
    if filters.min_duration_seconds > 0 and has_duration:
        filter_names.append("speeder")
    dup_roles = [r for r in ("response_id", "email", "token") if r in roles]
    if filters.drop_duplicates and dup_roles:
        filter_names.append("duplicate")
    counts = {f: 0 for f in filter_names}

    issues = _Issues(name)
    seen: dict[str, set[str]] = {r: set() for r in dup_roles}  # in memory only, never output
    out: dict[str, list[np.ndarray]] = {}
    rows_read = 0
    quarantined_rows = 0
    unknown_options: dict[str, int] = {}  # multi-select: answers outside the options, counted
    unknown_respondents: dict[str, int] = {}

    needed = sorted(set(positions.values()) | set(roles.values()))
    for chunk in table.chunks(chunk_rows, usecols=needed):
        n = len(chunk)
        rows_read += n
        rownum = chunk.index.to_numpy()
        state = np.zeros(n, dtype=np.int16)  # 0 kept, 1 quarantined, 2+k filter k
        short = chunk.isna().to_numpy()
        if short.any():
            for i in np.flatnonzero(short.any(axis=1)):
                first_missing = int(chunk.columns[np.flatnonzero(short[i])[0]])
                got = table.short_tail if table.short_tail is not None else first_missing
                issues.add(rownum[i], lay.columns[first_missing], "", "short_row",
                           f"{got} of {len(lay.columns)} fields (truncated line)", "row")  # fmt: skip
                state[i] = _QUARANTINED
            chunk = chunk.fillna("")

        def col(role: str, chunk: pd.DataFrame = chunk) -> pd.Series:
            return chunk[roles[role]].astype(str).str.strip()

        def apply_filter(fname: str, mask: np.ndarray, state: np.ndarray = state) -> None:
            m = mask & (state == _KEPT)
            state[m] = 2 + filter_names.index(fname)
            counts[fname] += int(m.sum())

        if "status" in roles:
            status = _per_unique(col("status"), lambda u: u.str.casefold())
            for i in np.flatnonzero(
                ~status.isin(list(_QUALTRICS_STATUS)).to_numpy() & (state == _KEPT)
            ):
                issues.add(rownum[i], lay.columns[roles["status"]], status.iloc[i], "unknown_code",
                           "unknown Qualtrics response status", "row")  # fmt: skip
                state[i] = _QUARANTINED
            mapped = status.map(_QUALTRICS_STATUS)
            for fname in ("qualtrics_preview", "qualtrics_test", "qualtrics_spam"):
                apply_filter(fname, (mapped == fname).to_numpy())
        if "unfinished" in counts:
            fin = _per_unique(col("finished"), lambda u: u.str.casefold())
            apply_filter("unfinished", fin.isin(["0", "false", "faux"]).to_numpy())
        if "incomplete" in counts:
            apply_filter("incomplete", (col("submitdate") == "").to_numpy())
        duration = _duration(chunk, roles, col, table.decimal_mark)
        if "speeder" in counts:
            apply_filter("speeder", (duration < filters.min_duration_seconds).to_numpy())
        rid_raw = col("response_id") if "response_id" in roles else None
        if "duplicate" in counts:
            apply_filter("duplicate", _duplicates(chunk, roles, dup_roles, state, seen))

        # ---- codebook mapping of the rows still kept
        keep_idx = np.flatnonzero(state == _KEPT)
        sub = chunk.iloc[keep_idx]
        subrows = rownum[keep_idx]
        row_bad = np.zeros(len(sub), dtype=bool)
        values: dict[str, np.ndarray] = {}
        unknown_parts: dict[str, np.ndarray] = {}
        cell_issues: list[tuple[int, str, object, str, str]] = []
        for vname, cols in by_var.items():
            var = codebook.variables[vname]
            mapper = mappers[vname]
            if var.type == "multi-select" and any(cm.option for _, _, cm in cols):
                values.update(_split_multi(var, cols, sub, mapper))
                continue
            key, pos, _cm = cols[0]
            vals, codes, uissues, bad, uvals = _factorized(sub[pos].astype(str), mapper)
            if bad.any():
                for i in np.flatnonzero(bad[codes]):
                    reason, detail = uissues[codes[i]]
                    raw = sub[pos].iloc[i]
                    if var.type == "school":
                        issues.add(subrows[i], lay.columns[pos], raw, reason, detail, "row")
                        row_bad[i] = True
                    else:
                        cell_issues.append((i, lay.columns[pos], raw, reason, detail))
            if var.type == "school":
                empty = _per_row(uvals, codes, lambda v: v is None, bool) & ~bad[codes]
                for i in np.flatnonzero(empty):
                    issues.add(subrows[i], lay.columns[pos], sub[pos].iloc[i], "missing_school",
                               "no school answer", "row")  # fmt: skip
                row_bad |= empty
            if var.type == "multi-select":
                for o in var.options:
                    values[f"{vname}__{o}"] = _per_row(
                        uvals, codes, lambda v, o=o: np.nan if v is None else float(o in v), float
                    )
                unknown_parts[vname] = _per_row(
                    uvals, codes, lambda v: getattr(v, "unknown", 0), np.int64
                )
            elif var.type in ("likert", "binary", "numeric"):
                values[vname] = _per_row(uvals, codes, lambda v: np.nan if v is None else v, float)
            elif var.type == "identifier":
                values[vname] = _per_row(
                    uvals, codes, lambda v: None if v is None else hash_value(v), object
                )
            else:
                values[vname] = vals
        good = ~row_bad
        for vname, parts in unknown_parts.items():
            kept_parts = parts[good]
            if kept_parts.any():
                unknown_options[vname] = unknown_options.get(vname, 0) + int(kept_parts.sum())
                unknown_respondents[vname] = unknown_respondents.get(vname, 0) + int(
                    (kept_parts > 0).sum()
                )
        # cell problems are recorded for rows that stay in the tidy table (scope "cell")
        for i, column, raw, reason, detail in cell_issues:
            if good[i]:
                issues.add(subrows[i], column, raw, reason, detail, "cell")
        q_idx = keep_idx[row_bad]
        state[q_idx] = _QUARANTINED
        quarantined_rows += int((state == _QUARANTINED).sum())
        kept_rows = subrows[good]
        if rid_raw is not None:
            raw_ids = rid_raw.to_numpy()[keep_idx[good]]
            raw_ids = [r if r else f"row:{rn}" for r, rn in zip(raw_ids, kept_rows, strict=True)]
        else:
            raw_ids = [f"row:{rn}" for rn in kept_rows]
        _append(out, Responses.RESPONDENT_ID, np.array([hash_id(r) for r in raw_ids], dtype=object))
        _append(out, Responses.SOURCE_ROW, kept_rows.astype("int64"))
        for vname, arr in values.items():
            _append(out, vname, arr[good])
        if "duration_seconds" not in codebook.variables:
            _append(out, "duration_seconds", duration.to_numpy()[keep_idx[good]])
        if "finished" not in codebook.variables:
            _append(out, "finished", _finished(chunk, roles, lay.format)[keep_idx[good]])

    rows_kept = sum(len(a) for a in out.get(Responses.SOURCE_ROW, []))
    filtered_total = sum(counts.values())
    if rows_read != rows_kept + filtered_total + quarantined_rows:
        raise RuntimeError(
            f"{name}: row accounting broken: read {rows_read} != kept {rows_kept} + filtered "
            f"{filtered_total} + quarantined {quarantined_rows}"
        )
    responses = _assemble(out, codebook, src, name, wave)
    quarantine = issues.frame()
    mapped_cols = {lay.columns[p] for p in positions.values()}
    manifest: dict[str, Any] = {
        "file": name,
        "source_id": src.id,
        "wave": wave,
        "format": lay.format,
        "variant": lay.variant,
        "container": table.container,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "rows_read": rows_read,
        "rows_kept": rows_kept,
        "filtered": counts,
        "quarantined": quarantined_rows,
        "quarantined_cells": int((quarantine["scope"] == "cell").sum()),
        "quarantine_reasons": {
            str(k): int(v) for k, v in quarantine["reason"].value_counts().items()
        },
        "dropped_personal_columns": personal,
        "unmapped_columns": [c for c in lay.columns if c not in mapped_cols and c not in personal],
        "variables": sorted(by_var),
        "breaks": [b.to_dict() for b in codebook.breaks_for(set(by_var), wave)],
        "filters": {
            "drop_unfinished": filters.drop_unfinished,
            "min_duration_seconds": filters.min_duration_seconds,
            "drop_duplicates": filters.drop_duplicates,
        },
        "school_table": resolver.table_given,
        # joined multi-select answers that are no option of the codebook ("Other: ..."): the
        # respondent's known options are kept; only these counts are reported, never the text
        "unknown_options": dict(sorted(unknown_options.items())),
        "unknown_option_respondents": dict(sorted(unknown_respondents.items())),
    }
    return SurveyIngest(responses=responses, quarantine=quarantine, manifest=manifest)


def _append(out: dict[str, list[np.ndarray]], key: str, arr: np.ndarray) -> None:
    out.setdefault(key, []).append(arr)


def _casefold(values: pd.Series) -> np.ndarray:
    """``str.casefold`` of every value (object array); ASCII-only columns are lower-cased in
    Arrow (casefold and lower agree on ASCII), others go through Python's ``casefold``."""
    arr = values.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        data = arr._pa_array  # noqa: SLF001  (public accessors copy)
        if pc.all(pc.string_is_ascii(data)).as_py() is not False:
            return np.asarray(pc.ascii_lower(data).to_pylist(), dtype=object)
    return values.str.casefold().to_numpy(dtype=object)


def _duplicates(chunk: pd.DataFrame, roles: Mapping[str, int], dup_roles: list[str],
                state: np.ndarray, seen: dict[str, set[str]]) -> np.ndarray:  # fmt: skip
    """Rows still kept whose response id, e-mail or token (stripped, casefolded, non-empty)
    equals that of an earlier *kept, non-duplicate* row (this chunk or ``seen``, the keys of
    earlier chunks, updated here).  Same result as checking the rows one by one in order:
    rows none of whose keys occurred before are not duplicates and are settled at once; only
    the others (rare) are checked one by one."""
    kept = np.flatnonzero(state == _KEPT)
    dup = np.zeros(len(chunk), dtype=bool)
    if not len(kept):
        return dup
    keys = []
    again = np.zeros(len(kept), dtype=bool)  # a key already seen or repeated in the chunk
    for r in dup_roles:
        v = chunk[roles[r]].iloc[kept].astype(str).str.strip()
        k = _casefold(v)
        present = k != ""
        in_seen = np.fromiter(map(seen[r].__contains__, k), dtype=bool, count=len(k))
        repeated = pd.Series(k).duplicated(keep="first").to_numpy()
        again |= present & (in_seen | repeated)
        keys.append((r, k, present))
    clear = ~again
    for r, k, present in keys:
        seen[r].update(k[clear & present].tolist())
    for j in np.flatnonzero(again):
        ks = [(r, k[j]) for r, k, present in keys if present[j]]
        if any(x in seen[r] for r, x in ks):
            dup[kept[j]] = True
        else:
            for r, x in ks:
                seen[r].add(x)
    return dup


def _per_unique(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(values)`` for an element-wise string function ``fn``, computed once per distinct
    value (same result, index and dtype; columns with missing cells go through ``fn`` whole)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        return fn(values)
    done = fn(pd.Series(uniques, dtype=values.dtype))
    return pd.Series(done.array.take(codes), index=values.index, name=values.name)


def _duration(
    chunk: pd.DataFrame, roles: Mapping[str, int], col, decimal_mark: str | None
) -> pd.Series:
    """Seconds spent on the survey: the platform's duration, else end - start; NaN if unknown."""
    if "duration" in roles:
        codes, uniques = pd.factorize(col("duration"), use_na_sentinel=True)
        num = np.array(
            [np.nan if (x := parse_number(u, decimal_mark)) is None else x for u in uniques],
            dtype=float,
        )
        # per distinct text, then per row (code -1, a missing cell: NaN, as to_numeric gives)
        return pd.Series(np.append(num, np.nan)[codes], dtype=float)
    end_role = "end" if "end" in roles else "submitdate" if "submitdate" in roles else None
    if "start" in roles and end_role:
        start = pd.to_datetime(col("start"), errors="coerce", format="mixed")
        end_raw = col(end_role).replace(LIMESURVEY_NO_DATE, "")
        end = pd.to_datetime(end_raw, errors="coerce", format="mixed")
        return (end - start).dt.total_seconds().astype(float).reset_index(drop=True)
    return pd.Series(np.full(len(chunk), np.nan))


def _finished(chunk: pd.DataFrame, roles: Mapping[str, int], fmt: str) -> np.ndarray:
    n = len(chunk)
    if "finished" in roles:
        v = _per_unique(
            chunk[roles["finished"]].astype(str).str.strip(), lambda u: u.str.casefold()
        )
        return np.where(v.isin(["1", "true"]), 1.0, np.where(v.isin(["0", "false"]), 0.0, np.nan))
    if "submitdate" in roles:
        v = chunk[roles["submitdate"]].astype(str).str.strip()
        return np.where(v != "", 1.0, 0.0)
    if fmt == "google-forms":
        return np.ones(n)  # Google Forms only stores submitted answers
    return np.full(n, np.nan)


def _split_multi(var: Variable, cols, sub: pd.DataFrame, mapper: _Mapper) -> dict[str, np.ndarray]:
    """Split multi-select columns (one per option): selected = any non-empty answer other than
    0 / N / No / False; a row with no option selected and every cell empty is "no answer"."""
    n = len(sub)
    res: dict[str, np.ndarray] = {}
    any_answer = np.zeros(n, dtype=bool)
    for _key, pos, cm in cols:
        codes, uniques = pd.factorize(sub[pos].astype(str), sort=False)
        u_empty = np.array([u.strip() == "" or mapper.is_missing(u) for u in uniques], dtype=bool)
        u_unsel = np.array([match_key(u) in _UNSELECTED for u in uniques], dtype=bool)
        empty = u_empty[codes] if len(codes) else np.zeros(0, dtype=bool)
        unselected = u_unsel[codes] if len(codes) else np.zeros(0, dtype=bool)
        res[f"{var.name}__{cm.option}"] = np.where(unselected | empty, 0.0, 1.0)
        any_answer |= ~empty
    for o in var.options:
        k = f"{var.name}__{o}"
        if k not in res:
            res[k] = np.full(n, np.nan)  # option not asked in this source
        else:
            res[k] = np.where(any_answer, res[k], np.nan)
    return res


def _assemble(out: dict[str, list[np.ndarray]], codebook: Codebook, src: Source,
              file: str, wave: str) -> pd.DataFrame:  # fmt: skip
    def cat(key: str) -> np.ndarray:
        parts = out.get(key)
        return np.concatenate(parts) if parts else np.empty(0, dtype=object)

    rows = cat(Responses.SOURCE_ROW).astype("int64")
    n = len(rows)

    def categorical(values: Any, categories: Any = None) -> pd.Categorical:
        # the text of each distinct value (None -> NaN), then codes into the categories:
        # the same as pd.Categorical(<every value as "str">, categories), per distinct value
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        strings = pd.Series(np.asarray(uniques, dtype=object)).astype("str")
        if categories is None:
            categories = pd.Index(sorted(strings.dropna().unique()), dtype="str")
        dtype = pd.CategoricalDtype(categories)
        pos = dtype.categories.get_indexer(strings)
        pos = np.append(pos, -1)  # code -1 (missing) stays missing
        return pd.Categorical.from_codes(pos[codes] if len(codes) else codes, dtype=dtype)

    def constant(value: str) -> pd.Categorical:
        return pd.Categorical.from_codes(
            np.zeros(n, dtype=np.int8), dtype=pd.CategoricalDtype([value])
        )

    data: dict[str, Any] = {
        Responses.RESPONDENT_ID: pd.array(cat(Responses.RESPONDENT_ID), dtype="str"),
        Responses.SOURCE_ID: constant(src.id),
        Responses.SOURCE_FILE: constant(file),
        Responses.SOURCE_ROW: rows,
        Responses.WAVE: constant(wave),
    }
    for vname, var in codebook.variables.items():
        if var.type == "multi-select":
            for c in var.columns():
                data[c] = cat(c).astype(float) if c in out else np.full(n, np.nan)
            continue
        present = vname in out
        arr = cat(vname) if present else np.full(n, None, dtype=object)
        if var.type in ("likert", "binary", "numeric"):
            data[vname] = arr.astype(float) if present else np.full(n, np.nan)
        elif var.type in ("school", "categorical"):
            data[vname] = categorical(arr, list(var.categories) if var.categories else None)
        elif var.type == "date":
            data[vname] = pd.to_datetime(pd.Series(arr, dtype=object), errors="coerce")
        else:
            data[vname] = pd.array(arr, dtype="str")
    for auto in AUTO_VARIABLES:
        if auto not in codebook.variables:
            data[auto] = cat(auto).astype(float) if auto in out else np.full(n, np.nan)
    df = pd.DataFrame(data)
    if Responses.SCHOOL not in df.columns:
        df[Responses.SCHOOL] = categorical([None] * n)
    return df
