"""The rendered report without a browser: content, determinism, prose against numbers,
robustness to absent tables, outputs beside the HTML."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import tomllib
import warnings
from collections import Counter
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from analysis.results import Estimate, ResultSet, ResultTable
from reports import outputs
from reports.outputs import neutralise, write_outputs
from reports.render import environment, render_report, strip_run_identity
from reports.viewmodel import TEMPLATES, key_findings_markdown, missing_captions

REPO = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"
RUN_A = {"flow_run_id": "run-aaaa", "generated_at": "2024-07-01T08:00:00Z"}
RUN_B = {"flow_run_id": "run-bbbb", "generated_at": "2025-01-02T09:30:00Z"}
# The table ids of the brief: each needs a caption in both languages.
BRIEF_TABLE_IDS = (
    "sample.response_rate weighting.diagnostics survey.experience survey.dual_degree "
    "survey.barriers survey.destinations comparisons.differences comparisons.rao_scott "
    "models.intends_abroad mobility.outgoing_rate mobility.outgoing_rate_group mobility.counts "
    "mobility.activity mobility.duration mobility.destinations mobility.euroregion "
    "mobility.funding mobility.budget mobility.trend"
).split()


@pytest.fixture(scope="module")
def html(results) -> dict[str, str]:
    return {lang: render_report(results, lang, RUN_A) for lang in ("en", "fr")}


class _Collect(HTMLParser):
    """Ids, key-finding numbers, links and h2 titles of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.nums: list[tuple[str, str, str]] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.findings = 0
        self.h2: list[str] = []
        self._num: tuple[str, str] | None = None
        self._h2: list[str] | None = None
        self._text: list[str] = []
        self.in_findings = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a and tag == "a":
            self.hrefs.append(a["href"])
        for k in ("src", "srcset"):
            if k in a:
                self.srcs.append(a[k])
        if tag == "link":
            self.srcs.append(a.get("href", ""))
        if tag == "ul" and a.get("class") == "findings":
            self.in_findings = True
        if tag == "li" and self.in_findings:
            self.findings += 1
        if tag == "span" and a.get("class") == "num":
            self._num = (a["data-key"], a["data-field"])
            self._text = []
        if tag == "h2":
            self._h2 = []

    def handle_endtag(self, tag):
        if tag == "span" and self._num:
            self.nums.append((*self._num, "".join(self._text)))
            self._num = None
        if tag == "ul":
            self.in_findings = False
        if tag == "h2" and self._h2 is not None:
            self.h2.append("".join(self._h2).strip())
            self._h2 = None

    def handle_data(self, data):
        if self._num:
            self._text.append(data)
        if self._h2 is not None:
            self._h2.append(data)


def _parse(page: str) -> _Collect:
    c = _Collect()
    c.feed(page)
    return c


# --------------------------------------------------------------------------- templates
def test_environment_is_strict_and_escapes():
    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape is True
    assert (TEMPLATES / "macros.html.j2").is_file()


def test_labels_have_the_same_keys_in_both_languages():
    en = tomllib.loads((TEMPLATES / "labels.en.toml").read_text(encoding="utf-8"))
    fr = tomllib.loads((TEMPLATES / "labels.fr.toml").read_text(encoding="utf-8"))
    assert en.keys() == fr.keys()
    for section in en:
        assert en[section].keys() == fr[section].keys(), section


def test_every_table_of_the_brief_and_fixture_has_a_caption(results):
    for lang in ("en", "fr"):
        assert missing_captions(results, lang) == []
        caps = tomllib.loads((TEMPLATES / f"labels.{lang}.toml").read_text(encoding="utf-8"))[
            "captions"
        ]
        assert [t for t in BRIEF_TABLE_IDS if t not in caps] == []
    assert sorted(t.id for t in results.tables) == sorted(BRIEF_TABLE_IDS)


# --------------------------------------------------------------------------- content
def test_html_is_self_contained_and_has_lang(html):
    for lang, page in html.items():
        assert page.startswith("<!DOCTYPE html>")
        assert f'<html lang="{lang}">' in page
        c = _parse(page)
        assert c.srcs == []  # no <img src>, <script src>, <link href>
        external = [h for h in c.hrefs if not h.startswith(("#", "data:"))]
        assert external == []
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in page


