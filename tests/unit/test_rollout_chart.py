"""The rollout chart drawn on the server: axes, legend, one line per side, gaps where a sample has no value."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from totem_dashboard import rollout_chart

SVG = "{http://www.w3.org/2000/svg}"


def sample(second: int, weight: int, canary: dict, stable: dict) -> dict:
    return {"at": f"2026-01-01T00:00:{second:02d}Z", "weight": weight, "canary": canary, "stable": stable}


SAMPLES = [
    sample(0, 5, {"error-rate": 0.01, "latency": 0.2}, {"error-rate": 0.0, "latency": 0.1}),
    sample(10, 5, {"error-rate": 0.02, "latency": None}, {"error-rate": 0.002, "latency": 0.12}),
    sample(20, 25, {"error-rate": 0.03, "latency": 0.3}, {"error-rate": 0.001, "latency": 0.11}),
    sample(30, 25, {"error-rate": 0.04, "latency": 0.35}, {"error-rate": 0.001, "latency": 0.1}),
]


def parsed(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # well-formed XML: inline SVG the browser draws as is


def points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def test_one_chart_per_metric_with_axes_legend_and_both_sides():
    error_rate, latency = (parsed(svg) for svg in rollout_chart.charts(SAMPLES))
    assert error_rate.get("data-metric") == "error-rate" and latency.get("data-metric") == "latency"
    texts = [t.text for t in error_rate.iter(SVG + "text")]
    assert "Error rate (%)" in texts and "stable" in texts and "canary" in texts
    assert "0s" in texts and "+30s" in texts and "5" in texts  # the y axis tops out at a round 5 %
    assert [t.text for t in latency.iter(SVG + "text")][0] == "Latency (ms)"
    sides = {line.get("data-series"): points(line) for line in error_rate.iter(SVG + "polyline")}
    assert set(sides) == {"stable", "canary"} and len(sides["canary"]) == 4
    xs = [x for x, _ in sides["canary"]]
    assert xs == sorted(xs) and xs[0] == rollout_chart.LEFT and xs[-1] == rollout_chart.WIDTH - rollout_chart.RIGHT
    canary_y = [y for _, y in sides["canary"]]
    assert canary_y == sorted(canary_y, reverse=True)  # a rising error rate climbs towards the top


def test_weight_changes_are_marked():
    svg = parsed(rollout_chart.charts(SAMPLES)[0])
    marks = [t.text for t in svg.iter(SVG + "text") if t.get("class") == "chart-weight"]
    assert marks == ["5%", "25%"]


def test_a_missing_value_breaks_the_line():
    latency = parsed(rollout_chart.charts(SAMPLES)[1])
    canary = [e for e in latency if e.get("data-series") == "canary"]
    shapes = [(e.tag.removeprefix(SVG), len(points(e)) if e.tag.endswith("polyline") else 1) for e in canary]
    assert shapes == [("circle", 1), ("polyline", 2)]


def test_nothing_to_draw_without_samples_and_untrusted_text_stays_out():
    assert rollout_chart.charts(None) == [] and rollout_chart.charts([]) == []
    odd = [{"at": "<script>", "weight": "<b>", "canary": {"error-rate": "<x>"}, "stable": {"error-rate": True}}]
    svg = str(rollout_chart.charts(odd)[0])
    assert "<script>" not in svg and "<b>" not in svg and "<x>" not in svg
    assert not re.search(r"<polyline|<circle", svg)  # no numeric value: no line, but the axes are there
    parsed(svg)


def test_samples_without_times_are_spread_evenly():
    even = [dict(s, at=None) for s in SAMPLES]
    line = next(
        e for e in parsed(rollout_chart.charts(even)[0]).iter(SVG + "polyline") if e.get("data-series") == "stable"
    )
    xs = [x for x, _ in points(line)]
    gaps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    assert max(gaps) - min(gaps) < 0.5  # equal steps, up to the coordinates' rounding
