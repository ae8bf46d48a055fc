"""Open an export file and recognise its layout from the content (never the file name).

:func:`open_table` returns a :class:`RawTable`: the container (csv / xlsx / sav), encoding,
delimiter, the detected :class:`Layout` (platform format, variant, header rows, column ids)
and an iterator over the data rows in chunks of strings (``dtype=str``, nothing parsed), so a
large CSV is never held in memory at once.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.ingest.errors import InputError
from analysis.ingest.text import fold_key
from analysis.limits import check_input_file
from analysis.numbers import COMMA, POINT, decimal_convention

SNIFF_BYTES = 256 * 1024
CHUNK_ROWS = 100_000
ARROW_BLOCK_BYTES = 8 << 20  # bytes Arrow's CSV reader parses at a time

FORMATS = (
    "qualtrics",
    "limesurvey",
    "google-forms",
    "surveymonkey",
    "spss",
    "erasmus-ka1",
    "school-mobility",
    "csv",
    "xlsx",
)

# ----------------------------------------------------------------------------- layout signatures
_LIME_CODE = ("id", "submitdate", "lastpage", "startlanguage")
_LIME_FULL = ("response id", "date submitted", "last page", "start language")
_LIME_FULL_FR = ("id de la reponse", "date de soumission", "derniere page", "langue de depart")
_GOOGLE_TIMESTAMP = {
    "timestamp",
    "horodateur",
    "marca temporal",
    "zeitstempel",
    "stempel waktu",
    "tijdstempel",
    "informazioni cronologiche",
    "carimbo de data hora",
}
_MONKEY = ("respondent id", "collector id", "start date", "end date")
_ERASMUS = ("project reference", "academic year", "participants")
_SCHOOL_YEAR = {
    "annee universitaire",
    "annee academique",
    "academic year",
    "annee",
    "year",
    "school year",
    "annee scolaire",
}
_SCHOOL_DEST = {
    "destination",
    "pays",
    "pays de destination",
    "country",
    "destination country",
    "host country",
    "etablissement d accueil",
    "host institution",
    "universite d accueil",
    "partner",
    "partenaire",
}
_SCHOOL_TYPE = {
    "type de mobilite",
    "mobility type",
    "type of mobility",
    "type",
    "nature de la mobilite",
    "activity",
    "activite",
}


@dataclass(frozen=True)
class Layout:
    """How an export is laid out: which platform wrote it and where the data start."""

    format: str
    variant: str | None
    header_rows: int
    columns: tuple[str, ...]  # stable column ids (unique), one per field
    labels: tuple[str, ...] = ()  # human-readable header (Qualtrics row 2, ...)
    import_ids: tuple[str, ...] = ()  # Qualtrics ImportId per column ("" when none)


@dataclass
class RawTable:
    """An opened export: call :meth:`chunks` to stream its data rows as strings."""

    path: Path
    container: str  # "csv" | "xlsx" | "sav"
    encoding: str | None
    delimiter: str | None
    layout: Layout
    decimal_mark: str | None = None  # analysis.numbers.COMMA / POINT / None (unknown)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # SPSS code -> label
    user_missing: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # SPSS
    sheets: dict[str, int] = field(default_factory=dict)  # workbook sheets read: data rows
    _records: list[list[str]] | None = None  # xlsx / sav / mixed-encoding data rows
    _text: str | None = None  # mixed-encoding files: the decoded text
    short_tail: int | None = None  # fields in a last line cut short (file truncated mid-row)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def decimal_comma(self) -> bool:
        return self.decimal_mark == COMMA

    def chunks(
        self, size: int = CHUNK_ROWS, usecols: list[int] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Data rows in chunks: columns are field positions (0..n-1, or the ``usecols`` subset,
        so a reader parses only the fields it needs), cells ``str`` or NaN for fields missing
        from a short row; the index is the 1-based data-row number.

        Plain UTF-8 CSV files are parsed by pyarrow (several times faster); whatever it would
        read differently from pandas' parser (see :meth:`_arrow_chunks`) is read by pandas,
        which also words the errors (row numbers, truncated quoted cells)."""
        if self._records is not None:
            n = len(self.layout.columns)
            for start in range(0, len(self._records), size):
                block = self._records[start : start + size]
                df = pd.DataFrame(
                    [r + [None] * (n - len(r)) if len(r) < n else r for r in block],
                    columns=range(n),
                    dtype=object,
                )
                if usecols is not None:
                    df = df[sorted(usecols)]
                df.index = pd.RangeIndex(start + 1, start + 1 + len(block))
                yield df
            return
        done = 0
        try:
            for df in self._arrow_chunks(size, usecols):
                yield df
                done += len(df)
            return
        except _NotForArrow:
            pass
        # pandas' parser from the start (it raises the precise errors: row numbers, truncated
        # quoted cells); rows already delivered by the Arrow reader are skipped, not repeated
        for df in self._csv_chunks(size, usecols):
            if done and (not len(df) or df.index[-1] <= done):
                continue
            yield df.loc[done + 1 :] if done and df.index[0] <= done else df

    def _arrow_chunks(self, size: int, usecols: list[int] | None) -> Iterator[pd.DataFrame]:
        """The fast path: pyarrow's CSV reader streaming the data rows, as strings, with the
        pandas reader's results (tested: same cells, row numbers and chunks).  Raises
        :class:`_NotForArrow` (possibly after some chunks) whenever the file is not one it
        reads exactly like pandas: not plain UTF-8, a short last line, a row with a wrong
        number of fields, an unusual header, or a last line that may end inside an unclosed
        quoted cell; the caller then goes on with pandas."""
        n = len(self.layout.columns)
        if (
            self._text is not None
            or self.encoding not in ("utf-8", "utf-8-sig")
            or self.short_tail is not None
            or n < 2
            or len(self.delimiter or ",") != 1
        ):
            raise _NotForArrow
        import pyarrow as pa

        delim = self.delimiter or ","
        offset = _data_offset(self.path, self.encoding, delim, self.layout.header_rows)
        cols = sorted(usecols) if usecols is not None else list(range(n))
        try:
            stream = pa.memory_map(str(self.path))
        except (pa.ArrowException, OSError):
            raise _NotForArrow from None
        with stream:
            yield from self._arrow_frames(stream, offset, size, cols, delim)

    def _arrow_frames(
        self, stream, offset: int, size: int, cols: list[int], delim: str
    ) -> Iterator[pd.DataFrame]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        n = len(self.layout.columns)
        read = sorted(set(cols) | {n - 1})  # the last field: to check the end of the file
        names = [str(i) for i in range(n)]
        try:
            stream.seek(offset)
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=names, use_threads=False, block_size=ARROW_BLOCK_BYTES
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delim,
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=True,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in names},
                    include_columns=[names[i] for i in read],
                    null_values=[],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowException, OSError):
            raise _NotForArrow from None
        dtype = pd.StringDtype(storage="pyarrow", na_value=float("nan"))
        start = 1
        held: list[pa.RecordBatch] = []
        held_rows = 0
        last: str | None = None

        def frame(batches: list[pa.RecordBatch], rows: int) -> pd.DataFrame:
            table = pa.Table.from_batches(batches).slice(0, rows)
            df = pd.DataFrame(
                {i: pd.array(table.column(names[i]), dtype=dtype) for i in cols},
                columns=cols,
            )
            df.index = pd.RangeIndex(start, start + rows)
            return df

        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, OSError):
                raise _NotForArrow from None
            if not batch.num_rows:
                continue
            last = batch.column(names[n - 1])[-1].as_py()
            held.append(batch)
            held_rows += batch.num_rows
            while held_rows > size:  # keep >= 1 row back: the last row is checked at the end
                table = pa.Table.from_batches(held)
                yield frame(held, size)
                start += size
                rest = table.slice(size)
                held = rest.to_batches()
                held_rows -= size
        if held_rows:
            if not _ends_closed(self.path, last or "", delim):
                raise _NotForArrow
            yield frame(held, held_rows)

    def _csv_chunks(self, size: int, usecols: list[int] | None) -> Iterator[pd.DataFrame]:
        n = len(self.layout.columns)
        if self._text is not None:
            handle: io.TextIOBase = io.StringIO(self._text, newline="")
        else:
            handle = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115
        with handle:
            reader = csv.reader(handle, delimiter=self.delimiter or ",")
            for _ in range(self.layout.header_rows):
                next(reader, None)
            line_after_header = reader.line_num
            try:
                it = pd.read_csv(
                    handle,
                    sep=self.delimiter or ",",
                    header=None,
                    names=range(n),
                    usecols=sorted(usecols) if usecols is not None else None,
                    dtype=str,
                    keep_default_na=False,
                    na_filter=True,
                    na_values=[],
                    skip_blank_lines=True,
                    chunksize=size,
                    engine="c",
                    quotechar='"',
                    doublequote=True,
                )
                start = 1
                pending = None
                for df in it:
                    df.index = pd.RangeIndex(start, start + len(df))
                    start += len(df)
                    if pending is not None:
                        yield pending
                    pending = df
                if pending is not None:
                    if self.short_tail is not None and len(pending):
                        # pandas pads a short row with "": mark the missing fields as NaN,
                        # and the last one present, which may itself be cut mid-value
                        pending = pending.astype(object)
                        cut = [c for c in pending.columns if c >= self.short_tail - 1]
                        pending.loc[pending.index[-1], cut] = None
                    yield pending
            except pd.errors.ParserError as exc:
                raise InputError(_parser_message(self.name, str(exc), line_after_header)) from None
            except pd.errors.EmptyDataError:
                return
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{self.name}: not valid {self.encoding} text (byte {exc.start} of a block)"
                ) from None

    def count_rows(self) -> int:
        return sum(len(c) for c in self.chunks())