def test_ids_are_unique_and_links_resolve(html):
    for page in html.values():
        c = _parse(page)
        dupes = [i for i, n in Counter(c.ids).items() if n > 1]
        assert dupes == []
        targets = set(c.ids)
        broken = [h for h in c.hrefs if h.startswith("#") and h[1:] not in targets]
        assert broken == []


def test_sections_in_order_and_banner(html, results):
    c = _parse(html["en"])
    titles = [re.sub(r"^\d+\. ", "", t) for t in c.h2[1:]]  # h2[0] is the table of contents
    assert titles == [
        "Summary",
        "Sample and response",
        "Outgoing mobility across the IMT schools",
        "Survey results by theme",
        "Group comparisons",
        "Models",
        "Methods and definitions",
        "Data-quality alerts",
        "What changed since the previous run",
        "Disclosure control",
        "Reproduction and provenance",
        "Citation and reuse",
    ]
    assert "SYNTHETIC DATA" in html["en"]
    assert "DONNÉES SYNTHÉTIQUES" in html["fr"]
    not_synthetic = replace(results, study={**results.study, "synthetic": False})
    assert "SYNTHETIC DATA" not in render_report(not_synthetic, "en", RUN_A)


def test_every_table_is_rendered_with_a_numbered_caption(html, results):
    labels = tomllib.loads((TEMPLATES / "labels.en.toml").read_text(encoding="utf-8"))
    page = html["en"]
    captions = re.findall(r"<caption[^>]*><a[^>]*>Table (\d+)\.</a> ([^<]+)</caption>", page)
    numbers = [int(n) for n, _ in captions]
    assert numbers == list(range(1, len(numbers) + 1))
    texts = {t for _, t in captions}
    for t in results.tables:
        assert jinja2.utils.markupsafe.escape(labels["captions"][t.id]) in texts, t.id
    # figures numbered too, each with a show-data table and an accessible name
    figs = re.findall(r"<figcaption><a[^>]*>Figure (\d+)\.</a>", page)
    assert [int(n) for n in figs] == list(range(1, len(figs) + 1)) and len(figs) >= 7
    assert page.count('<details class="show-data">') == len(figs)
    assert page.count('<svg role="img" aria-label="') == len(figs)


def test_table_cells_name_statistic_base_and_suppression(html, results):
    page = html["en"]
    # survey.experience: weighted %, logit CI, n per row, suppressed cells as [c] with legend
    assert "Estimate (%)" in page and "95% CI" in page and "n (unweighted)" in page
    assert "Statistic: %; 95% CI: logit." in page
    assert "Weighted estimates; n is the unweighted number" in page
    assert re.search(r'<td class="num-col" data-key="[^"]+">\[c\]</td>', page)
    assert "[c] confidential" in page
    # an estimate of the fixture, formatted independently (one decimal, in %)
    e = results.estimate("survey.went_abroad.by_school.imt_nord_europe")
    shown = f"{e.estimate * 100:.1f}"
    assert f'data-key="survey.went_abroad.by_school.imt_nord_europe">{shown}</td>' in page
    # French: decimal comma in tables, NBSP thousands
    fr = html["fr"]
    assert (
        f'data-key="survey.went_abroad.by_school.imt_nord_europe">{shown.replace(".", ",")}</td>'
        in fr
    )
    # data/raw/README.md: the Qualtrics export has 2573 data rows
    assert f"2{NBSP}573" in fr and "2,573" in page


def test_alt_text_is_generated_from_the_data(html, results):
    page = html["en"]
    m = re.search(
        r'<svg role="img" aria-label="([^"]+)"[^>]*id="fig-mobility-rate-by-school-svg"', page
    )
    assert m, "figure 1 missing"
    alt = m.group(1)
    # the latest year of the fixture and its highest and lowest school rates (from results)
    rates = [
        e
        for e in results.table("mobility.outgoing_rate").estimates
        if e.domain_dict().get("academic_year") == "2022" and e.estimate is not None
    ]
    top = max(rates, key=lambda e: e.estimate)
    bottom = min(rates, key=lambda e: e.estimate)
    names = results.study["schools"]
    assert "2022-23" in alt
    assert f"{names[top.domain_dict()['school']]} ({top.estimate * 100:.1f}%)" in alt
    assert f"{names[bottom.domain_dict()['school']]} ({bottom.estimate * 100:.1f}%)" in alt
    assert "Horizontal bar chart" in alt


