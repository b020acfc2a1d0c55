"""deployer.analysis: placeholders, refused names, and verdicts from answers in Prometheus' own
/api/v1/query format (a loopback stand-in here; tests/integration/test_analysis_prometheus.py
runs the real HAProxy and Prometheus)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from deployer import analysis
from deployer.analysis import AnalysisUnavailable, InvalidAnalysis, Result, Verdict
from tests.support import send_json, serve_http
from totem.errors import TotemError
from totem.net import free_port

CANARY, STABLE = "u_app-v2-8080", "u_app-v1-8080"


def vector(*values: str) -> dict:
    samples = [{"metric": {"proxy": CANARY, "instance": f"p{i}"}, "value": [1.7e9, v]} for i, v in enumerate(values)]
    return {"status": "success", "data": {"resultType": "vector", "result": samples}}


def scalar(value: str) -> dict:
    return {"status": "success", "data": {"resultType": "scalar", "result": [1.7e9, value]}}


def prometheus(answer: Callable[[str], tuple[int, dict]], seen: list[str] | None = None):
    """A loopback server answering POST /api/v1/query with `answer(query)`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            query = parse_qs(self.rfile.read(length).decode())["query"][0]
            if seen is not None:
                seen.append(query)
            send_json(self, *(answer(query) if self.path == "/api/v1/query" else (404, {})))

        def log_message(self, *args: object) -> None:
            pass

    return serve_http(Handler)


def by_check(requests: str = "40", error_rate: str = "0.01", latency: str = "1.1"):
    """Answers for the default checks, told apart by the metric each one reads."""

    def answer(query: str) -> tuple[int, dict]:
        if query == analysis.fill(analysis.REQUESTS_QUERY, CANARY, STABLE, "30s"):
            return 200, vector(requests) if requests else vector()
        if "response_time" in query:
            return 200, vector(latency) if latency else vector()
        return 200, vector(error_rate) if error_rate else vector()

    return answer


# -- placeholders ----------------------------------------------------------------------------------
def test_fill_replaces_every_placeholder():
    query = 'sum(rate(x{proxy="{canary}"}[{window}])) / sum(rate(x{proxy="{stable}"}[{window}]))'
    assert analysis.fill(query, CANARY, STABLE, "30s") == (
        f'sum(rate(x{{proxy="{CANARY}"}}[30s])) / sum(rate(x{{proxy="{STABLE}"}}[30s]))'
    )


@pytest.mark.parametrize("name", ['u_a"}', "u_a b", "u_a\n", "", "u_{stable}", "u_a|b", "ü"])
def test_fill_refuses_names_that_could_change_the_query(name):
    with pytest.raises(InvalidAnalysis):
        analysis.fill("{canary}", name, STABLE, "30s")
    with pytest.raises(InvalidAnalysis):
        analysis.fill("{stable}", CANARY, name, "30s")


def test_window_is_whole_seconds():
    assert [analysis.window_text(s) for s in (0, 0.2, 5, 30.2)] == ["1s", "1s", "5s", "31s"]
    with pytest.raises(InvalidAnalysis):
        analysis.window_text(math.inf)
    with pytest.raises(InvalidAnalysis):
        analysis.fill("{window}", CANARY, STABLE, "1m]) or up[")


def test_default_checks_are_valid_checks():
    analysis.check_checks(analysis.DEFAULT_CHECKS)
    assert [c["name"] for c in analysis.DEFAULT_CHECKS] == ["error-rate", "latency"]
    assert all("{canary}" in c["query"] and "{stable}" in c["query"] for c in analysis.DEFAULT_CHECKS)


@pytest.mark.parametrize(
    "check",
    [
        {"name": "Bad_Name", "query": "up", "max": 1},
        {"name": "x", "query": "", "max": 1},
        {"name": "x", "query": "u" * 2001, "max": 1},
        {"name": "x", "query": "up", "max": 1, "min": 0},
        {"name": "x", "query": "up"},
        {"name": "x", "query": "up", "max": "1"},
        {"name": "x", "query": "up", "max": True},
    ],
)
def test_bad_checks_are_refused_before_any_query(check):
    with pytest.raises(InvalidAnalysis):
        analysis.judge(f"http://127.0.0.1:{free_port()}", CANARY, STABLE, 30, [check], 1)


# -- verdicts ----------------------------------------------------------------------------------------
def test_healthy_canary_passes():
    seen: list[str] = []
    with prometheus(lambda q: by_check()(q), seen) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, None, 20)
    assert (verdict.ok, verdict.requests, verdict.failed) == (True, 40.0, [])
    assert [(r.name, r.value, r.max, r.ok) for r in verdict.results] == [
        ("error-rate", 0.01, 0.05, True),
        ("latency", 1.1, 1.5, True),
    ]
    assert all("{" + p + "}" not in q for q in seen for p in ("canary", "stable", "window"))
    assert all(r.query in seen for r in verdict.results)


