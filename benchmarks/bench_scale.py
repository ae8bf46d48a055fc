"""The whole study at full scale: wall time and peak memory per stage, for several sizes.

    python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--erasmus-rows 3500000]
                                     [--data-dir benchmarks/_data] [--no-cli] [--no-check]
                                     [--cold-home] [--running-server] [--keep] [--json out.json]

For each size N the script writes a synthetic study with ``benchmarks/generate_scale.py`` (N
survey responses in Qualtrics and LimeSurvey exports, an Erasmus+ KA1 CSV of
``--erasmus-rows`` rows), then:

1. **stages** -- runs the study in a *child* process, calling the same analysis and report
   functions as the Prefect tasks of ``flows/study.py``, stage by stage:

   ========== =================================================================================
   ingest     ``read_survey_export`` per survey file, ``read_mobility_file`` per mobility file,
              ``read_enrolment``, each file's SHA-256 (the flow puts it in the manifest)
   harmonise  the flow's interim hand-over: tidy frames -> Parquet (``_write_interim``) -> read
              back and concatenated (``pd.concat`` of the waves / mobility files), codebook types
   weight     ``weight_responses`` (post-stratification per wave, school x gender)
   estimate   ``build_design`` + the survey tables of ``survey_result_tables`` except the model,
              ``response_rate_table``, ``mobility_result_tables`` (incl. its small trend fits)
   model      the survey logistic model (``_model_table``: ``models.intends_abroad``)
   assemble   ``flows.assembly.assemble_results``: data quality, disclosure control, changes
   render     ``render_report`` (view model, figures, jinja2) + ``reports.outputs.write_outputs``
              (HTML, results.json, CSV, XLSX, PDF through Chromium)
   ========== =================================================================================

   Wall time per stage (``time.perf_counter``) and peak RSS per stage: a thread samples the
   resident memory of the child *and its children* (Chromium) every 10 ms with psutil and
   keeps the maximum seen during each stage; the child's ``ru_maxrss`` is printed as a check.
2. **cli** (unless ``--no-cli``) -- ``mobility-study run --config ... --output ...`` end to end
   (Prefect, threads task runner, reader processes as the inputs call for), wall time and peak
   RSS of the whole process tree (CLI, reader processes, Prefect server, Chromium), with a
   PREFECT_HOME of its own per run so that no cached result is reused: by default a copy of a
   home whose Prefect database exists (created once, untimed: a machine that has run Prefect
   before) and a temporary Prefect server; ``--cold-home`` adds a run on an empty home (the
   first run on a machine, which creates the database), ``--running-server`` a run against a
   ``prefect server start`` started once by the script (how analysts run it repeatedly).
3. **check** (unless ``--no-check``) -- at 10^4 responses (with a smaller Erasmus+ file,
   ``--check-erasmus-rows``): ``results.json`` of (a) the CLI with the readers in threads
   (``MOBILITY_STUDY_READERS=threads``, the reference), (b) the CLI with the readers in spawned
   processes (``=processes``), (c) the CLI with ``--task-runner dask`` and (d) the staged path
   with the scaled options forced small (survey readers ``chunk_rows=997``; Erasmus+ reader
   Arrow blocks of 64 KiB instead of 8 MiB, i.e. many chunks) must have identical ``tables``
   and ``estimates`` (provenance and data quality excluded).  Prints PASS or FAIL with the
   first differences.

It also counts ``<tr>`` rows and checks the sections of the rendered report at every size,
so one can see that no table grows with the number of respondents.

Generated data go under ``--data-dir`` (``benchmarks/_data/`` is git-ignored) and are deleted
after each size unless ``--keep``.  The machine is shared: run the 10^6 size once or twice.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STAGES = ("ingest", "harmonise", "weight", "estimate", "model", "assemble", "render")
CHECK_SIZE = 10_000
SMALL_CHUNK_ROWS = 997
SMALL_ARROW_BLOCK = 64 << 10
TARGET_SECONDS = 60.0
TARGET_GB = 4.0


# --------------------------------------------------------------------------- memory sampling
class TreeRss:
    """Samples the RSS of a process and its descendants; keeps the peak per label.

    The process's own RSS is read every ``interval`` (cheap: /proc/<pid>/statm); the list of
    descendants (Chromium, Dask workers, the Prefect server) is refreshed every
    ``children_every`` seconds only, because listing them scans all of /proc.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.01,
                 children_every: float = 0.5) -> None:  # fmt: skip
        self.proc = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.children_every = children_every
        self.label = "-"
        self.peaks: dict[str, int] = {}
        self.peak = 0
        self._children: list[psutil.Process] = []
        self._listed = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        now = time.monotonic()
        if now - self._listed >= self.children_every:
            try:
                self._children = self.proc.children(recursive=True)
            except psutil.Error:
                self._children = []
            self._listed = now
        total = 0
        for p in (self.proc, *self._children):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        r = self.rss()
        label = self.label
        self.peaks[label] = max(self.peaks.get(label, 0), r)
        self.peak = max(self.peak, r)

    def start(self) -> TreeRss:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the staged study
