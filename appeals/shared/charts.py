"""Server-rendered SVG charts: the manager's dashboard (appeals.sla.web), the account health
on the case page (appeals.evidence.web).

Why SVG from the server and not a JavaScript chart library: the figures are already computed
by the database (appeals.sla.reports); drawing them as inline SVG needs no script at all, so the
charts show with JavaScript off, under a strict Content-Security-Policy (no inline script, no
inline style: colours are presentation attributes), with nothing to vendor or keep up to date.
Each chart has a viewBox and width 100%, so it scales down to a 390 px phone; the numbers behind
it are in a table under it and in its CSV.

Every piece of text goes through format_html (escaped).
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

W, H = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 12, 34
PALETTE = ("#1f5fbf", "#c62828", "#2e7d32", "#b26a00", "#6a3d9a", "#00838f", "#5f6b7a")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4) if value > step * 2 else float(step * 2) if value > step else float(step)
    return float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _frame(title: str, peak: float, labels: list[str], unit: str) -> tuple[SafeString, float, float, float]:
    """Axes, grid lines and x labels; returns (svg, plot width, plot height, slot width)."""
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    grid = []
    for i in range(5):
        v = peak * i / 4
        y = TOP + ph - ph * i / 4
        grid.append((LEFT, round(y, 1), W - RIGHT, round(y, 1), LEFT - 3, round(y + 3.5, 1), _fmt(v)))
    slot = pw / max(1, len(labels))
    every = max(1, round(len(labels) / 6 + 0.49))
    xl = [(round(LEFT + slot * (i + 0.5), 1), H - BOTTOM + 14, label) for i, label in enumerate(labels) if i % every == 0]
    svg = format_html(
        '{}{}<text x="2" y="{}" font-size="10" fill="#5f6b7a">{}</text>',
        format_html_join("", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dde2ea" stroke-width="1"/>'
                             '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#5f6b7a">{}</text>', grid),
        format_html_join("", '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#1d2330">{}</text>', xl),
        H - 4, unit,
    )
    return svg, pw, ph, slot


def _wrap(title: str, body: SafeString, kind: str, desc: str = "") -> SafeString:
    if desc:
        return format_html(
            '<svg class="chart-svg chart-{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet">'
            "<title>{}</title><desc>{}</desc>{}</svg>",
            kind, title, W, H, title, desc, body,
        )
    return format_html(
        '<svg class="chart-svg chart-{}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title>{}</svg>",
        kind, title, W, H, title, body,
    )


THRESHOLD_COLOUR = "#3b4352"  # not a series colour: a threshold is not data


def _threshold_lines(thresholds, peak: float, ph: float) -> SafeString:
    """Dashed horizontal lines at the given values, each labelled at its right end."""
    lines = []
    for name, value in thresholds:
        y = round(TOP + ph - ph * min(value, peak) / peak, 1)
        lines.append((LEFT, y, W - RIGHT, y, THRESHOLD_COLOUR, name, _fmt(value), W - RIGHT - 2, round(y - 3, 1),
                      THRESHOLD_COLOUR, name, _fmt(value)))
    return format_html_join(
        "", '<line class="threshold" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5" stroke-dasharray="5 3">'
            "<title>{} {}</title></line>"
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="{}">{} {}</text>', lines)


def line_chart(*, title: str, labels: list[str], series: list[tuple[str, list]], unit: str = "", peak: float | None = None,
               thresholds: tuple = (), desc: str = "") -> SafeString:
    """One line per series over the labels; None is a gap. series: [(name, values)];
    thresholds: [(name, value)] drawn as dashed lines; desc: the chart's <desc>."""
    values = [v for _name, vs in series for v in vs if v is not None]
    if not labels:
        return mark_safe("")
    peak = peak or _nice_max(max([*values, *(v for _n, v in thresholds)], default=0))
    frame, _pw, ph, slot = _frame(title, peak, labels, unit)
    parts = [frame, _threshold_lines(thresholds, peak, ph)]
    for n, (name, vs) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(round(LEFT + slot * (i + 0.5), 1), None if v is None else round(TOP + ph - ph * min(v, peak) / peak, 1), v)
                  for i, v in enumerate(vs)]
        runs, run = [], []
        for x, y, v in points:
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((x, y))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                parts.append(format_html('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>', colour,
                                         " ".join(f"{x},{y}" for x, y in r)))
        parts.append(format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}</title></circle>',
                                      ((x, y, colour, name, labels[i], _fmt(v)) for i, (x, y, v) in enumerate(points) if v is not None)))
    return _wrap(title, mark_safe("".join(parts)), "line", desc)  # noqa: S308 - every part is format_html output


def bar_chart(*, title: str, labels: list[str], series: list[tuple[str, list]], unit: str = "", stacked: bool = False,
              thresholds: tuple = (), desc: str = "") -> SafeString:
    """Bars per label: grouped side by side, or stacked. series: [(name, values)];
    thresholds: [(name, value)] drawn as dashed lines; desc: the chart's <desc>."""
    if not labels:
        return mark_safe("")
    if stacked:
        top = max((sum(vs[i] or 0 for _n, vs in series) for i in range(len(labels))), default=0)
    else:
        top = max((v or 0 for _n, vs in series for v in vs), default=0)
    peak = _nice_max(max([top, *(v for _n, v in thresholds)]))
    frame, _pw, ph, slot = _frame(title, peak, labels, unit)
    rects = []
    inner = slot * 0.7
    for i, label in enumerate(labels):
        x0 = LEFT + slot * i + (slot - inner) / 2
        base = 0.0
        for n, (name, vs) in enumerate(series):
            v = vs[i] or 0
            h = ph * v / peak
            if stacked:
                x, w, y = x0, inner, TOP + ph - ph * base / peak - h
                base += v
            else:
                w = inner / len(series)
                x, y = x0 + n * w, TOP + ph - h
            if v:
                rects.append((round(x, 1), round(y, 1), round(max(w - 1, 1), 1), round(h, 1), PALETTE[n % len(PALETTE)], name, label, _fmt(v)))
    body = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>', rects)
    return _wrap(title, format_html("{}{}{}", frame, body, _threshold_lines(thresholds, peak, ph)), "bar", desc)


def legend(names: list[str]) -> SafeString:
    return format_html(
        '<ul class="legend">{}</ul>',
        format_html_join("", '<li><span class="swatch" aria-hidden="true" data-colour="{}"><svg viewBox="0 0 10 10" width="10" height="10">'
                             '<rect width="10" height="10" fill="{}"/></svg></span>{}</li>',
                         ((PALETTE[n % len(PALETTE)], PALETTE[n % len(PALETTE)], name) for n, name in enumerate(names))),
    )
