"""Judging one canary step with Prometheus (docs/canary.md, "Analysis").

A check is PromQL with the placeholders {canary} and {stable} (HAProxy backend names, `u_<upstream>`)
and {window} (a Prometheus duration, "30s"), and a bound: `max` (fails above) or `min` (fails
below). Without checks of its own a deployment gets DEFAULT_CHECKS:

- error-rate: the canary's 5xx ratio over the window minus the stable's; max 0.05.
- latency: the canary's average response time over the stable's (taken as at least
  LATENCY_FLOOR_S); max 1.5. HAProxy 2.6 exports no latency histogram, only a moving average of
  each backend's last 512 responses (`haproxy_backend_response_time_average_seconds`, whole
  milliseconds), corrected here for backends that served fewer; so this is a ratio of averages, and
  the floor keeps two fast backends from failing on noise (a canary within 75 ms always passes).

Before any verdict the canary needs `min_requests` requests in the window; with fewer, or when a
check has no data, the verdict is inconclusive (None): the caller judges again later.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from totem.contracts.canary import CHECK_NAME_PATTERN
from totem.errors import TotemError

BACKEND_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")  # what may be put into a query's label matchers
LATENCY_FLOOR_S = 0.05
QUERY_TIMEOUT_S = 5.0
MAX_QUERY = 2000

_5XX = 'haproxy_backend_http_responses_total{{proxy="{b}",code="5xx"}}'
_REQUESTS = 'haproxy_backend_http_requests_total{{proxy="{b}"}}'
# HAProxy averages response times over its last TIME_STATS_SAMPLES (512 in 2.6, whatever its help
# text says) as sum/512, so until a backend has served 512 requests the gauge reads n/512 of the
# truth; dividing by 1 - (511/512)^n undoes that (n: the backend's requests since the worker started,
# which is also when the average restarts). Measured: 40 requests of 300 ms read 0.024, corrected 0.319.
HAPROXY_TIME_SAMPLES = 512
_LATENCY = (
    'haproxy_backend_response_time_average_seconds{{proxy="{b}"}} / (1 - '
    f"({HAPROXY_TIME_SAMPLES - 1}/{HAPROXY_TIME_SAMPLES}) ^ "
    'clamp_min(haproxy_backend_http_requests_total{{proxy="{b}"}}, 1))'
)


def _requests(b: str) -> str:
    return f"sum(increase({_REQUESTS.format(b=b)}[{{window}}]))"


def _error_ratio(b: str) -> str:
    return f"(sum(increase({_5XX.format(b=b)}[{{window}}])) / clamp_min({_requests(b)}, 1))"


# Stable's part falls back to 0 (`or vector(0)`) so a stable without metrics still lets the canary be
# judged on its own; a canary without metrics gives no value (inconclusive).
DEFAULT_CHECKS: list[dict] = [
    {
        "name": "error-rate",
        "query": f"{_error_ratio('{canary}')} - ({_error_ratio('{stable}')} or vector(0))",
        "max": 0.05,
    },
    {
        "name": "latency",
        "query": f"max({_LATENCY.format(b='{canary}')}) / "
        f"clamp_min(max({_LATENCY.format(b='{stable}')}) or vector(0), {LATENCY_FLOOR_S})",
        "max": 1.5,
    },
]
REQUESTS_QUERY = _requests("{canary}")
SAMPLES = {  # per backend, for the rollout chart ({canary} stands for each backend in turn)
    "error-rate": _error_ratio("{canary}"),
    "latency": f"max({_LATENCY.format(b='{canary}')})",
    "requests": REQUESTS_QUERY,
}


class AnalysisUnavailable(TotemError):
    """Prometheus cannot be asked, or refused a query: no verdict now (the caller retries)."""


class InvalidAnalysis(TotemError, ValueError):
    """A backend name or a check that must not reach Prometheus."""


@dataclass
class Result:
    name: str
    query: str  # as run, placeholders filled in
    value: float | None  # None: no data
    max: float | None = None
    min: float | None = None
    ok: bool | None = None  # None: no data

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: an infinite value (a ratio over nothing) is shown as None, `ok` still says."""
        shown = asdict(self)
        shown["value"] = _finite(self.value)
        return shown


@dataclass
class Verdict:
    ok: bool | None  # True pass, False fail, None inconclusive
    results: list[Result] = field(default_factory=list)
    requests: float = 0.0  # canary requests in the window

    @property
    def failed(self) -> list[Result]:
        return [result for result in self.results if result.ok is False]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "requests": self.requests, "results": [r.as_dict() for r in self.results]}


def window_text(seconds: float) -> str:
    """A Prometheus duration of whole seconds, at least 1s."""
    if not math.isfinite(seconds):
        raise InvalidAnalysis(f"window {seconds!r} must be a number of seconds")
    return f"{max(1, math.ceil(seconds))}s"


