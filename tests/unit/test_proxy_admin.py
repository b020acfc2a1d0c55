"""Admin endpoint helpers: basic auth and the status/metrics documents."""

from __future__ import annotations

import base64

from yoda_proxy.admin import authorized
from yoda_proxy.parse import parse
from yoda_proxy.status import Status


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_stats_auth():
    assert authorized(basic("admin", "s3cret"), "s3cret")
    assert not authorized(basic("admin", "wrong"), "s3cret")
    assert not authorized(basic("root", "s3cret"), "s3cret")
    assert not authorized(None, "s3cret")
    assert not authorized("Basic !!!", "s3cret")
    assert not authorized(basic("admin", ""), None)  # no password configured: stats disabled


def test_status_reports_revisions_errors_and_counts():
    status = Status("n1")
    good = parse({"revision": "r1", "upstreams/a-v1-1/endpoints/x": "127.0.0.1:1"})
    status.applied(good, 0.01)
    bad = parse({"revision": "r2", "upstreams/a-v1-1/endpoints/x": "nowhere"})
    status.applied(bad, 0.01)
    data = status.as_json()
    # a bad entry is skipped, not a reason to hold the revision back (issue #16)
    assert data["applied_revision"] == "r2" and data["wanted_revision"] == "r2"
    assert not data["in_sync"] and "endpoints/x" in data["last_error"]
    assert "upstreams/a-v1-1/endpoints/x" in data["skipped"]
    assert data["counts"]["upstreams"] == 1
    metrics = status.prometheus()
    assert "yoda_proxy_applies_total 2" in metrics and 'yoda_proxy_wiring{kind="upstreams"} 1' in metrics