def run_stages(config_path: Path, out_dir: Path, *, chunk_rows: int | None = None,
               arrow_block: int | None = None) -> tuple[dict[str, Any], dict[str, Any], str]:  # fmt: skip
    """Run the study stage by stage (same calls as flows/study.py); return (metrics, results
    dict, html).  ``chunk_rows`` / ``arrow_block`` force the readers' chunk sizes."""
    import pandas as pd

    import analysis.mobility.readers as mobility_readers
    from analysis.enrolment import read_enrolment
    from analysis.ingest import load_codebook, read_survey_export
    from analysis.ingest.source import CHUNK_ROWS
    from analysis.mobility import read_mobility_file
    from analysis.mobility.study import mobility_result_tables
    from analysis.sample import response_rate_table
    from analysis.survey import study as survey_study
    from flows.assembly import assemble_results
    from flows.config_io import load_config
    from flows.hashing import file_sha as _file_sha
    from flows.loading import reference_tables
    from flows.loading import write_interim as _write_interim
    from reports.outputs import write_outputs
    from reports.render import render_report

    if arrow_block is not None:
        mobility_readers._ARROW_BLOCK = arrow_block  # the reader has no option: module constant
    chunk_rows = chunk_rows or CHUNK_ROWS
    sampler = TreeRss().start()
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        sampler.sample()
        sampler.label = name
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            times[name] = time.perf_counter() - t0
            cpu[name] = time.process_time() - c0
            sampler.sample()
            sampler.label = "-"

    t_all = time.perf_counter()
    interim = out_dir / ".interim"
    counts: dict[str, Any] = {}
    with stage("ingest"):
        config = load_config(str(config_path))
        schools, countries = reference_tables(config)
        codebook = load_codebook(config.codebook)
        surveys = []
        for s in config.surveys:
            res = read_survey_export(
                s.path, codebook, s.source, wave=s.wave, filters=config.filters,
                pseudonym_key=config.pseudonym_key, schools=schools, chunk_rows=chunk_rows,
            )  # fmt: skip
            manifest = {**res.manifest, "file": s.path.name, "sha256": _file_sha(s.path)}
            surveys.append((res, manifest))
        mobility = []
        for m in config.mobility:
            res = read_mobility_file(
                m.path, m.format, schools, countries, school=m.school, columns=dict(m.columns)
            )
            manifest = {**res.manifest, "file": m.path.name, "sha256": _file_sha(m.path),
                        "unknown_codes": dict(res.unknown_codes),
                        "unknown_countries": dict(res.unknown_countries)}  # fmt: skip
            mobility.append((res, manifest))
        enrol_df, enrol_q, enrol_manifest = read_enrolment(config.enrolment, schools)
        enrol_manifest = {**enrol_manifest, "file": config.enrolment.name,
                          "sha256": _file_sha(config.enrolment)}  # fmt: skip
    counts["survey_rows_read"] = sum(m["rows_read"] for _, m in surveys)
    counts["survey_rows_kept"] = sum(m["rows_kept"] for _, m in surveys)
    counts["unmapped_columns"] = {m["file"]: m["unmapped_columns"] for _, m in surveys}
    counts["mobility_rows_read"] = {m["file"]: m.get("rows_read") for _, m in mobility}

    with stage("harmonise"):
        done: dict[str, list] = {"survey": [], "mobility": [], "enrol": []}
        for i, (res, manifest) in enumerate(surveys):
            done["survey"].append(_write_interim(
                str(interim), f"survey-{i}",
                {"responses": res.responses, "quarantine": res.quarantine}, manifest,
            ))  # fmt: skip
        for i, (res, manifest) in enumerate(mobility):
            done["mobility"].append(_write_interim(
                str(interim), f"mobility-{i}",
                {"records": res.records, "quarantine": res.quarantine}, manifest,
            ))  # fmt: skip
        done["enrol"].append(_write_interim(
            str(interim), "enrolment", {"enrolment": enrol_df, "quarantine": enrol_q},
            enrol_manifest,
        ))  # fmt: skip
        del surveys, mobility
        responses = pd.concat(
            [pd.read_parquet(r["responses"]) for r in done["survey"]], ignore_index=True
        )
        records = pd.concat(
            [pd.read_parquet(r["records"]) for r in done["mobility"]], ignore_index=True
        )
        enrolment = pd.read_parquet(done["enrol"][0]["enrolment"])
        variables = load_codebook(config.codebook).variable_types()
    counts["responses"] = len(responses)
    counts["mobility_records"] = len(records)

    with stage("weight"):
        weighted = survey_study.weight_responses(responses, enrolment, config.weighting)

    # survey_result_tables, split into its estimate and model parts (same calls, same order)
    with stage("estimate"):
        design = survey_study.build_design(weighted, config.design)
        ci = config.design.ci_method
        cols = set(design.data.columns)

        def has(v: str, kinds: tuple[str, ...] = ()) -> bool:
            if v not in cols:
                return False
            return not kinds or variables.get(v, kinds[0]) in kinds

        present_exp = [v for v in survey_study.EXPERIENCE_VARS if has(v, ("binary",))]
        tables = [survey_study._diagnostics_table(weighted, design.singleton_strata)]
        tables.append(survey_study._experience_table(design, present_exp, ci))
        if has("interest_dual_degree", ("likert",)):
            tables.append(survey_study._dual_degree_table(design, ci))
        barriers = [v for v in survey_study.BARRIER_VARS if has(v, ("likert",))]
        tables.append(survey_study._barriers_table(design, barriers, ci))
        if any(c.startswith("pref_region__") for c in cols):
            tables.append(survey_study._destinations_table(design, "pref_region", ci))
        d1, d2 = survey_study._comparison_tables(design, set(present_exp))
        tables += [d1, d2]
        rate = response_rate_table(responses, enrolment)
        mobility_tables = list(mobility_result_tables(records, enrolment, config))
    with stage("model"):
        tables.append(survey_study._model_table(design))
    survey_tables = [rate, *tables]
    del weighted, design

    with stage("assemble"):
        results = assemble_results(
            config, survey_tables, mobility_tables, done, out_dir, "bench", "bench"
        )
        results_dict = results.to_dict()
    with stage("render"):
        identity = {"flow_run_id": "bench", "generated_at": results.provenance["generated_at"],
                    "run_name": "bench"}  # fmt: skip
        html = render_report(results, config.language, identity)
        write_outputs(results, html, out_dir / "report", config.language)
    total = time.perf_counter() - t_all
    sampler.stop()
    metrics = {
        "seconds": {s: round(times[s], 2) for s in STAGES},
        "cpu_seconds": {s: round(cpu[s], 2) for s in STAGES},
        "peak_rss_mb": {s: round(sampler.peaks.get(s, 0) / 2**20) for s in STAGES},
        "total_seconds": round(total, 2),
        "total_peak_rss_mb": round(sampler.peak / 2**20),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "counts": counts,
    }
    return metrics, results_dict, html