def test_changes_and_provenance_sections(html, results):
    from analysis.changes import changes_since

    page = html["en"]
    assert "0123456789abcdef0123456789abcdef01234567" in page  # git commit (fixed by the fixture)
    sha = hashlib.sha256((REPO / "data" / "raw" / "enrolment.csv").read_bytes()).hexdigest()
    assert sha in page  # sha256 of an input
    assert 'href="data:application/json;base64,' in page
    # a previous run in which one past mobility count was lower: the comparison code says
    # what changed, the report shows it
    now = results.to_dict()
    before = json.loads(json.dumps(now))
    key = "mobility.counts.participants.imt_nord_europe.2021"
    old = next(e for e in before["estimates"] if e["key"] == key)
    old["estimate"] -= 7
    before["provenance"]["run_name"] = "20240601T120000Z-1a2b3c4d"
    changes = changes_since(before, now)
    again = replace(results, data_quality={**results.data_quality, "changes": changes})
    page = render_report(again, "en", RUN_A)
    assert "20240601T120000Z-1a2b3c4d" in page  # previous run
    assert key in page  # revised figure
    # ... flagged r in its table (a pivot: one column per year)
    now_value = f"{results.estimate(key).estimate:,.0f}"
    assert f'data-key="{key}">{now_value} r<' in page
    first_run = replace(
        results, data_quality={**results.data_quality, "changes": {"previous_run": None}}
    )
    assert "This is the first run" in render_report(first_run, "en", RUN_A)


# --------------------------------------------------------------------------- determinism
def test_byte_identical_apart_from_run_identity(results, html):
    other = render_report(results, "en", RUN_B)
    assert other != html["en"]
    assert "run-bbbb" in other and "run-bbbb" not in strip_run_identity(other)
    assert strip_run_identity(other) == strip_run_identity(html["en"])
    # the run-varying provenance facts are only inside the block
    assert results.provenance["flow_run_id"] not in strip_run_identity(other)
    assert results.provenance["generated_at"] not in strip_run_identity(other)


