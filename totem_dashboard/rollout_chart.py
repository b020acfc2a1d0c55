"""A rollout's error rate and latency, stable vs canary, as inline SVG drawn on the server: polylines on
two axes with a legend, no script and nothing fetched from elsewhere (the page's CSP allows neither)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from totem_dashboard.times import epoch

WIDTH, HEIGHT = 520, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 26
SERIES = (("stable", "#2f5fd0"), ("canary", "#d9822b"))


@dataclass(frozen=True)
class Metric:
    key: str  # the field of a sample's "canary"/"stable" side
    title: str
    scale: float  # shown value = stored value × scale
    unit: str


ERROR_RATE = Metric("error-rate", "Error rate", 100.0, "%")
LATENCY = Metric("latency", "Latency", 1000.0, "ms")
METRICS = (ERROR_RATE, LATENCY)


def charts(samples: list[dict] | None) -> list[Markup]:
    """One chart per metric; none when there is nothing to draw yet."""
    samples = [s for s in samples or [] if isinstance(s, dict)]
    if not samples:
        return []
    return [chart(samples, metric) for metric in METRICS]


def chart(samples: list[dict], metric: Metric) -> Markup:
    xs = _times(samples)
    lines = {
        side: [_value(sample, side, metric) for sample in samples] for side, _ in SERIES
    }  # side -> shown values, None where the sample has none
    known = [v for values in lines.values() for v in values if v is not None]
    top = _ceiling(max(known, default=0.0))
    span = (xs[-1] - xs[0]) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def point(x: float, y: float) -> tuple[float, float]:
        return LEFT + (x - xs[0]) / span * plot_w, TOP + plot_h - (y / top) * plot_h

    parts = [
        f'<svg class="chart" data-metric="{metric.key}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(metric.title)}, stable and canary" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(metric.title)} ({escape(metric.unit)}), stable vs canary</title>",
        f'<text x="{LEFT}" y="14" class="chart-title">{escape(metric.title)} ({escape(metric.unit)})</text>',
    ]
    for fraction in (0.0, 0.5, 1.0):  # y axis ticks with faint grid lines
        _, y = point(xs[0], top * fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(top * fraction)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" class="chart-axis"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="chart-axis"/>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}">0s</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">+{_label(xs[-1] - xs[0])}s</text>')
    for x, weight in _weight_changes(xs, samples):  # where the canary's weight moved, and to what
        px, _ = point(x, 0.0)
        parts.append(f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{TOP + plot_h}" class="chart-step"/>')
        parts.append(f'<text x="{px + 3:.1f}" y="{TOP + 10}" class="chart-weight">{weight}%</text>')
    for side, colour in SERIES:
        for segment in _segments(xs, lines[side]):
            points = [point(x, y) for x, y in segment]
            if len(points) == 1:
                (cx, cy) = points[0]
                parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{colour}" data-series="{side}"/>')
            else:
                shown = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(
                    f'<polyline points="{shown}" fill="none" stroke="{colour}" stroke-width="2" data-series="{side}"/>'
                )
    for index, (side, colour) in enumerate(SERIES):  # the legend, top right
        x = WIDTH - RIGHT - 150 + index * 75
        parts.append(f'<rect x="{x}" y="6" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="12" class="chart-legend">{side}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _times(samples: list[dict]) -> list[float]:
    """Seconds since the first sample; the samples' order when their times are missing or out of order."""
    found = [epoch(s.get("at")) for s in samples]
    stamps = [t for t in found if t is not None]
    if len(stamps) < len(found) or any(b < a for a, b in zip(stamps, stamps[1:], strict=False)):
        return [float(i) for i in range(len(samples))]
    return [t - stamps[0] for t in stamps]


def _weight_changes(xs: list[float], samples: list[dict]) -> list[tuple[float, int]]:
    changes, last = [], None
    for x, sample in zip(xs, samples, strict=True):
        weight = sample.get("weight")
        if isinstance(weight, int) and not isinstance(weight, bool) and weight != last:
            changes.append((x, weight))
            last = weight
    return changes


def _value(sample: dict, side: str, metric: Metric) -> float | None:
    value = (sample.get(side) or {}).get(metric.key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) * metric.scale


def _segments(xs: list[float], values: list[float | None]) -> list[list[tuple[float, float]]]:
    """Runs of known values: a sample without a value breaks the line instead of dropping it to zero."""
    segments: list[list[tuple[float, float]]] = [[]]
    for x, value in zip(xs, values, strict=True):
        if value is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((x, value))
    return [s for s in segments if s]


def _ceiling(value: float) -> float:
    """A round top for the y axis at or above `value` (1, 2 or 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** _floor_log10(value)
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value, exponent = value / 10, exponent + 1
    while value < 1:
        value, exponent = value * 10, exponent - 1
    return exponent


def _label(value: float) -> str:
    return f"{value:.3g}"