# --------------------------------------------------------------------------- comparisons
def comparable(results: dict[str, Any]) -> dict[str, Any]:
    """The parts of results.json that must not depend on how the study was run."""
    return {"tables": results["tables"], "estimates": results["estimates"]}


def differences(a: dict[str, Any], b: dict[str, Any], limit: int = 5) -> list[str]:
    """Human-readable differences between two ``comparable`` dicts (empty: identical)."""
    out: list[str] = []
    if a["tables"] != b["tables"]:
        ta = {t["id"]: t for t in a["tables"]}
        tb = {t["id"]: t for t in b["tables"]}
        for tid in sorted(set(ta) | set(tb)):
            if ta.get(tid) != tb.get(tid):
                out.append(f"table {tid}: differs")
    ea = {e["key"]: e for e in a["estimates"]}
    eb = {e["key"]: e for e in b["estimates"]}
    for key in sorted(set(ea) ^ set(eb)):
        out.append(f"estimate {key}: only in {'first' if key in ea else 'second'}")
    for key in sorted(set(ea) & set(eb)):
        if ea[key] != eb[key]:
            fields = [f for f in ea[key] if ea[key][f] != eb[key].get(f)]
            out.append(
                f"estimate {key}: {', '.join(f'{f} {ea[key][f]!r} != {eb[key][f]!r}' for f in fields[:3])}"
            )
    if not out and [e["key"] for e in a["estimates"]] != [e["key"] for e in b["estimates"]]:
        out.append("estimates in a different order")
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


_LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \| \w+\s+\| (.*)$")
_FLOW_MARKS = (
    ("start-up", None),
    ("ingest", "stage: ingest"),
    ("statistics", "stage: survey statistics"),
    ("assemble", "stage: assemble results"),
    ("render", "stage: render report"),
    ("publish", "stage: publish"),
)


def flow_log_stages(text: str, started: float, ended: float) -> dict[str, float]:
    """Seconds per stage of a ``mobility-study run`` from its log's timestamps (local clock):
    start-up = process start to the flow's first stage, then from each first "stage: X" line to
    the next stage's, the last one to the process end."""
    day = time.strftime("%Y-%m-%d", time.localtime(started))
    first: dict[str, float] = {}
    for line in text.splitlines():
        m = _LOG_LINE.match(line)
        if not m:
            continue
        h, mi, sec, ms, msg = m.groups()
        t = time.mktime(time.strptime(f"{day} {h}:{mi}:{sec}", "%Y-%m-%d %H:%M:%S"))
        t += int(ms) / 1000
        for name, mark in _FLOW_MARKS[1:]:
            if name not in first and (msg.endswith(f"- {mark}") or f"- {mark} (" in msg):
                first[name] = t
    marks = [("start-up", started)] + [(n, first[n]) for n, _ in _FLOW_MARKS[1:] if n in first]
    out = {}
    for (name, t), nxt in zip(marks, [*marks[1:], ("end", ended)], strict=True):
        out[name] = round(nxt[1] - t, 1)
    return out


def result_set_from_dict(d: dict[str, Any]):
    """Rebuild a ResultSet from ``results.json`` (to re-render saved runs with today's code)."""
    from analysis.results import Estimate, ResultSet, ResultTable

    by_key = {}
    for e in d["estimates"]:
        fields = dict(e)
        fields["domain"] = tuple(sorted((k, str(v)) for k, v in (e.get("domain") or {}).items()))
        by_key[e["key"]] = Estimate(**fields)
    tables = tuple(
        ResultTable(
            t["id"],
            t["section"],
            tuple(by_key[k] for k in t["keys"]),
            dims=tuple(t["dims"]),
            notes=tuple(t["notes"]),
        )  # fmt: skip
        for t in d["tables"]
    )
    return ResultSet(d["study"], tables, d["data_quality"], d["provenance"])


