"""Figures: matplotlib (object API, Agg) -> deterministic inline SVG.

Each function takes already selected and labelled data (no statistics here) and returns a
:class:`Figure`: the SVG markup, the alt text built from the data, the caption and the rows
behind the chart (for the "show data" table). The SVG is deterministic: ``svg.hashsalt`` is
the figure id (so ids differ between figures of one page), no date metadata, no ``<metadata>``
block; text stays text (``svg.fonttype = none``) so it is searchable and sharp in print.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

# Okabe-Ito colour-blind-safe palette, defined once.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
NEUTRAL_GREY = "#BBBBBB"
# Diverging scale for 1-5 Likert answers: blue (low) ... grey (neutral) ... orange (high).
LIKERT_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["sky_blue"],
    NEUTRAL_GREY,
    OKABE_ITO["orange"],
    OKABE_ITO["vermillion"],
)
LOG_TICKS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
#: Category labels longer than this wrap onto several lines (the plot keeps its width).
LABEL_WRAP = 34
MARKERS = ("o", "s", "^", "D", "v", "P")
SERIES_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["black"],
)

_RC = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}


@dataclass(frozen=True)
class Figure:
    id: str
    svg: str
    alt: str
    caption: str
    data_header: tuple[str, ...]
    data_rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    text: str = ""  # formatted value printed next to the bar


@dataclass(frozen=True)
class Series:
    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    low: tuple[float | None, ...] = ()
    high: tuple[float | None, ...] = ()


def _to_svg(fig: MplFigure, fig_id: str, alt: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": fig_id, "svg.id": fig_id + "-svg"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # HTML-embedded SVG: an accessible name on the root, no XML-only attributes.
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "", 1)
    svg = re.sub(r' version="1\.1"', "", svg, count=1)
    esc = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{esc}" ', 1)
    svg = svg.replace("xlink:href", "href")
    # Element ids (figure_1, patch_1, clip paths) repeat between figures: prefix them.
    prefix = fig_id + "-"
    svg = re.sub(
        r'\bid="(?!' + re.escape(fig_id) + r'-svg")([^"]+)"',
        lambda m: f'id="{prefix}{m.group(1)}"',
        svg,
    )
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return svg.strip() + "\n"


_CACHE: dict[str, Figure] = {}
_CACHE_SIZE = 64


def _cached(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Memoise a figure by its inputs: a figure is a pure function of its data and texts,
    and drawing it is the slowest step of a render."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        key = fn.__name__ + repr(args) + repr(sorted(kwargs.items()))
        hit = _CACHE.get(key)
        if hit is None:
            hit = fn(*args, **kwargs)
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = hit
        return hit

    return wrapper


def _new(width: float, height: float) -> tuple[MplFigure, object]:
    fig = MplFigure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    return fig, ax


def _decimal_axis(axis, decimal: str) -> None:
    """Tick labels with the report language's decimal mark ("2,5" in French)."""
    if decimal != ".":
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}".replace(".", decimal)))


@_cached
def _brackets(b: Bar) -> bool:
    return (
        b.low is not None
        and b.high is not None
        and all(math.isfinite(v) for v in (b.low, b.value, b.high))
        and b.low <= b.value <= b.high
    )


