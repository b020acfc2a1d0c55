"""bench/run_all.py: the results page it writes and the benchmarks it runs (nothing here is timed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import figures, run_all


def test_record_appends_one_json_line_per_figure_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(figures.FIGURES_ENV, raising=False)
    figures.record("ignored", 1.0, "ms")  # no file named: nothing written, nothing raised
    out = tmp_path / "figures.jsonl"
    monkeypatch.setenv(figures.FIGURES_ENV, str(out))
    figures.record("switch p99", 8.5, "ms", at_most=10)
    figures.record("hooks", 1200.0, "hooks/s", at_least=1000)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["figure"] for line in lines] == ["switch p99", "hooks"]
    assert lines[0]["at_most"] == 10 and lines[1]["at_least"] == 1000


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert figures.percentile(values, 50) == 51.0  # rank round(0.5 * 99) = 50 → the 51st value
    assert figures.percentile(values, 99) == 99.0
    assert figures.percentile([3.0], 99) == 3.0


def test_page_marks_goals_met_and_missed_and_failed_benchmarks():
    bench = run_all.Bench("proxy", ("--switches", "10"))
    ok = run_all.Outcome(bench, 12.0, 0, "switch report\n")
    ok.figures = [
        {"figure": "switch p99", "value": 8.0, "unit": "ms", "at_most": 10, "at_least": None},
        {"figure": "hooks", "value": 900.0, "unit": "hooks/s", "at_most": None, "at_least": 1000},
        {"figure": "plain", "value": 3.0, "unit": "ms", "at_most": None, "at_least": None},
    ]
    timed_out = run_all.Outcome(run_all.Bench("peers"), 300.0, None, "")
    text = run_all.page([ok, timed_out], 312.0)
    assert "| switch p99 | 8 ms | ≤ 10 ms | yes | `proxy` |" in text
    assert "| hooks | 900 hooks/s | ≥ 1000 hooks/s | **no** | `proxy` |" in text
    assert "| plain | 3 ms |  |  | `proxy` |" in text
    assert "| peers: **timed out** |" in text
    assert "### `bench/proxy.py --switches 10` (12 s)" in text and "switch report" in text
    assert f"{run_all.os.cpu_count()} cores" in text


@pytest.mark.parametrize("bench", run_all.BENCHES, ids=lambda b: b.name)
def test_every_benchmark_takes_the_options_run_all_gives_it(bench):
    """run_all's small sizes are real flags of each script (a renamed flag would fail the whole run)."""
    done = subprocess.run(
        [sys.executable, str(run_all.ROOT / "bench" / f"{bench.name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for option in (arg for arg in bench.args if arg.startswith("--")):
        assert option in done.stdout, f"{bench.name}.py has no {option}"


def test_step_table_has_one_row_per_step_with_values():
    samples = [{"build": 1.0, "push": 0.5}, {"build": 3.0}]
    text = figures.table(samples, ["build", "push", "absent"], "step")
    lines = text.splitlines()
    assert len(lines) == 3 and lines[0].startswith("step")
    assert lines[1].split() == ["build", "2", "2.000", "3.000"]
    assert lines[2].split() == ["push", "1", "0.500", "0.500"]