def test_byte_identical_in_a_fresh_process(html):
    """A new interpreter (other hash seed, fresh matplotlib) gives the same bytes."""
    code = (
        f"import hashlib, sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.reports.conftest import load_results\n"
        "from reports.render import render_report, strip_run_identity\n"
        "r = load_results()\n"
        "h = strip_run_identity(render_report(r, 'en', {'flow_run_id': 'x'}))\n"
        "print(hashlib.sha256(h.encode()).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    here = hashlib.sha256(strip_run_identity(html["en"]).encode()).hexdigest()
    assert out.stdout.strip() == here


def test_svg_has_no_date_or_metadata(html):
    page = html["en"]
    assert "<metadata" not in page and "dc:date" not in page
    assert "<?xml" not in page


# --------------------------------------------------------------------------- key findings
def _expected(e: dict, field: str, lang: str) -> str:
    """Independent formatting of an estimate field, as the prose must show it."""
    v = e[field]
    pct = e["statistic"] in ("proportion", "share", "rate")
    s = f"{v * 100:.1f}" if pct else f"{v:.2f}"
    if lang == "fr":
        s = s.replace(".", ",")
    if pct:
        s += f"{NBSP}%" if lang == "fr" else "%"
    return s


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_number_in_the_key_findings_matches_results_json(results, lang, tmp_path):
    page = render_report(results, lang, RUN_A)
    paths = write_outputs(results, page, tmp_path, lang, pdf=False)
    data = json.loads(paths["results"].read_text(encoding="utf-8"))
    by_key = {e["key"]: e for e in data["estimates"]}
    c = _parse(page)
    assert 3 <= c.findings <= 5
    assert len(c.nums) >= 8
    for key, field, text in c.nums:
        e = by_key[key]
        assert e["suppressed"] is None and e[field] is not None
        assert text == _expected(e, field, lang), (key, field)
    # the prose check can fail: a wrong number is caught
    key, field, text = c.nums[0]
    assert _expected({**by_key[key], field: by_key[key][field] + 0.01}, field, lang) != text


def test_findings_follow_the_rules(results, html):
    c = _parse(html["en"])
    keys = {k for k, _, _ in c.nums}
    assert "mobility.outgoing_rate_group.2022" in keys  # last year
    # data/raw/README.md: the COVID dip is deepest in 2020-21 (IMT Nord Europe 69 students)
    assert "mobility.outgoing_rate_group.2020" in keys  # lowest COVID year
    assert "mobility.outgoing_rate_group.2018" in keys  # year before COVID
    assert "mobility.euroregion.share.by_school.imt_nord_europe" in keys
    assert "models.intends_abroad.odds_ratio.barrier_finance" in keys
    assert "survey.interest_dual_degree.top2" in keys  # the top-2 share before the mean
    rate = results.estimate("mobility.outgoing_rate_group.2022").estimate
    md = key_findings_markdown(results, "en")
    assert md.startswith(f"- In 2022-23, {rate * 100:.1f}% of the students")


# --------------------------------------------------------------------------- robustness
def test_renders_with_tables_absent(results):
    few = replace(
        results, tables=tuple(t for t in results.tables if t.id == "sample.response_rate")
    )
    page = render_report(few, "fr", RUN_A)
    assert "Trop peu de résultats" in page
    empty = ResultSet({}, ())
    page = render_report(empty, "en", {})
    assert strip_run_identity(page)
    assert "Too few results in this run" in page


def test_unknown_table_is_rendered_and_flagged(results):
    extra = ResultTable(
        "survey.new_thing",
        "survey",
        (
            Estimate(
                "survey.new_thing.x",
                "survey.new_thing",
                "mean",
                "new_thing",
                2.5,
                n_unweighted=40,
                base="<script>alert(1)</script>",
            ),
        ),
    )
    res = replace(results, tables=(*results.tables, extra))
    assert missing_captions(res, "en") == ["survey.new_thing"]
    page = render_report(res, "en", RUN_A)
    assert "survey.new_thing" in page
    assert "Table without a caption in this language (internal id shown): survey.new_thing" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page


def test_unsupported_language_is_an_error(results):
    with pytest.raises(ValueError, match="'de'"):
        render_report(results, "de", RUN_A)


# --------------------------------------------------------------------------- outputs
def test_outputs_json_csv_xlsx(results, tmp_path):
    from openpyxl import load_workbook

    bad = ResultTable(
        "survey.formula",
        "survey",
        (
            Estimate(
                "survey.formula.x",
                "survey.formula",
                "difference",
                "x",
                -0.5,
                level="=1+1",
                base="@SUM(A1)",
                n_unweighted=50,
            ),
        ),
    )
    res = replace(results, tables=(*results.tables, bad))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = write_outputs(res, "<!DOCTYPE html>", tmp_path, "en", pdf=False)
    assert paths["html"].read_text(encoding="utf-8") == "<!DOCTYPE html>"
    csvs = sorted(k for k in paths if k.startswith("csv:"))
    assert len(csvs) == len(res.tables)
    text = paths["csv:survey.formula"].read_text(encoding="utf-8")
    assert "'=1+1" in text and "'@SUM(A1)" in text and ",-0.5," in text
    # suppressed cells carry no number anywhere
    data = json.loads(paths["results"].read_text(encoding="utf-8"))
    hidden = [e for e in data["estimates"] if e["suppressed"]]
    assert hidden and all(e["estimate"] is None and e["n_unweighted"] is None for e in hidden)
    rows = paths["csv:mobility.counts"].read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("school,academic_year,key,")
    # a small count of the dual-degree table: empty estimate and base, reason "count"
    small = next(
        e for e in results.table("survey.dual_degree").estimates if e.suppressed == "count"
    )
    text = paths["csv:survey.dual_degree"].read_text(encoding="utf-8")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["key"] == small.key)
    assert row["estimate"] == "" and row["base"] == "" and row["suppressed"] == "count"
    wb = load_workbook(paths["xlsx"])
    assert "contents" in wb.sheetnames and "survey.formula" in wb.sheetnames
    ws = wb["survey.formula"]
    values = [c.value for c in ws[2]]
    assert "'=1+1" in values and "'@SUM(A1)" in values and -0.5 in values
    assert len(wb.sheetnames) == len(res.tables) + 1