class _NotForArrow(Exception):
    """A CSV file (or part) the Arrow fast path leaves to pandas."""


def _data_offset(path: Path, encoding: str, delimiter: str, header_rows: int) -> int:
    """Byte offset of the first data row: the header records read with :mod:`csv` over the
    file's ``\n``-terminated lines (the csv reader reads no further than a record's end)."""
    consumed = 0
    with open(path, "rb") as fh:

        def lines() -> Iterator[str]:
            nonlocal consumed
            first = True
            while True:
                raw = fh.readline()
                if not raw:
                    return
                if b"\r" in raw.rstrip(b"\r\n") or raw.endswith(b"\r"):
                    raise _NotForArrow  # a lone CR line break: leave it to pandas
                consumed += len(raw)
                yield raw.decode("utf-8-sig" if first else "utf-8")
                first = False

        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            for _ in range(header_rows):
                next(reader, None)
        except (csv.Error, UnicodeDecodeError):
            raise _NotForArrow from None
    return consumed


def _ends_closed(path: Path, last: str, delimiter: str) -> bool:
    """Whether the file's last field, read by Arrow as ``last``, is closed: written unquoted
    (preceded by the delimiter, no quote, no line break) or quoted with its closing quote.
    Arrow reads a file that ends inside an open quoted cell as if it were closed; pandas
    reports it, so such a file (or any doubt) goes to pandas."""
    value = last.encode("utf-8")
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        want = 2 * len(value) + 8
        fh.seek(max(0, size - want - 64))
        tail = fh.read().rstrip(b"\r\n")
    d = delimiter.encode()
    if b'"' not in value and b"\n" not in value and b"\r" not in value:
        if tail.endswith(d + value) and not value.startswith(b'"'):
            return True
    quoted = b'"' + value.replace(b'"', b'""') + b'"'
    return tail.endswith(d + quoted)


