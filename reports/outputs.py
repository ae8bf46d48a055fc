"""Files written beside the HTML report: results.json, one CSV per table, one XLSX workbook
and an A4 PDF printed by headless Chromium.

Tables are exported from the (already disclosure-controlled) ResultSet: a suppressed cell
has empty numbers and its reason in ``suppressed``. Text cells that a spreadsheet would run
as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are
neutralised with a leading apostrophe, in the CSVs and in the workbook.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

from analysis.results import ResultSet, ResultTable

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESTIMATE_FIELDS = (
    "key",
    "table",
    "statistic",
    "variable",
    "level",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "ci_level",
    "n_unweighted",
    "df",
    "deff",
    "p_value",
    "p_adjusted",
    "weighted",
    "base",
    "suppressed",
)
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def table_columns(t: ResultTable) -> list[str]:
    """Dimension columns (in the table's order) then the estimate fields."""
    dims = list(t.dims)
    for e in t.estimates:
        for d, _ in e.domain:
            if d not in dims:
                dims.append(d)
    return dims + [f for f in ESTIMATE_FIELDS if f not in dims]


def table_rows(t: ResultTable) -> list[dict[str, Any]]:
    """One row per estimate (aggregates only: a ResultSet holds no respondent rows)."""
    cols = table_columns(t)
    rows = []
    for e in t.estimates:
        dd = e.domain_dict()
        row = {c: dd.get(c) for c in cols if c not in ESTIMATE_FIELDS}
        for f in ESTIMATE_FIELDS:
            row[f] = _clean(getattr(e, f))
        rows.append(row)
    return rows


def table_csv(t: ResultTable) -> str:
    buf = io.StringIO()
    cols = table_columns(t)
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for row in table_rows(t):
        w.writerow({k: neutralise("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def _sheet_name(table_id: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in table_id)[:31]
    name, i = base, 2
    while name in used:
        suffix = f"~{i}"
        name, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(name)
    return name


def write_workbook(results: ResultSet, path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    index = wb.active
    index.title = "contents"
    index.append(["sheet", "table", "section", "rows"])
    used = {"contents"}
    for t in results.tables:
        name = _sheet_name(t.id, used)
        ws = wb.create_sheet(name)
        cols = table_columns(t)
        ws.append(cols)
        for row in table_rows(t):
            ws.append([neutralise(row[c]) for c in cols])
        index.append([name, neutralise(t.id), neutralise(t.section), len(t.estimates)])
    wb.save(path)
    return path


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def print_pdf(
    html_path: Path, pdf_path: Path, timeout: float = 180.0, scratch: Path | None = None
) -> Path | None:
    """Print ``html_path`` to an A4 PDF (the report's ``@page`` rule) with headless Chromium.

    Returns ``None`` with a warning when no Chromium is installed or printing fails: the PDF
    is a convenience copy and never stops a run.
    """
    exe = find_chromium()
    if exe is None:
        msg = "no chromium found on PATH: the PDF copy of the report is skipped (apt-get install -y chromium)"
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        log.warning(msg)
        return None
    if scratch is not None:  # the run's own scratch folder: cleaned even if the run is killed
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mobility-study-chromium-", dir=scratch) as profile:
        cmd = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            res = None
            err = str(exc)
        else:
            err = res.stderr[-2000:]
    if res is None or res.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        msg = f"chromium could not print {html_path.name} to PDF; the PDF is skipped: {err.strip()}"
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        log.warning(msg)
        return None
    return pdf_path


def results_json(results: ResultSet) -> str:
    return json.dumps(results.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"


def write_outputs(
    results: ResultSet,
    html: str,
    out_dir: Path,
    lang: str,
    *,
    pdf: bool = True,
    scratch: Path | None = None,
) -> dict[str, Path]:
    """Write ``report.html``, ``results.json``, ``tables/<id>.csv``, ``tables.xlsx`` and
    ``report.pdf`` (when Chromium is available) into ``out_dir``; return their paths by name
    (``html``, ``results``, ``xlsx``, ``pdf``, ``csv:<table id>``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    p = out_dir / "report.html"
    p.write_text(html, encoding="utf-8")
    paths["html"] = p
    p = out_dir / "results.json"
    p.write_text(results_json(results), encoding="utf-8")
    paths["results"] = p
    tdir = out_dir / "tables"
    tdir.mkdir(exist_ok=True)
    for t in results.tables:
        p = tdir / f"{t.id}.csv"
        p.write_text(table_csv(t), encoding="utf-8")
        paths[f"csv:{t.id}"] = p
    paths["xlsx"] = write_workbook(results, out_dir / "tables.xlsx")
    if pdf:
        printed = print_pdf(paths["html"], out_dir / "report.pdf", scratch=scratch)
        if printed is not None:
            paths["pdf"] = printed
    return paths