def test_neutralise():
    assert neutralise("=cmd") == "'=cmd"
    assert neutralise("-2") == "'-2"
    assert neutralise("+x") == "'+x" and neutralise("@x") == "'@x"
    assert neutralise("abc") == "abc" and neutralise(-2.0) == -2.0 and neutralise(None) is None


def test_pdf_is_skipped_with_a_warning_without_chromium(results, tmp_path, monkeypatch):
    monkeypatch.setattr(outputs.shutil, "which", lambda name: None)
    with pytest.warns(RuntimeWarning, match="no chromium"):
        paths = write_outputs(results, "<!DOCTYPE html>", tmp_path, "en")
    assert "pdf" not in paths and not (tmp_path / "report.pdf").exists()
    assert paths["results"].is_file()


def test_run_index_lists_runs_and_escapes():
    from reports.history import render_index

    page = render_index(
        [
            {
                "name": "20240701T080000Z-9f0e5a4c",
                "report": "runs/20240701T080000Z-9f0e5a4c/report.html",
                "generated": "2024-07-01T08:00:00Z",
                "flow_run_id": "9f0e",
                "commit": "0123456789abcdef",
                "estimates": 209,
                "latest": True,
            },
            {"name": "<b>x</b>", "report": "runs/x/report.html", "latest": False},
        ]
    )
    assert '<a href="runs/20240701T080000Z-9f0e5a4c/report.html">' in page and "(latest)" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "No run has been published yet." in render_index([])


def test_sample_filters_and_data_quality_alerts(html):
    page = html["en"]
    # data/raw/README.md: 4 previews, 3 spam, 112 unfinished, 6 speeders, 5 duplicates
    assert (
        "qualtrics_preview 4; qualtrics_spam 3; unfinished 112; speeder 6; duplicate 5" in page
    )  # filters per file
    assert "Filtered out of survey_2023_qualtrics.csv (speeder)" in page
    assert "Personal-data columns dropped from survey_2023_qualtrics.csv" in page
    # names of personal columns: never
    assert "RecipientEmail" not in page and "IPAddress" not in page
    assert "Break in series for survey_2023_qualtrics.csv" in page
    # an Erasmus code that looks IMT but is not in the school table: counted, not named
    assert "IMT-looking sender Erasmus codes not in the school table, in erasmus_ka1" in page
    assert "FDOUAI12" not in page


def test_findings_compare_nord_europe_with_the_rest_and_link_to_the_figure(html, results):
    page = html["en"]
    ne = results.estimate("mobility.euroregion.share.by_school.imt_nord_europe").estimate
    rest = results.estimate("mobility.euroregion.share.rest_of_group").estimate
    # data/raw/README.md: IMT Nord Europe sends far more of its students to the Euroregion
    assert ne > 2 * rest
    assert f"{ne * 100:.1f}%</span> of IMT Nord Europe's outgoing mobilities went" in page.replace(
        "&#39;", "'"
    )
    assert (
        'The other IMT schools sent <span class="num" data-key="mobility.euroregion.share.rest_of_group" '
        f'data-field="estimate">{rest * 100:.1f}%</span>' in page
    )
    assert '(<a href="#fig-mobility-trend">see Figure 2</a>)' in page


def test_dual_degree_finding_prefers_the_top_two_share(results):
    top2 = results.estimate("survey.interest_dual_degree.top2").estimate
    mean = results.estimate("survey.interest_dual_degree.mean").estimate
    md = key_findings_markdown(results, "fr")
    share = f"{top2 * 100:.1f}".replace(".", ",")
    assert f"{share}{NBSP}% des répondants sont intéressés par un double diplôme" in md
    assert "en moyenne" not in md
    # without the top-2 share, the mean
    t = results.table("survey.dual_degree")
    no_top2 = replace(
        results,
        tables=tuple(
            replace(x, estimates=tuple(e for e in x.estimates if not e.key.endswith(".top2")))
            if x is t
            else x
            for x in results.tables
        ),
    )
    md = key_findings_markdown(no_top2, "fr")
    assert f"en moyenne de {mean:.2f}".replace(".", ",") in md