def _parser_message(name: str, msg: str, header_lines: int) -> str:
    if "EOF inside string" in msg:
        m = re.search(r"starting at row (\d+)", msg)
        where = f" (quoted cell opened in data row {int(m.group(1)) + 1})" if m else ""
        return f"{name}: file truncated inside a quoted cell{where}"
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        line = int(m.group(2)) + header_lines
        return (
            f"{name}: line {line} has {m.group(3)} fields, the header has {m.group(1)} "
            "(unquoted delimiter in a cell?)"
        )
    return f"{name}: cannot parse as CSV: {msg.strip().splitlines()[0]}"


# ----------------------------------------------------------------------------- opening files
def open_table(path: Path) -> RawTable:
    """Open ``path`` (CSV, XLSX or SPSS .sav), detecting container, encoding, delimiter and layout.

    Raises :class:`InputError` (one line naming the file) for an unreadable file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except IsADirectoryError:
        raise InputError(f"{path.name}: is a directory, not an export file") from None
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(f"{path.name}: empty file")
    check_input_file(path)  # a zip bomb, a giant line or header: refused before parsing
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    if head[:4] in (b"$FL2", b"$FL3"):
        return _open_sav(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path.name}: legacy Excel .xls workbook; save it as .xlsx or CSV")
    if b"\x00" in head[:8192] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path.name}: binary file, not a CSV, XLSX or SPSS .sav export")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path.name}: UTF-16 text; export as UTF-8 CSV")
    return _open_csv(path, head)


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _detect_encoding(path: Path) -> tuple[str, str | None]:
    """``(encoding, mixed_text)``: utf-8-sig / utf-8 / cp1252, or "mixed" with the text decoded
    line by line (UTF-8 where valid, cp1252 elsewhere)."""
    with open(path, "rb") as fh:
        first = fh.read(3)
        bom = first == b"\xef\xbb\xbf"
        fh.seek(0)
        import codecs

        dec = codecs.getincrementaldecoder("utf-8")()
        ok = True
        while True:
            block = fh.read(1 << 20)
            if not block:
                try:
                    dec.decode(b"", final=True)
                except UnicodeDecodeError:
                    ok = False
                break
            try:
                dec.decode(block)
            except UnicodeDecodeError:
                ok = False
                break
    if ok:
        return ("utf-8-sig" if bom else "utf-8"), None
    data = path.read_bytes()
    if bom:
        data = data[3:]
    if not _UTF8_MULTIBYTE.search(data):
        try:
            data.decode("cp1252")
            return "cp1252", None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path.name}: neither UTF-8 nor cp1252 text (byte 0x{data[exc.start]:02x} "
                f"at offset {exc.start})"
            ) from None
    lines = []
    for raw in data.splitlines(keepends=True):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", errors="replace"))
    return "mixed", "".join(lines)


def _sniff_delimiter(sample: str) -> str:
    best, best_n = ",", 0
    for d in (",", ";", "\t"):
        try:
            rows = list(_records(sample, d, 5))
        except csv.Error:
            continue
        if not rows:
            continue
        n = len(rows[0])
        if n > best_n:
            best, best_n = d, n
    return best


def _records(text: str, delimiter: str, limit: int) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for i, row in enumerate(reader):
        if i >= limit:
            return
        yield row


def _open_csv(path: Path, head: bytes) -> RawTable:
    encoding, mixed_text = _detect_encoding(path)
    if mixed_text is not None:
        sample = mixed_text[:SNIFF_BYTES]
    else:
        sample = head.decode(encoding, errors="replace")
        if encoding == "utf-8-sig" and sample.startswith("\ufeff"):
            sample = sample[1:]
    complete = len(head) < SNIFF_BYTES
    if complete and sample.count('"') % 2 == 1:
        # an odd number of quotes in a whole file: a quoted cell never closes
        pass  # reported precisely by the parser below
    delimiter = _sniff_delimiter(sample)
    try:
        records = [r for r in _records(sample, delimiter, 40) if any(c.strip() for c in r)]
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(f"{path.name}: file truncated inside a quoted cell") from None
        raise InputError(f"{path.name}: cannot parse as CSV: {exc}") from None
    if not complete and records:
        records = records[:-1]  # the last sniffed record may be cut by the sample boundary
    if not records:
        raise InputError(f"{path.name}: no header row")
    if records:
        records[0] = [c.lstrip("\ufeff") if i == 0 else c for i, c in enumerate(records[0])]
    layout = detect_layout(records, "csv", path.name)
    data = [r for r in records[layout.header_rows :]]
    # Some exports (Qualtrics, legacy) end data lines with an extra comma the header lacks.
    width = max([len(layout.columns)] + [len(r) for r in data])
    extra_empty = all(not c.strip() for r in data for c in r[len(layout.columns) :])
    if width > len(layout.columns) and extra_empty:
        extra = tuple(f"_extra{i}" for i in range(len(layout.columns) + 1, width + 1))
        layout = Layout(
            layout.format,
            layout.variant,
            layout.header_rows,
            layout.columns + extra,
            layout.labels + ("",) * len(extra) if layout.labels else (),
            layout.import_ids + ("",) * len(extra) if layout.import_ids else (),
        )
    if mixed_text is not None and mixed_text.startswith("\ufeff"):
        mixed_text = mixed_text[1:]
    short_tail = _short_tail(path, encoding if mixed_text is None else "cp1252", delimiter,
                             len(layout.columns))  # fmt: skip
    return RawTable(
        path=path,
        container="csv",
        encoding=encoding,
        delimiter=delimiter,
        layout=layout,
        decimal_mark=decimal_convention(
            _sample_cells(sample, delimiter, layout.header_rows), delimiter
        ),
        _text=mixed_text,
        short_tail=short_tail,
    )


def _sample_cells(sample: str, delimiter: str, skip: int) -> Iterator[str]:
    """Data cells of the sniffed sample (the decimal-mark evidence; a record cut by the sample
    boundary or a csv error ends it)."""
    try:
        for i, row in enumerate(_records(sample, delimiter, 5000)):
            if i >= skip:
                yield from row
    except csv.Error:
        return


def _short_tail(path: Path, encoding: str, delimiter: str, width: int) -> int | None:
    """Field count of the last line when the file ends mid-row (no final newline and fewer
    fields than the header); ``None`` otherwise.  Platforms always end files with a newline."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if tail.endswith((b"\n", b"\r")):
        return None
    last = tail.rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
    try:
        fields = next(csv.reader([last], delimiter=delimiter), [])
    except csv.Error:
        return None
    return len(fields) if 0 < len(fields) < width else None


