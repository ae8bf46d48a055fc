"""Figures: deterministic, self-contained SVG with an accessible name."""

from __future__ import annotations

import re

from reports import figures as F


def _bars(fig_id: str = "fig-test") -> F.Figure:
    F._CACHE.clear()  # draw for real, not from the memo
    return F.horizontal_bars(
        fig_id,
        [F.Bar("A & B", 12.5, 10.0, 15.0, "12.5%"), F.Bar("C", 3.0, 1.0, 5.0, "3.0%")],
        axis_label="Rate (%)",
        caption="Caption",
        alt='Bar chart: A & B 12.5%, C 3.0% "quoted"',
        data_header=("Item", "Rate"),
        data_rows=[("A & B", "12.5%"), ("C", "3.0%")],
    )


def test_svg_is_deterministic_and_clean():
    a, b = _bars(), _bars()
    assert a.svg == b.svg
    assert a.svg.startswith("<svg ") and "<?xml" not in a.svg and "<metadata" not in a.svg
    assert "dc:date" not in a.svg and "xlink:" not in a.svg


def test_svg_ids_are_prefixed_per_figure():
    a, b = _bars("fig-one"), _bars("fig-two")
    ids_a = set(re.findall(r'\bid="([^"]+)"', a.svg))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b.svg))
    assert ids_a and all(i.startswith("fig-one-") for i in ids_a)
    assert not ids_a & ids_b
    for ref in re.findall(r"url\(#([^)]+)\)", a.svg):
        assert ref in ids_a


def test_accessible_name_is_the_escaped_alt_text():
    a = _bars()
    assert a.svg.startswith(
        '<svg role="img" aria-label="Bar chart: A &amp; B 12.5%, C 3.0% &quot;quoted&quot;" '
    )
    assert a.alt.endswith('"quoted"') and a.data_rows[0] == ("A & B", "12.5%")
    assert "A &amp; B" in a.svg  # tick labels are escaped text, not markup


def test_french_decimal_mark_on_axes():
    F._CACHE.clear()
    fig = F.horizontal_bars(
        "fig-fr",
        [F.Bar("A", 2.5), F.Bar("B", 1.5)],
        axis_label="x",
        caption="c",
        alt="a",
        data_header=("i", "v"),
        data_rows=[],
        decimal=",",
    )
    ticks = re.findall(r">\s*([0-9]+,[0-9]+)\s*<", fig.svg)
    assert "0,5" in ticks or "1,5" in ticks


def test_likert_palette_is_okabe_ito_and_diverges():
    assert F.LIKERT_COLOURS[0] == F.OKABE_ITO["blue"]
    assert F.LIKERT_COLOURS[-1] == F.OKABE_ITO["vermillion"]
    F._CACHE.clear()
    fig = F.diverging_likert(
        "fig-l",
        [("Item", [10.0, 20.0, 30.0, 25.0, 15.0])],
        level_labels=list("12345"),
        axis_label="%",
        caption="c",
        alt="a",
        data_header=("i",),
        data_rows=[],
    )
    for colour in F.LIKERT_COLOURS:
        assert colour.lower() in fig.svg.lower()