def test_contrasts_are_labelled(html):
    # domain gender = "F_vs_M" -> "Women − Men"
    assert "Intends to go abroad: Women − Men" in html["en"]
    assert "Envisage de partir à l&#39;étranger\u00a0: Femmes − Hommes" in html["fr"]


def test_suppressed_counts_in_a_pivot_table_are_c(raw_results):
    """Disclosure control (the pipeline's, with a stricter threshold) hides small counts;
    the year columns show them as [c], never their number."""
    from analysis.disclosure import apply_disclosure_control

    strict, _ = apply_disclosure_control(raw_results, min_count=40, min_base=10)
    hidden = [e for e in strict.table("mobility.counts").estimates if e.suppressed]
    assert hidden
    page = render_report(strict, "en", RUN_A)
    for e in hidden:
        assert f'data-key="{e.key}">[c]</td>' in page, e.key


def test_counts_over_years_are_one_column_per_year(html):
    page = html["en"]
    i = page.index("Outgoing students by school and academic year</caption>")
    table = page[i : page.index("</table>", i)]
    header = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', table)
    years = [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2023)]
    assert header == ["Variable", "School", *years]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == 20  # mobilities and participants of the ten schools
    ne = next(r for r in rows if "IMT Nord Europe" in r and ">Participants<" in r)
    cells = re.findall(
        r'data-key="mobility\.counts\.participants\.imt_nord_europe\.(\d+)">([^<]+)<', ne
    )
    assert [y for y, _ in cells] == [str(y) for y in range(2014, 2023)]
    # data/raw/README.md: IMT Nord Europe's Erasmus+ participants, before its own sheet
    # adds records (from 2017-18)
    assert [v for _, v in cells[:3]] == ["153", "177", "150"]
    # the group trend (no other dimension) keeps a row header
    j = page.index(
        "Trend model of outgoing mobility: rate ratios from a count GLM with a log-enrolment offset</caption>"
    )
    trend = page[j : page.index("</table>", j)]
    assert '<th scope="row">Outgoing participants</th>' in trend


def _expected_cell(e: dict) -> str:
    """Independent formatting of a table value (English)."""
    v, stat, var = e["estimate"], e["statistic"], e["variable"]
    likert = var in {
        "interest_dual_degree",
        "barrier_finance",
        "barrier_language",
        "barrier_recognition",
    }
    whole = {"count", "total", "population", "respondents", "sum_weights", "iterations", "trimmed"}
    if stat == "model_choice":
        return {"poisson": "Poisson", "negative_binomial": "Negative binomial"}[e["level"]]
    if stat == "flag":
        return "yes" if v else "no"
    if stat in ("proportion", "share", "rate"):
        s = f"{v * 100:.1f}"
    elif stat == "difference" and not likert:
        s = f"{v * 100:.1f}"
    elif stat in whole:
        s = f"{v:,.0f}"
    elif stat == "kish_n_eff" or (stat == "mean" and ("month" in var or "duration" in var)):
        s = f"{v:,.1f}"
    else:
        s = f"{v:,.2f}"
    return s.replace("-", "\u2212")


def test_every_table_value_is_the_estimate_of_its_key(results, html):
    by_key = {e.key: e.to_dict() for e in results.estimates()}
    cells = re.findall(r'<td class="num-col" data-key="([^"]+)">([^<]*)</td>', html["en"])
    assert len(cells) >= len(by_key) - 5  # (nearly) every estimate is shown in a table
    for key, text in cells:
        e = by_key[key]
        if e["suppressed"]:
            assert text == "[c]", key
        elif e["estimate"] is None:
            assert text == "\u2013", key
        else:
            assert text.removesuffix(" r") == _expected_cell(e), key