def _cell_text(v: object) -> str:
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def _open_xlsx(path: Path) -> RawTable:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                raise InputError(f"{path.name}: a zip archive, not an XLSX workbook")
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name}: damaged XLSX workbook ({exc})") from None
    # a file handle, not the path: openpyxl refuses names without an Excel extension, and the
    # content, not the name, says what a file is
    with path.open("rb") as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise InputError(f"{path.name}: damaged XLSX workbook ({exc})") from None
        try:
            sheets = [
                (ws.title, [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)])
                for ws in wb.worksheets
            ]
        except Exception as exc:  # openpyxl raises many types on corrupt XML
            raise InputError(f"{path.name}: damaged XLSX workbook ({type(exc).__name__})") from None
        finally:
            wb.close()
    erasmus = _erasmus_sheets(sheets)
    if erasmus:
        return _erasmus_workbook(path, erasmus)
    rows = _trimmed(sheets[0][1] if sheets else [])
    if not rows:
        raise InputError(f"{path.name}: empty workbook (first sheet has no cells)")
    layout = detect_layout(rows[:40], "xlsx", path.name)
    data = rows[layout.header_rows :]
    return RawTable(
        path=path,
        container="xlsx",
        encoding=None,
        delimiter=None,
        layout=layout,
        # numbers typed in the workbook are written with a point by _cell_text
        decimal_mark=decimal_convention((c for r in data[:5000] for c in r), None, POINT),
        _records=data,
    )