def fill(query: str, canary: str, stable: str, window: str) -> str:
    """`query` with its placeholders replaced; refuses names that could change the query's meaning."""
    for role, name in (("canary", canary), ("stable", stable)):
        if not BACKEND_NAME.fullmatch(name):
            raise InvalidAnalysis(f"{role} backend {name!r} must match {BACKEND_NAME.pattern}")
    if not re.fullmatch(r"[1-9][0-9]{0,8}s", window):
        raise InvalidAnalysis(f"window {window!r} must be whole seconds such as 30s")
    return query.replace("{canary}", canary).replace("{stable}", stable).replace("{window}", window)


def check_checks(checks: list[dict]) -> None:
    """What the deploy request's schema (totem.contracts.canary.CHECK_SCHEMA) already ensures,
    checked again before a query is sent."""
    for check in checks:
        name, query = check.get("name"), check.get("query")
        bounds = [key for key in ("max", "min") if key in check]
        if not isinstance(name, str) or not re.fullmatch(CHECK_NAME_PATTERN, name):
            raise InvalidAnalysis(f"check name {name!r} must match {CHECK_NAME_PATTERN}")
        if not isinstance(query, str) or not 0 < len(query) <= MAX_QUERY:
            raise InvalidAnalysis(f"check {name}: query must be 1 to {MAX_QUERY} characters")
        if len(bounds) != 1 or not _is_number(check[bounds[0]]):
            raise InvalidAnalysis(f"check {name}: exactly one of max and min, a number")


def judge(
    prometheus_url: str,
    canary: str,
    stable: str,
    window_seconds: float,
    checks: list[dict] | None = None,
    min_requests: int = 20,
) -> Verdict:
    """The verdict on the canary backend against the stable one over the last `window_seconds`.
    Raises AnalysisUnavailable (Prometheus away or a query refused) and InvalidAnalysis."""
    checks = DEFAULT_CHECKS if checks is None else checks
    check_checks(checks)
    window = window_text(window_seconds)
    asked = fill(REQUESTS_QUERY, canary, stable, window)
    counted = _value(_query(prometheus_url, asked), "max")
    results = [_run(prometheus_url, check, fill(check["query"], canary, stable, window)) for check in checks]
    requests_seen = 0.0 if counted is None else counted
    if requests_seen < min_requests:
        ok = None
    elif any(result.ok is False for result in results):
        ok = False
    elif any(result.ok is None for result in results):
        ok = None
    else:
        ok = True
    return Verdict(ok, results, requests_seen)


def sample(prometheus_url: str, canary: str, stable: str, window_seconds: float) -> dict[str, Any]:
    """{"canary": {"error-rate", "latency", "requests"}, "stable": {...}}: each backend on its own,
    for the rollout chart (None where there is no data)."""
    window = window_text(window_seconds)
    point: dict[str, Any] = {}
    for role, backend in (("canary", canary), ("stable", stable)):
        point[role] = {
            name: _finite(_value(_query(prometheus_url, fill(query, backend, stable, window)), "max"))
            for name, query in SAMPLES.items()
        }
    return point


def _run(prometheus_url: str, check: dict, query: str) -> Result:
    bound = "max" if "max" in check else "min"
    value = _value(_query(prometheus_url, query), bound)
    limit = float(check[bound])
    ok = None if value is None else (value <= limit if bound == "max" else value >= limit)
    return Result(check["name"], query, value, check.get("max"), check.get("min"), ok)


_http = requests.Session()
_http.trust_env = False  # never through a proxy from the environment


def _query(prometheus_url: str, query: str) -> Any:
    """The `result` of an instant query (Prometheus' /api/v1/query)."""
    url = f"{prometheus_url.rstrip('/')}/api/v1/query"
    try:
        response = _http.post(url, data={"query": query}, timeout=QUERY_TIMEOUT_S)
        body = response.json()
    except requests.RequestException as exc:
        raise AnalysisUnavailable(f"Prometheus at {prometheus_url} cannot be reached ({type(exc).__name__})") from None
    except ValueError:
        raise AnalysisUnavailable(f"Prometheus at {prometheus_url} answered {response.status_code}, not JSON") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise AnalysisUnavailable(f"Prometheus refused {query!r}: {error or response.status_code}")
    data = body.get("data") or {}
    if data.get("resultType") not in ("vector", "scalar"):
        raise AnalysisUnavailable(f"{query!r} gives a {data.get('resultType')}, not an instant vector or scalar")
    return data


def _value(data: dict, bound: str) -> float | None:
    """The one number of a result: a scalar's, or a vector's worst sample for `bound` (the highest
    for max, the lowest for min); None for an empty vector or NaN."""
    result: Any = data.get("result")
    samples: list[Any] = [result] if data.get("resultType") == "scalar" else [s.get("value") for s in result or []]
    values = []
    for pair in samples:
        try:
            number = float(pair[1])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        if not math.isnan(number):
            values.append(number)
    if not values:
        return None
    return max(values) if bound == "max" else min(values)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