def rerender_shapes(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Report shape of saved results.json files, all rendered now with the same code."""
    from reports.render import render_report

    out = {}
    for p in paths:
        d = json.loads(Path(p).read_text(encoding="utf-8"))
        identity = {"flow_run_id": "x", "generated_at": "x", "run_name": "x"}
        html = render_report(result_set_from_dict(d), "en", identity)
        out[str(p)] = report_shape(html)
        out[str(p)]["tr_by_section"] = tr_by_section(html)
    return out


def tr_by_section(html: str) -> dict[str, int]:
    parts = re.split(r'(<section[^>]*\bid="[^"]+")', html)
    return {
        re.search(r'id="([^"]+)"', parts[i]).group(1): len(re.findall(r"<tr[\s>]", parts[i + 1]))
        for i in range(1, len(parts), 2)
    }


def snapshot_code(dest: Path) -> Path:
    """A frozen copy of the code, so that the runs of the check use the same code even while
    other people edit the working tree (``python -m`` and the child scripts run from it; its
    folder comes first on sys.path, before the editable install's finder)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data")
    for d in ("analysis", "flows", "reports", "benchmarks", "data"):
        shutil.copytree(ROOT / d, dest / d, ignore=ignore)
    for f in ("pyproject.toml", "prefect.yaml"):
        if (ROOT / f).is_file():
            shutil.copy2(ROOT / f, dest / f)
    return dest


def _code_digest(results: dict[str, Any]) -> str:
    return str(results.get("provenance", {}).get("code_digest"))


def report_shape(html: str) -> dict[str, Any]:
    """What must not grow with the number of respondents: table rows, sections, figures."""
    return {
        "tr": len(re.findall(r"<tr[\s>]", html)),
        "tables": len(re.findall(r"<table[\s>]", html)),
        "sections": re.findall(r'<section[^>]*\bid="([^"]+)"', html),
        "figures": len(re.findall(r"<svg[\s>]", html)) + len(re.findall(r"<img[\s>]", html)),
        "kb": round(len(html.encode()) / 1024),
    }


# --------------------------------------------------------------------------- child processes
def _generate(n: int, erasmus_rows: int, out: Path, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate_scale.py"), "--responses", str(n),
         "--erasmus-rows", str(erasmus_rows), "--out", str(out), "--seed", str(seed)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return manifest


def _stages_child(
    config: Path, out: Path, extra: list[str], code: Path = ROOT
) -> tuple[dict, dict, str]:
    out.mkdir(parents=True, exist_ok=True)
    script = code / "benchmarks" / "bench_scale.py"
    cmd = [sys.executable, str(script), "--_child", str(config), "--_out", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"stage run failed:\n{proc.stderr[-4000:]}")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    results = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    return metrics, results, html


CLI_LABELS = {
    "temporary": "temporary Prefect server (PREFECT_HOME with its database)",
    "cold": "temporary Prefect server, empty PREFECT_HOME (first run on a machine)",
    "server": "against a running Prefect server (PREFECT_API_URL)",
}


def _cli_variants(
    args: argparse.Namespace, template: Path | None, server_url: str | None
) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [("temporary", {"home_template": template})]
    if args.cold_home:
        out.append(("cold", {}))
    if server_url:
        out.append(("server", {"api_url": server_url}))
    return out


def _prefect_home_template(data_dir: Path) -> tuple[Path, float]:
    """A PREFECT_HOME whose database exists (``prefect server database upgrade``), to copy
    for each CLI run: the normal case of a machine that has run Prefect before, without any
    cached result of an earlier run. Returns it and the seconds its creation took."""
    home = data_dir / "prefect_home_template"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return home, time.perf_counter() - t0


def _cli(
    config: Path,
    out: Path,
    extra: list[str] = (),
    code: Path = ROOT,
    *,
    home_template: Path | None = None,
    api_url: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``mobility-study run`` end to end; wall time and peak RSS of the process tree.

    Each run gets a PREFECT_HOME of its own, so that no result cached by an earlier run (or
    by the other runs of the check) can stand in for a computation: a copy of
    ``home_template`` (Prefect's database already created) or, without one, an empty folder
    (the first run on a machine: the temporary server creates the database, ~15-25 s more).
    ``api_url``: run against that Prefect server instead of a temporary one."""
    cmd = [sys.executable, "-m", "flows.cli", "run", "--config", str(config), "--output", str(out),
           *extra]  # fmt: skip
    log = out.parent / f"{out.name}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    home = out.parent / f"{out.name}.prefect_home"
    shutil.rmtree(home, ignore_errors=True)
    if home_template is not None:
        shutil.copytree(home_template, home)
    else:
        home.mkdir()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    run_env.update(PREFECT_HOME=str(home), PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "storage"))
    if api_url:
        run_env["PREFECT_API_URL"] = api_url
    run_env.update(env or {})
    t0, started = time.perf_counter(), time.time()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=str(code), env=run_env
        )
        sampler = TreeRss(proc.pid, interval=0.05).start()
        rc = proc.wait()
        sampler.stop()
    wall = time.perf_counter() - t0
    results_path = out / "latest" / "results.json"
    if rc != 0 or not results_path.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        return {"ok": False, "rc": rc, "wall_seconds": round(wall, 1), "log_tail": tail}
    text = log.read_text(encoding="utf-8", errors="replace")
    return {
        "ok": True,
        "wall_seconds": round(wall, 1),
        "flow_stages": flow_log_stages(text, started, started + wall),
        "peak_rss_mb": round(sampler.peak / 2**20),
        "results": json.loads(results_path.read_text(encoding="utf-8")),
        "html": (out / "latest" / "report.html").read_text(encoding="utf-8"),
        "log": str(log),
    }


# --------------------------------------------------------------------------- printing
def _print_stages(rows: list[tuple[int, dict]]) -> None:
    """Wall seconds, CPU seconds (all threads of the process) and peak RSS per stage."""
    sizes = [n for n, _ in rows]
    head = f"{'stage':<10}" + "".join(
        f"{f'{n:,}: wall s':>16}{'cpu s':>8}{'peak MB':>9}" for n in sizes
    )
    print(head)
    print("-" * len(head))
    for s in (*STAGES, "total"):
        line = f"{s:<10}"
        for _, m in rows:
            if s == "total":
                cpu_total = sum(m.get("cpu_seconds", {}).values())
                line += f"{m['total_seconds']:>16.1f}{cpu_total:>8.1f}{m['total_peak_rss_mb']:>9,d}"
            else:
                cpu_s = m.get("cpu_seconds", {}).get(s, float("nan"))
                line += f"{m['seconds'][s]:>16.1f}{cpu_s:>8.1f}{m['peak_rss_mb'][s]:>9,d}"
        print(line)
    print(f"{'ru_maxrss':<10}" + "".join(f"{'':>24}{m['ru_maxrss_mb']:>9,d}" for _, m in rows))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--erasmus-rows", type=int, default=3_500_000)
    p.add_argument("--check-erasmus-rows", type=int, default=200_000,
                   help="Erasmus+ rows of the 10^4 identity check (default 200,000)")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "_data")
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI runs")
    p.add_argument(
        "--cold-home",
        action="store_true",
        help="also time the CLI on an empty PREFECT_HOME (first run on a machine)",
    )
    p.add_argument("--running-server", action="store_true",
                   help="also time the CLI against a running `prefect server start`")  # fmt: skip
    p.add_argument("--no-check", action="store_true", help="skip the 10^4 identity check")
    p.add_argument("--no-stages", action="store_true", help="skip the staged runs")
    p.add_argument("--keep", action="store_true", help="keep generated data and outputs")
    p.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    p.add_argument("--rerender", type=Path, nargs="+", default=None,
                   help="re-render saved results.json files with the current code and print "
                   "their report shapes (<tr> per section), then exit")  # fmt: skip
    p.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--_chunk-rows", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--_arrow-block", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child:  # inside the child process
        from flows.settings import apply_prefect_defaults

        apply_prefect_defaults()
        metrics, _results, _html = run_stages(
            args._child, args._out, chunk_rows=args._chunk_rows, arrow_block=args._arrow_block
        )
        (args._out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
        return 0

    if args.rerender:
        for path, shape in rerender_shapes(args.rerender).items():
            print(f"{path}: {shape['tr']} <tr>, {shape['tables']} tables, "
                  f"{len(shape['sections'])} sections, {shape['figures']} figures")  # fmt: skip
            print(f"   <tr> by section: {shape['tr_by_section']}")
        return 0
    args.data_dir.mkdir(parents=True, exist_ok=True)
    template = server_url = None
    if (args.sizes and not args.no_cli) or not args.no_check:
        template, secs = _prefect_home_template(args.data_dir)
        print(f"Prefect database for the CLI runs' PREFECT_HOME created once in {secs:.1f} s "
              "(copied into each run's home, not part of the timings)")  # fmt: skip
    if args.running_server and not args.no_cli:
        sys.path.insert(0, str(ROOT))
        from tests.flows.prefect_server import prefect_server

        server = prefect_server()
        server_url, _ = server.__enter__()
        atexit.register(server.__exit__, None, None, None)
        print(f"running Prefect server for the 'running server' CLI runs: {server_url}")
    print(f"machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.1f} GB RAM, "
          f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    summary: dict[str, Any] = {"sizes": {}}
    staged: list[tuple[int, dict]] = []
    shapes: dict[int, dict] = {}
    status = 0
    for n in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"scale_{n}_", dir=args.data_dir))
        try:
            gen = _generate(n, args.erasmus_rows, work / "data", args.seed)
            print(f"\n== {n:,} responses, {args.erasmus_rows:,} Erasmus+ rows "
                  f"(enrolment x {gen['enrolment_scale']}, {len(gen['surveys'])} survey files): "
                  f"generated in {gen['wall_seconds']} s")  # fmt: skip
            entry: dict[str, Any] = {"generate_seconds": gen["wall_seconds"]}
            if not args.no_stages:
                metrics, _res, html = _stages_child(
                    work / "data" / "study.toml", work / "stages", []
                )
                staged.append((n, metrics))
                shapes[n] = report_shape(html)
                entry["stages"] = metrics
                entry["report"] = shapes[n]
                _print_stages([(n, metrics)])
                c = metrics["counts"]
                print(f"   responses kept {c['survey_rows_kept']:,} of {c['survey_rows_read']:,}; "
                      f"mobility records {c['mobility_records']:,}; report {shapes[n]['tr']} <tr>, "
                      f"{len(shapes[n]['sections'])} sections, {shapes[n]['kb']} kB")  # fmt: skip
                unmapped = sorted({col for cols in c["unmapped_columns"].values() for col in cols})
                print(f"   unmapped columns listed by the reader: {', '.join(unmapped)}")
            if not args.no_cli:
                entry["cli"] = {}
                for label, kw in _cli_variants(args, template, server_url):
                    cli = _cli(work / "data" / "study.toml", work / f"cli_{label}", **kw)
                    if cli["ok"]:
                        print(f"   CLI end to end, {CLI_LABELS[label]}: {cli['wall_seconds']} s, "
                              f"peak RSS of the process tree {cli['peak_rss_mb']:,} MB")  # fmt: skip
                        print(f"      flow stages (s): {cli['flow_stages']}")
                        entry["cli"][label] = {
                            k: cli[k] for k in ("wall_seconds", "peak_rss_mb", "flow_stages")
                        }
                        if n not in shapes:
                            shapes[n] = report_shape(cli["html"])
                    else:
                        print(f"   CLI FAILED ({CLI_LABELS[label]}, rc {cli['rc']}) after "
                              f"{cli['wall_seconds']} s:\n{cli['log_tail']}")  # fmt: skip
                        entry["cli"][label] = {"ok": False, "rc": cli["rc"]}
                        status = 1
            summary["sizes"][str(n)] = entry
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)

    if len(staged) > 1:
        print("\nall sizes (seconds, peak RSS MB of the process tree):")
        _print_stages(staged)
        for n, m in staged:
            ok = m["total_seconds"] <= TARGET_SECONDS and m["total_peak_rss_mb"] <= TARGET_GB * 1024
            print(f"   {n:>9,d}: {m['total_seconds']:.1f} s, {m['total_peak_rss_mb'] / 1024:.2f} GB "
                  f"-> {'within' if ok else 'MISSES'} the target (<= {TARGET_SECONDS:.0f} s, <= {TARGET_GB:.0f} GB)")  # fmt: skip
    if len(shapes) > 1:
        ns = sorted(shapes)
        base = shapes[ns[0]]
        print("\nreport shape (<tr> rows / tables / sections / figures):")
        for n in ns:
            s = shapes[n]
            same = s["sections"] == base["sections"]
            print(f"   {n:>9,d}: {s['tr']:>5} / {s['tables']:>3} / {len(s['sections']):>2}"
                  f"{'' if same else ' (sections differ!)'} / {s['figures']:>3}")  # fmt: skip
        summary["report_shape"] = {str(n): shapes[n] for n in ns}

    if not args.no_check:
        status |= _check(args, summary, template)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return status


def _check(args: argparse.Namespace, summary: dict[str, Any], template: Path | None) -> int:
    """Same results.json (tables + estimates) through the default and the scaled paths."""
    work = Path(tempfile.mkdtemp(prefix="scale_check_", dir=args.data_dir))
    try:
        _generate(CHECK_SIZE, args.check_erasmus_rows, work / "data", args.seed)
        config = work / "data" / "study.toml"
        print(f"\n== identity check at {CHECK_SIZE:,} responses, {args.check_erasmus_rows:,} "
              "Erasmus+ rows")  # fmt: skip
        code = snapshot_code(work / "code")
        runs: dict[str, dict] = {}
        digests: dict[str, str] = {}
        if template is None:
            template, _secs = _prefect_home_template(work)
        threads = {"MOBILITY_STUDY_READERS": "threads"}
        default = _cli(config, work / "cli_threads", code=code, home_template=template, env=threads)
        if not default["ok"]:
            print(f"FAIL: the default CLI run failed:\n{default['log_tail']}")
            return 1
        runs["CLI, threads runner, readers in threads (reference)"] = comparable(default["results"])
        digests["CLI, threads runner, readers in threads (reference)"] = _code_digest(
            default["results"]
        )
        procs = _cli(config, work / "cli_procs", code=code, home_template=template,
                     env={"MOBILITY_STUDY_READERS": "processes"})  # fmt: skip
        name = "CLI, reader processes (MOBILITY_STUDY_READERS=processes)"
        if procs["ok"]:
            runs[name] = comparable(procs["results"])
            digests[name] = _code_digest(procs["results"])
        else:
            print(f"   reader-processes run failed (rc {procs['rc']}):\n{procs['log_tail']}")
            runs[name] = None
        dask = _cli(config, work / "cli_dask", ["--task-runner", "dask"], code=code,
                    home_template=template)  # fmt: skip
        if dask["ok"]:
            runs["CLI, --task-runner dask"] = comparable(dask["results"])
            digests["CLI, --task-runner dask"] = _code_digest(dask["results"])
        else:
            print(f"   dask run failed (rc {dask['rc']}):\n{dask['log_tail']}")
            runs["CLI, --task-runner dask"] = None
        _m, res, _h = _stages_child(
            config, work / "stages_small_chunks",
            ["--_chunk-rows", str(SMALL_CHUNK_ROWS), "--_arrow-block", str(SMALL_ARROW_BLOCK)],
            code=code,
        )  # fmt: skip
        staged = f"staged, chunk_rows={SMALL_CHUNK_ROWS}, Arrow block {SMALL_ARROW_BLOCK >> 10} KiB"
        runs[staged] = comparable(res)
        digests[staged] = _code_digest(res)
        if len(set(digests.values())) > 1:
            # other engineers edit the code while the check runs: compare like with like only
            print(
                "INCONCLUSIVE: the code changed between the runs (provenance.code_digest "
                f"{digests}); rerun the check"
            )
            summary["check"] = {"ok": None, "code_digests": digests}
            return 1
        ref_name = "CLI, threads runner, readers in threads (reference)"
        ref = runs[ref_name]
        n_est = len(ref["estimates"])
        ok = True
        for name, got in runs.items():
            if name == ref_name:
                continue
            if got is None:
                print(f"FAIL  {name}: no results")
                ok = False
                continue
            diff = differences(ref, got)
            print(f"{'PASS' if not diff else 'FAIL'}  {name}: {n_est} estimates, "
                  f"{len(ref['tables'])} tables {'identical' if not diff else 'differ'}")  # fmt: skip
            for d in diff:
                print(f"        {d}")
            ok &= not diff
        summary["check"] = {"ok": ok, "estimates": n_est}
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