def _trimmed(rows: list[list[str]]) -> list[list[str]]:
    """Non-blank rows, padded to one width, without trailing columns empty everywhere
    (openpyxl reports the sheet's max column)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return rows
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    while width > 1 and all(not r[width - 1] for r in rows):
        width -= 1
    return [r[:width] for r in rows]


def _erasmus_sheets(sheets: list[tuple[str, list[list[str]]]]) -> list[tuple[str, int, list]]:
    """``(title, header row index, rows)`` of every sheet whose header (one of its first 5
    non-blank rows) is an Erasmus+ KA1 header: the yearly workbooks hold two programmes in two
    sheets from 2021 (input-formats §2.1, release B)."""
    from analysis.mobility.readers import detect_mobility_layout

    found = []
    for title, rows in sheets:
        rows = _trimmed(rows)
        for i, r in enumerate(rows[:5]):
            if detect_mobility_layout(r) is not None:
                found.append((title, i, rows))
                break
    return found


def _erasmus_workbook(path: Path, sheets: list[tuple[str, int, list]]) -> RawTable:
    """An Erasmus+ KA1 workbook: the data rows of every Erasmus sheet, under the first sheet's
    header (inspect counts them; the mobility reader maps each sheet's own header)."""
    _title0, h0, rows0 = sheets[0]
    columns = _unique([c.strip() for c in rows0[h0]])
    data: list[list[str]] = []
    counts: dict[str, int] = {}
    for title, h, rows in sheets:
        # a later sheet's columns placed under the first sheet's header by name (the
        # programmes' sheets may order or name them differently; unknown ones are left out)
        names = _unique([c.strip() for c in rows[h]])
        where = [columns.index(n) if n in columns else None for n in names]
        body = rows[h + 1 :]
        counts[title] = len(body)
        for r in body:
            out = [""] * len(columns)
            for cell, i in zip(r, where, strict=False):
                if i is not None:
                    out[i] = cell
            data.append(out)
    layout = Layout("erasmus-ka1", "xlsx", h0 + 1, columns)
    return RawTable(
        path=path,
        container="xlsx",
        encoding=None,
        delimiter=None,
        layout=layout,
        decimal_mark=POINT,
        sheets=counts,
        _records=data,
    )


def _open_sav(path: Path) -> RawTable:
    import pyreadstat

    try:
        df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise InputError(f"{path.name}: damaged SPSS .sav file ({exc})") from None
    value_labels = {
        col: {_cell_text(k): str(v) for k, v in labels.items()}
        for col, labels in (meta.variable_value_labels or {}).items()
    }
    user_missing: dict[str, list[tuple[float, float]]] = {}
    for col, ranges in (meta.missing_ranges or {}).items():
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                user_missing.setdefault(col, []).append((float(lo), float(hi)))
    columns = tuple(meta.column_names)
    labels = tuple((meta.column_names_to_labels or {}).get(c) or "" for c in columns)
    records = [[_cell_text(v) for v in row] for row in df.itertuples(index=False, name=None)]
    if _qualtrics_sav(columns):
        # a Qualtrics survey downloaded as SPSS: the Qualtrics metadata (Status, Finished...)
        # are there, so the Qualtrics filters apply as to a CSV export
        layout = Layout("qualtrics", "spss", 0, columns, labels)
    else:
        layout = Layout("spss", "value-labels" if value_labels else None, 0, columns, labels)
    return RawTable(
        path=path,
        container="sav",
        encoding=meta.file_encoding,
        delimiter=None,
        layout=layout,
        value_labels=value_labels,
        user_missing=user_missing,
        decimal_mark=POINT,  # every number is typed: written by _cell_text with a point
        _records=records,
    )


_QUALTRICS_SAV = ("status", "finished", "responseid")


def _qualtrics_sav(columns: tuple[str, ...]) -> bool:
    """An SPSS file written by Qualtrics' "Download data table > SPSS": its variables keep the
    Qualtrics metadata names (``Status``, ``Finished``, ``ResponseId``, ``StartDate``...)."""
    folded = {fold_key(c) for c in columns}
    return all(k in folded for k in _QUALTRICS_SAV) and bool(
        folded & {"startdate", "recordeddate", "duration in seconds"}
    )


# ----------------------------------------------------------------------------- layout detection
def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n.strip() or f"_col{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return tuple(out)


def _import_id(cell: str) -> str | None:
    s = cell.strip()
    if not s.startswith("{"):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        try:
            obj = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            return None
    if isinstance(obj, dict) and "ImportId" in obj:
        iid = str(obj["ImportId"])
        return f"{iid}#{obj['choiceId']}" if "choiceId" in obj else iid
    return None


def _starts(row: list[str], keys: tuple[str, ...], anywhere: bool = False) -> bool:
    got = [fold_key(c) for c in (row if anywhere else row[: len(keys) + 2])]
    return all(k in got for k in keys)


def detect_layout(records: list[list[str]], container: str, name: str) -> Layout:
    """Recognise the platform layout from the first records (header + a few data rows)."""
    row0 = records[0]
    first = [c.strip() for c in row0]
    # --- Qualtrics
    if first[:3] == ["V1", "V2", "V3"]:
        if len(records) < 2:
            raise InputError(f"{name}: Qualtrics legacy export truncated in its 2 header rows")
        row1 = records[1] + [""] * (len(row0) - len(records[1]))
        ids = [row1[i] if re.fullmatch(r"V\d+", c) else c for i, c in enumerate(first)]
        return Layout("qualtrics", "legacy", 2, _unique(ids), tuple(row1[: len(row0)]))
    if len(records) >= 3:
        cells = [c.strip() for c in records[2] if c.strip()]
        if cells and cells[0].startswith(('{"ImportId"', "{'ImportId'")):
            variant = "insights" if cells[0].startswith("{'") else None
            iids = tuple((_import_id(c) or "") for c in records[2][: len(row0)])
            if variant is None:
                variant = _qualtrics_values_variant(records[3:], first)
            labels = tuple(records[1][: len(row0)])
            return Layout("qualtrics", variant, 3, _unique(first), labels, iids)
    if "ResponseId" in first and "StartDate" in first and len(records) < 3:
        raise InputError(f"{name}: Qualtrics export truncated in its 3 header rows")
    # --- LimeSurvey
    if _starts(row0, _LIME_CODE):
        return Layout("limesurvey", "code-headings", 1, _unique(first))
    if _starts(row0, _LIME_FULL) or _starts(row0, _LIME_FULL_FR):
        return Layout("limesurvey", "full-headings", 1, _unique(first))
    # --- Google Forms
    if fold_key(first[0]) in _GOOGLE_TIMESTAMP:
        return Layout("google-forms", None, 1, _unique(first))
    # --- SurveyMonkey (2 header rows; blank cells continue a multi-column question)
    if _starts(row0, _MONKEY):
        if len(records) < 2:
            raise InputError(f"{name}: SurveyMonkey export truncated in its 2 header rows")
        row1 = records[1] + [""] * (len(row0) - len(records[1]))
        ids, question = [], ""
        for c, sub in zip(first, row1, strict=False):
            question = c or question
            sub = sub.strip()
            if not c or (sub and sub not in ("Response", "Open-Ended Response", question)):
                ids.append(f"{question} [{sub}]" if sub else question)
            else:
                ids.append(question)
        return Layout("surveymonkey", None, 2, _unique(ids), tuple(row1[: len(row0)]))
    # --- mobility layouts
    if _starts(row0, _ERASMUS, anywhere=True):
        return Layout("erasmus-ka1", None, 1, _unique(first))
    for i, row in enumerate(records[:10]):
        keys = {fold_key(c) for c in row}
        if keys & _SCHOOL_YEAR and (keys & _SCHOOL_DEST or keys & _SCHOOL_TYPE):
            return Layout("school-mobility", None, i + 1, _unique([c.strip() for c in row]))
    return Layout(container, None, 1, _unique(first))


_CHOICE_TEXT_STATUS = {"ip address", "survey preview", "spam", "survey test", "imported", "offline"}


def _qualtrics_values_variant(data: list[list[str]], header: list[str]) -> str:
    idx = {c: i for i, c in enumerate(header)}
    for row in data:
        for col in ("Finished", "Status"):
            i = idx.get(col)
            if i is None or i >= len(row):
                continue
            v = row[i].strip().casefold()
            if v in ("true", "false") or v in _CHOICE_TEXT_STATUS:
                return "choice-text"
            if v.isdigit():
                return "numeric-values"
    return "numeric-values"
