"""The dashboard's charts, drawn on the server as SVG: no script, no network, nothing to install.

Each chart is an accessible image (role="img" with a title and a description that states the
figures); the page also offers every chart's numbers as a table. Colours come from CSS
classes, so the stylesheet decides the palette and the print and high-contrast variants.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from src.web.formatting import percent_band, sa_date, sa_decimal, sa_int

WIDTH = 640
FONT = 13


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    values: Sequence[float]


def _svg(chart_id: str, title: str, desc: str, height: int, body: Markup) -> Markup:
    return Markup(
        '<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(id=chart_id, w=WIDTH, h=height, title=title, desc=desc, body=body)


def _text(x: float, y: float, text: str, css: str = "", anchor: str = "start") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" class="{}" text-anchor="{}">{}</text>').format(x, y, css, anchor, text)


def _rect(x: float, y: float, w: float, h: float, css: str) -> Markup:
    return Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="{}" rx="2"/>').format(
        x, y, max(w, 0.0), h, css
    )


def _nice_max(value: float) -> float:
    """A round upper bound for an axis: 1, 2, 5 or 10 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _legend(series: Sequence[Series], y: float) -> Markup:
    out, x = Markup(""), 0.0
    for s in series:
        out += _rect(x, y - 10, 12, 12, s.css) + _text(x + 18, y, s.name, "legend")
        x += 30 + 8 * len(s.name)
    return out


def paired_bars(chart_id: str, title: str, labels: Sequence[str], left: Series, right: Series) -> Markup:
    """Two bar columns side by side, each on its own scale (open next to resolved).

    A shared scale would shrink today's backlog to slivers beside a year of resolved tickets;
    each column is read on its own, and the numbers are printed on the bars.
    """
    label_w, row_h, bar_h, top, gap = 110, 26, 16, 30, 24
    col_w = (WIDTH - label_w - gap - 8) / 2
    value_w = 48
    height = top + row_h * max(len(labels), 1) + 4
    body = Markup("")
    for c, s in enumerate((left, right)):
        x0 = label_w + c * (col_w + gap)
        peak = _nice_max(max(s.values, default=0))
        body += _rect(x0, 8, 12, 12, s.css) + _text(x0 + 18, 18, s.name, "legend")
        for i, value in enumerate(s.values):
            y = top + i * row_h
            w = (col_w - value_w) * value / peak
            body += _rect(x0, y, w, bar_h, s.css)
            body += _text(x0 + w + 6, y + bar_h - 3, sa_int(int(value)), "value")
    for i, name in enumerate(labels):
        body += _text(label_w - 8, top + i * row_h + bar_h - 3, name, "axis", "end")
    parts = [
        f"{name}: {left.name.lower()} {sa_int(int(left.values[i]))}, {right.name.lower()} {sa_int(int(right.values[i]))}"
        for i, name in enumerate(labels)
    ]
    return _svg(chart_id, title, "; ".join(parts) or "No data.", height, body)


def load_bars(chart_id: str, title: str, labels: Sequence[str], current: Series, totals: Sequence[int]) -> Markup:
    """Open work per team as bars, with the team's all-time count written beside it."""
    label_w, row_h, bar_h, top = 170, 26, 16, 30
    plot_w = WIDTH - label_w - 150
    height = top + row_h * max(len(labels), 1) + 4
    peak = _nice_max(max(current.values, default=0))
    body = _rect(0, 8, 12, 12, current.css) + _text(18, 18, current.name, "legend")
    for i, name in enumerate(labels):
        y = top + i * row_h
        w = plot_w * current.values[i] / peak
        body += _text(label_w - 8, y + bar_h - 3, name[:24] + ("…" if len(name) > 24 else ""), "axis", "end")
        body += _rect(label_w, y, w, bar_h, current.css)
        body += _text(label_w + w + 6, y + bar_h - 3, sa_int(int(current.values[i])), "value")
        body += _text(WIDTH - 4, y + bar_h - 3, f"{sa_int(totals[i])} in all", "tick", "end")
    parts = [f"{name}: {sa_int(int(current.values[i]))} open of {sa_int(totals[i])}" for i, name in enumerate(labels)]
    return _svg(chart_id, title, "; ".join(parts) or "No active teams.", height, body)


def sla_meters(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]]) -> Markup:
    """One meter per SLA figure, coloured by band, with the 60 % and 80 % marks drawn in."""
    label_w, top, row_h, bar_h = 170, 10, 44, 22
    plot_w = WIDTH - label_w - 80
    height = top + row_h * len(rows) + 22
    body = Markup("")
    for i, (name, percent) in enumerate(rows):
        y = top + i * row_h
        body += _text(label_w - 8, y + bar_h / 2 + 5, name, "axis", "end")
        body += _rect(label_w, y, plot_w, bar_h, "track")
        if percent is not None:
            body += _rect(label_w, y, plot_w * percent / 100, bar_h, f"band-{percent_band(percent)}")
        body += _text(
            label_w + plot_w + 8,
            y + bar_h / 2 + 5,
            f"{sa_decimal(percent)} %" if percent is not None else "no data",
            "value",
        )
    bottom = top + row_h * len(rows) - 14
    for mark in (60, 80):
        x = label_w + plot_w * mark / 100
        body += Markup('<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" class="mark"/>').format(x, x, top - 4, bottom)
        body += _text(x, bottom + 14, f"{mark} %", "tick", "middle")
    desc = "; ".join(f"{name}: {sa_decimal(p)} %" if p is not None else f"{name}: no data" for name, p in rows)
    return _svg(chart_id, title, desc + ". Target 80 % or more.", height, body)


def trend_lines(chart_id: str, title: str, days: Sequence[date], series: Sequence[Series]) -> Markup:
    """Daily counts as lines, oldest day on the left, a tick each week."""
    left, right, top, bottom = 44, 16, 28, 30
    height = 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = _nice_max(max((v for s in series for v in s.values), default=0))
    n = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    body = _legend(series, 14)
    step = peak / 5 if peak >= 5 else 1.0  # whole-number ticks: counts have no fractions
    for k in range(round(peak / step) + 1):
        value = step * k
        body += Markup('<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/>').format(
            left, WIDTH - right, y(value), y(value)
        )
        body += _text(left - 6, y(value) + 4, sa_int(round(value)), "tick", "end")
    for i, day in enumerate(days):
        if (len(days) - 1 - i) % 7 == 0:
            anchor = "end" if i == len(days) - 1 else ("start" if i == 0 else "middle")
            body += _text(x(i), height - 10, f"{day.day} {sa_date(day).split()[1]}", "tick", anchor)
    for s in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        body += Markup('<polyline points="{}" class="line {}" fill="none"/>').format(points, s.css)
        if s.values:
            body += Markup('<circle cx="{:.1f}" cy="{:.1f}" r="3" class="{}"/>').format(
                x(len(s.values) - 1), y(s.values[-1]), s.css
            )
    totals = ", ".join(f"{s.name.lower()} {sa_int(int(sum(s.values)))}" for s in series)
    span = f"{sa_date(days[0])} to {sa_date(days[-1])}" if days else "no days"
    return _svg(chart_id, title, f"{span}: {totals}.", height, body)
