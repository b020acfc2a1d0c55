"""What every benchmark shares: percentiles, and the headline figures `bench/run_all.py` collects.

A benchmark prints its own report; `record` adds one headline figure to the file named by
TOTEM_BENCH_FIGURES (one JSON object a line) when run_all set it, and does nothing otherwise.
"""

from __future__ import annotations

import json
import os
import statistics

FIGURES_ENV = "TOTEM_BENCH_FIGURES"


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (`pct` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def table(samples: list[dict[str, float]], names: list[str], title: str) -> str:
    """Seconds per named step over `samples`: n, median and p90, one row a step that has values."""
    rows = [f"{title:<30} {'n':>3} {'median s':>9} {'p90 s':>8}"]
    for name in names:
        values = [s[name] for s in samples if name in s]
        if values:
            rows.append(f"{name:<30} {len(values):>3} {statistics.median(values):>9.3f} {percentile(values, 90):>8.3f}")
    return "\n".join(rows)


def record(
    figure: str, value: float, unit: str, *, at_most: float | None = None, at_least: float | None = None
) -> None:
    """One headline figure, with the goal it is held to (`at_most` or `at_least`), if any."""
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    line = {"figure": figure, "value": value, "unit": unit, "at_most": at_most, "at_least": at_least}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
