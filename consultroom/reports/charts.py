"""Bar charts as inline SVG, drawn on the server: no script (the CSP allows none inline, and we load
none from a CDN) and no style attributes (style-src 'self'), only presentation attributes.

Each chart is role="img" labelled by its <title> and <desc>; the page puts the same figures in a
table next to it, so the chart is never the only way to read them. The bars of a series are one
<path>, not an element and a tooltip per bar: a year's staff report drew about 190 of those, a sixth
of its elements (issue 16 item 6).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

# Every bar colour is at least 3:1 against the white background (WCAG 1.4.11, non-text contrast);
# Bootstrap's orange (#fd7e14, 2.6:1) is darkened to #b35900 (4.8:1).
PALETTE = ("#0d6efd", "#198754", "#b35900", "#6f42c1")
FONT = "system-ui, sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


def _nice_max(value: int) -> int:
    """A round axis maximum >= value (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _head(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    t, d = f"{chart_id}-title", f"{chart_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(t)} {escape(d)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{escape(t)}">{escape(title)}</title>',
        f'<desc id="{escape(d)}">{escape(desc)}</desc>',
    ]


def _legend(series: list[Series], x: int, y: int) -> list[str]:
    parts = []
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"></rect>')
        parts.append(f'<text x="{x + 16}" y="{y}">{escape(s.name)}</text>')
        # Hangul is about twice as wide as Latin letters at this size.
        x += 28 + sum(7 if ch.isascii() else 13 for ch in s.name)
    return parts


def _bars(color: str, boxes: list[tuple[float, float, float, float]]) -> str:
    """One path drawing every non-empty box (x, y, width, height) of a series."""
    d = "".join(f"M{x:g} {y:g}h{w:g}v{h:g}h{-w:g}z" for x, y, w, h in boxes if w > 0 and h > 0)
    return f'<path fill="{color}" d="{d}"></path>' if d else ""


def column_chart(*, chart_id: str, title: str, desc: str, labels: list[str], series: list[Series]) -> Markup:
    """Vertical bars, one group per label (e.g. a month), one bar per series in the group."""
    n = max(len(labels), 1)
    group_w = 56
    left, right, top, bottom = 44, 10, 30, 40
    width = left + n * group_w + right
    height = 240
    plot_h = height - top - bottom
    peak = _nice_max(max((v for s in series for v in s.values), default=0))
    parts = _head(chart_id, title, desc, width, height)
    parts += _legend(series, left, 16)
    for tick in (0, peak // 2 if peak > 1 else None, peak):
        if tick is None:
            continue
        y = top + plot_h - round(plot_h * tick / peak)
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#dee2e6"></line>')
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="#6c757d">{tick}</text>')
    bar_w = max(6, (group_w - 12) // max(len(series), 1))
    boxes: list[list[tuple[float, float, float, float]]] = [[] for _ in series]
    for gi, label in enumerate(labels):
        gx = left + gi * group_w + 6
        for si, s in enumerate(series):
            value = s.values[gi]
            h = round(plot_h * value / peak)
            x = gx + si * bar_w
            y = top + plot_h - h
            boxes[si].append((x, y, bar_w - 2, h))
            if value:
                parts.append(
                    f'<text x="{x + (bar_w - 2) / 2:g}" y="{y - 3}" text-anchor="middle" font-size="10">{value}</text>'
                )
        parts.append(
            f'<text x="{left + gi * group_w + group_w / 2:g}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts += [_bars(PALETTE[si % len(PALETTE)], b) for si, b in enumerate(boxes)]
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#6c757d"></line>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped


def bar_chart(*, chart_id: str, title: str, desc: str, labels: list[str], series: list[Series]) -> Markup:
    """Horizontal bars, one row per label (e.g. a country), one bar per series in the row."""
    rows = max(len(labels), 1)
    row_h = 10 + 14 * len(series)
    left, right, top, bottom = 150, 50, 30, 10
    width = 640
    height = top + rows * row_h + bottom
    plot_w = width - left - right
    peak = _nice_max(max((v for s in series for v in s.values), default=0))
    parts = _head(chart_id, title, desc, width, height)
    parts += _legend(series, left, 16)
    boxes: list[list[tuple[float, float, float, float]]] = [[] for _ in series]
    for ri, label in enumerate(labels):
        ry = top + ri * row_h
        parts.append(f'<text x="{left - 6}" y="{ry + row_h / 2 + 4:g}" text-anchor="end">{escape(label[:24])}</text>')
        for si, s in enumerate(series):
            value = s.values[ri]
            w = round(plot_w * value / peak)
            y = ry + 5 + si * 14
            boxes[si].append((left, y, w, 12))
            parts.append(f'<text x="{left + w + 4}" y="{y + 10}" font-size="10">{value}</text>')
    parts += [_bars(PALETTE[si % len(PALETTE)], b) for si, b in enumerate(boxes)]
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#6c757d"></line>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
