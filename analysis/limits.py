"""Limits on hostile input files, checked when a reader opens a file, before it is parsed.

An XLSX is a zip: 5 MB on disk can declare 1.5 GB of sheet XML, which openpyxl would inflate
and parse for many minutes. A text file can hold one line of gigabytes, or a header of a
million columns. :func:`check_input_file` refuses such files at once, with a one-line error
naming the file and the limit:

- XLSX: the zip's *declared* uncompressed size (zipfile yields no more than it declares), the
  cells the sheets declare (``<dimension ref=...>``) and the cells they hold (``<c`` elements,
  counted while inflating, stopping at the limit), the columns a sheet declares;
- CSV / text: the longest line (bytes) and the fields of the header line.

The limits are far above any real export (a Qualtrics export with a thousand questions and
long comments, the Erasmus+ release of every IMT school) and can be raised per run with the
environment variables named in :data:`ENV` (a number of bytes, cells, columns).
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from pathlib import Path

import numpy as np

DEFAULTS = {
    "xlsx_uncompressed_bytes": 512 << 20,
    "xlsx_cells": 20_000_000,
    "columns": 5_000,
    "line_bytes": 4 << 20,
}
ENV = {name: f"MOBILITY_STUDY_MAX_{name.upper()}" for name in DEFAULTS}
_CHUNK = 1 << 20
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


class LimitError(ValueError):
    """An input file over one of the limits (a zip bomb, a giant line or header)."""


def limit(name: str) -> int:
    raw = os.environ.get(ENV[name])
    if raw is None or not raw.strip():
        return DEFAULTS[name]
    try:
        value = int(raw)
    except ValueError:
        raise LimitError(f"{ENV[name]}={raw!r}: not a whole number") from None
    if value <= 0:
        raise LimitError(f"{ENV[name]}={raw!r}: must be positive")
    return value


def _too_big(path: Path, what: str, name: str) -> LimitError:
    unit = {"xlsx_uncompressed_bytes": "bytes", "xlsx_cells": "cells", "columns": "columns"}
    return LimitError(
        f"{path}: {what} (limit {limit(name):,} {unit.get(name, 'bytes')}; raise it with "
        f"{ENV[name]} if the file is genuine)"
    )


def check_input_file(path: Path) -> None:
    """Raise :class:`LimitError` if ``path`` is over a limit (see the module docstring)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        check_xlsx(path)
    elif head[:4] in (b"$FL2", b"$FL3"):  # SPSS .sav: binary records, no lines
        return
    else:
        check_text(path)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def check_xlsx(path: Path) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a readable zip: the reader says what is wrong with it
    with zf:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > limit("xlsx_uncompressed_bytes"):
            raise _too_big(
                path, f"the workbook inflates to {declared:,} bytes", "xlsx_uncompressed_bytes"
            )
        sheets = [i for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename)]
        max_cells, max_cols = limit("xlsx_cells"), limit("columns")
        cells = 0
        for info in sheets:
            with zf.open(info) as fh:
                tail = b""
                first = True
                while block := fh.read(_CHUNK):
                    data = tail + block
                    if first:
                        first = False
                        m = _DIMENSION.search(data[:4096])
                        if m and m.group(3):
                            cols = _col_number(m.group(3)) - _col_number(m.group(1)) + 1
                            rows = int(m.group(4)) - int(m.group(2)) + 1
                            if cols > max_cols:
                                raise _too_big(
                                    path, f"sheet {info.filename} declares {cols:,} columns",
                                    "columns",
                                )  # fmt: skip
                            if cols * rows > max_cells:
                                raise _too_big(
                                    path, f"sheet {info.filename} declares {cols * rows:,} cells",
                                    "xlsx_cells",
                                )  # fmt: skip
                    # a cell element is "<c " or "<c>" (maybe prefixed): count, not parse
                    cells += data.count(b"<c ") + data.count(b"<c>")
                    cells -= tail.count(b"<c ") + tail.count(b"<c>")
                    if cells > max_cells:
                        raise _too_big(path, f"the sheets hold over {cells:,} cells", "xlsx_cells")
                    tail = data[-2:]


def check_text(path: Path) -> None:
    """Longest line and header fields of a text file (any delimiter among , ; tab |)."""
    max_line, max_cols = limit("line_bytes"), limit("columns")
    run = 0  # bytes of the line still open at the end of the previous block
    lines = 0  # newlines before the current block
    header = b""
    header_done = False
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            if not header_done:
                header += block[: ends[0]] if len(ends) else block
                header_done = bool(len(ends))
            if len(ends):
                lengths = np.diff(ends, prepend=-1 - run) - 1  # every line ending in this block
                i = int(lengths.argmax())
                if lengths[i] > max_line:
                    raise _long_line(path, lines + i + 1)
                lines += len(ends)
                run = len(block) - int(ends[-1]) - 1
            else:
                run += len(block)
            if run > max_line:
                raise _long_line(path, lines + 1)
    text = header.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        fields = max(len(next(csv.reader([text], delimiter=d), [])) for d in ",;\t|")
    except csv.Error:  # not text the csv module can split: the reader reports it
        return
    if fields > max_cols:
        raise _too_big(path, f"the header line has {fields:,} fields", "columns")


def _long_line(path: Path, lineno: int) -> LimitError:
    return _too_big(path, f"line {lineno:,} is too long", "line_bytes")