def horizontal_bars(
    fig_id: str,
    bars: Sequence[Bar],
    *,
    axis_label: str,
    caption: str,
    alt: str,
    data_header: tuple[str, ...],
    data_rows: Sequence[tuple[str, ...]],
    highlight: str | None = None,
    log: bool = False,
    decimal: str = ".",
) -> Figure:
    """Bars from zero (or dots on a log axis when ``log``) with CI whiskers, top to bottom
    in the given order; the highlighted category gets a second colour and a hatch."""
    with matplotlib.rc_context(_RC):
        labels = [textwrap.fill(b.label, LABEL_WRAP) for b in bars]
        lines = sum(lb.count("\n") + 1 for lb in labels)
        fig, ax = _new(7.0, 0.9 + 0.3 * lines + 0.12 * len(bars))
        ys = list(range(len(bars)))[::-1]
        vals = [b.value for b in bars]
        colours = [
            OKABE_ITO["vermillion"] if b.label == highlight else OKABE_ITO["blue"] for b in bars
        ]
        # a whisker only for an interval around its value (a separated model term can come
        # with bounds that do not bracket the estimate: no whisker rather than a crash)
        ok = [_brackets(b) for b in bars]
        err_lo = [b.value - b.low if good else 0 for b, good in zip(bars, ok, strict=True)]
        err_hi = [b.high - b.value if good else 0 for b, good in zip(bars, ok, strict=True)]
        has_ci = any(ok)
        if log:
            ax.set_xscale("log")
            lo = min(b.low if b.low is not None else b.value for b in bars)
            hi = max(b.high if b.high is not None else b.value for b in bars)
            ticks = [t for t in LOG_TICKS if lo / 1.15 <= t <= hi * 1.15] or [1.0]
            ax.set_xticks(ticks, [f"{t:g}".replace(".", decimal) for t in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.axvline(1.0, color=OKABE_ITO["black"], linewidth=0.8)
            ax.errorbar(
                vals,
                ys,
                xerr=[err_lo, err_hi] if has_ci else None,
                fmt="o",
                color=OKABE_ITO["blue"],
                ecolor=OKABE_ITO["black"],
                capsize=3,
            )
        else:
            rects = ax.barh(ys, vals, color=colours, height=0.6)
            for r, b in zip(rects, bars, strict=True):
                if b.label == highlight:
                    r.set_hatch("//")
                    r.set_edgecolor(OKABE_ITO["black"])
            if has_ci:
                ax.errorbar(
                    vals,
                    ys,
                    xerr=[err_lo, err_hi],
                    fmt="none",
                    ecolor=OKABE_ITO["black"],
                    capsize=3,
                    linewidth=1,
                )
            ax.set_xlim(left=min(0.0, min(vals + [b.low or 0 for b in bars])))
            ax.axvline(0.0, color=OKABE_ITO["black"], linewidth=0.8)
        top = max((b.high if b.high is not None else b.value) for b in bars)
        for y, b in zip(ys, bars, strict=True):
            if b.text:
                x = b.high if b.high is not None else b.value
                ax.annotate(
                    b.text,
                    (x, y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=10,
                )
        if not log:
            ax.set_xlim(right=top * 1.18 if top > 0 else 1)
        ax.set_yticks(ys, labels)
        ax.set_xlabel(axis_label)
        if not log:
            _decimal_axis(ax.xaxis, decimal)
        fig.tight_layout()
        svg = _to_svg(fig, fig_id, alt)
    return Figure(fig_id, svg, alt, caption, data_header, tuple(tuple(r) for r in data_rows))


@_cached
def lines_over_time(
    fig_id: str,
    series: Sequence[Series],
    *,
    x_labels: dict[float, str],
    shade: Sequence[float],
    shade_label: str,
    axis_label: str,
    x_axis_label: str,
    caption: str,
    alt: str,
    data_header: tuple[str, ...],
    data_rows: Sequence[tuple[str, ...]],
    decimal: str = ".",
) -> Figure:
    """Lines with markers (a different marker per series: colour is never the only cue),
    CI bands, shaded years (COVID-19), y axis from zero, direct labels at the line ends."""
    with matplotlib.rc_context(_RC):
        fig, ax = _new(7.0, 3.8)
        for x in shade:
            ax.axvspan(
                x - 0.5,
                x + 0.5,
                color="#E6E6E6",
                zorder=0,
                label=shade_label if x == shade[0] else None,
            )
        for i, s in enumerate(series):
            c = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            ax.plot(
                s.x, s.y, marker=MARKERS[i % len(MARKERS)], color=c, label=s.label, linewidth=1.8
            )
            if s.low and all(v is not None for v in s.low + s.high):
                ax.fill_between(s.x, s.low, s.high, color=c, alpha=0.15, linewidth=0)
            ax.annotate(
                s.label,
                (s.x[-1], s.y[-1]),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                color=OKABE_ITO["black"],
                fontsize=10,
            )
        ax.set_ylim(bottom=0)
        xs = sorted(x_labels)
        ax.set_xticks(xs, [x_labels[x] for x in xs], rotation=45, ha="right")
        ax.set_xlim(xs[0] - 0.6, xs[-1] + 2.2)
        ax.set_ylabel(axis_label)
        ax.set_xlabel(x_axis_label)
        _decimal_axis(ax.yaxis, decimal)
        ax.legend(loc="lower left", frameon=False)
        fig.tight_layout()
        svg = _to_svg(fig, fig_id, alt)
    return Figure(fig_id, svg, alt, caption, data_header, tuple(tuple(r) for r in data_rows))


@_cached
def diverging_likert(
    fig_id: str,
    items: Sequence[tuple[str, Sequence[float]]],
    *,
    level_labels: Sequence[str],
    axis_label: str,
    caption: str,
    alt: str,
    data_header: tuple[str, ...],
    data_rows: Sequence[tuple[str, ...]],
) -> Figure:
    """Diverging stacked bars of 1-5 answers (shares in %), centred on the middle of the
    neutral answer; segments of 8 % or more carry their value."""
    with matplotlib.rc_context(_RC):
        fig, ax = _new(7.0, 1.5 + 0.55 * len(items))
        ys = list(range(len(items)))[::-1]
        extent = 0.0
        for y, (_, shares) in zip(ys, items, strict=True):
            left = -(shares[0] + shares[1] + shares[2] / 2)
            for k, v in enumerate(shares):
                ax.barh(
                    y,
                    v,
                    left=left,
                    color=LIKERT_COLOURS[k],
                    height=0.6,
                    edgecolor="white",
                    linewidth=0.5,
                    label=level_labels[k] if y == ys[0] else None,
                )
                if v >= 8:
                    colour = "white" if k in (0, 4) else OKABE_ITO["black"]
                    ax.text(
                        left + v / 2,
                        y,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=10,
                        color=colour,
                    )
                left += v
            extent = max(extent, abs(-(shares[0] + shares[1] + shares[2] / 2)), left)
        ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
        lim = min(100.0, extent * 1.05)
        ax.set_xlim(-lim, lim)
        ticks = [t for t in range(-100, 101, 20) if abs(t) <= lim]
        ax.set_xticks(ticks, [str(abs(t)) for t in ticks])
        ax.set_yticks(ys, [label for label, _ in items])
        ax.set_xlabel(axis_label)
        # above the bars: below them it collided with the axis label when there were few items
        ax.legend(
            loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=3, frameon=False, fontsize=10
        )
        fig.tight_layout()
        svg = _to_svg(fig, fig_id, alt)
    return Figure(fig_id, svg, alt, caption, data_header, tuple(tuple(r) for r in data_rows))