def test_a_check_over_its_max_fails_the_step():
    with prometheus(by_check(error_rate="0.3")) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, None, 20)
    assert verdict.ok is False
    assert [r.name for r in verdict.failed] == ["error-rate"]


def test_too_few_requests_is_inconclusive_not_failed():
    with prometheus(by_check(requests="19", error_rate="0.9")) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, None, 20)
    assert (verdict.ok, verdict.requests) == (None, 19.0)
    with prometheus(by_check(requests="")) as url:  # no series for the canary at all: no requests
        assert analysis.judge(url, CANARY, STABLE, 30, None, 1).requests == 0.0


def test_a_check_without_data_is_inconclusive():
    with prometheus(by_check(latency="")) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, None, 20)
    latency = verdict.results[1]
    assert (verdict.ok, latency.value, latency.ok) == (None, None, None)
    with prometheus(by_check(latency="NaN")) as url:  # 0/0: no data either
        assert analysis.judge(url, CANARY, STABLE, 30, None, 20).results[1].value is None


def test_a_failure_wins_over_a_check_without_data():
    with prometheus(by_check(latency="", error_rate="0.5")) as url:
        assert analysis.judge(url, CANARY, STABLE, 30, None, 20).ok is False


def test_custom_checks_replace_the_defaults_and_min_bounds_work():
    checks = [{"name": "throughput", "query": 'sum(rate(x{proxy="{canary}"}[{window}]))', "min": 2}]

    def answer(query: str) -> tuple[int, dict]:
        return 200, vector("40") if "requests_total" in query else scalar("1.5")

    with prometheus(answer) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, checks, 20)
    assert [(r.name, r.value, r.min, r.max, r.ok) for r in verdict.results] == [("throughput", 1.5, 2, None, False)]
    assert verdict.results[0].query == f'sum(rate(x{{proxy="{CANARY}"}}[30s]))'


def test_several_series_are_judged_by_the_worst():
    checks = [{"name": "hi", "query": "a", "max": 1}, {"name": "lo", "query": "b", "min": 1}]
    with prometheus(lambda q: (200, vector("40") if "requests" in q else vector("0.5", "3", "2"))) as url:
        verdict = analysis.judge(url, CANARY, STABLE, 30, checks, 20)
    assert [(r.value, r.ok) for r in verdict.results] == [(3.0, False), (0.5, False)]


def test_query_error_and_unreachable_prometheus_are_unavailable():
    refusal = {"status": "error", "errorType": "bad_data", "error": '1:5: parse error: unexpected "}"'}
    with prometheus(lambda q: (400, refusal)) as url:
        with pytest.raises(AnalysisUnavailable, match="parse error"):
            analysis.judge(url, CANARY, STABLE, 30, None, 20)
    with pytest.raises(AnalysisUnavailable, match="cannot be reached"):
        analysis.judge(f"http://127.0.0.1:{free_port()}", CANARY, STABLE, 30, None, 20)
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    with prometheus(lambda q: (200, matrix)) as url:
        with pytest.raises(AnalysisUnavailable, match="matrix"):
            analysis.judge(url, CANARY, STABLE, 30, None, 20)
    assert issubclass(AnalysisUnavailable, TotemError) and issubclass(InvalidAnalysis, TotemError)


def test_sample_gives_each_backend_on_its_own():
    seen: list[str] = []

    def answer(query: str) -> tuple[int, dict]:
        if STABLE in query:
            return 200, vector()
        return 200, vector("0.25" if "response_time" in query else "12" if "5xx" not in query else "0.1")

    with prometheus(answer, seen) as url:
        point = analysis.sample(url, CANARY, STABLE, 30)
    assert point == {
        "canary": {"error-rate": 0.1, "latency": 0.25, "requests": 12.0},
        "stable": {"error-rate": None, "latency": None, "requests": None},
    }
    assert not any(CANARY in q and STABLE in q for q in seen)


def test_as_dict_is_json_safe():
    result = Result("latency", "q", math.inf, 1.5, None, False)
    verdict = Verdict(False, [result], 25.0)
    assert json.loads(json.dumps(verdict.as_dict(), allow_nan=False)) == {
        "ok": False,
        "requests": 25.0,
        "results": [{"name": "latency", "query": "q", "value": None, "max": 1.5, "min": None, "ok": False}],
    }
    assert verdict.failed == [result]
