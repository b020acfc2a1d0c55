"""Prometheus metrics (docs/metrics.md): every API's /metrics parses with Prometheus' text parser
and counts what happened (a hook, a job's state, a deployment and its phases); the registration
key layout; the stack's targets writer turns registrations into file_sd groups."""

from __future__ import annotations

import json
import uuid

import yaml
from prometheus_client.parser import text_string_to_metric_families

from deployer.lifecycle import Lifecycle
from tests.fixtures.deployer.service import deployer_app
from tests.unit.test_deployer_lifecycle import ctx, submit  # noqa: F401  # ctx is a fixture
from tests.unit.test_orchestrator_payloads import commit, generic_hook, unit_orchestrator
from totem import metrics, signatures
from totem.contracts import services
from totem.settings import MetricsSettings, Settings
from totem_stack import prometheus as prom


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of `GET /metrics`, by (name, sorted labels), parsed as Prometheus parses it."""
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_orchestrator_counts_hooks_by_type_and_outcome_refused_ones_too_and_jobs_by_state():
    with unit_orchestrator() as unit:
        before = scrape(unit.client)
        body = json.dumps(generic_hook("acme", f"shop{uuid.uuid4().hex[:6]}", "master", commit())).encode()
        headers = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(unit.secret, body)}
        assert unit.client.post("/hooks/generic", data=body, headers=headers).status_code == 202
        assert unit.client.post("/hooks/generic", data=body, headers=headers).status_code in (200, 202)
        forged = {**headers, "X-Hook-Signature": signatures.sign("not-the-secret", body)}
        assert unit.client.post("/hooks/generic", data=body, headers=forged).status_code == 401
        after = scrape(unit.client)
    hooks = "totem_hooks_received_total"
    labels = {"service": "orchestrator", "type": "builder"}
    accepted = value(after, hooks, **labels, outcome="accepted") - value(before, hooks, **labels, outcome="accepted")
    ignored = value(after, hooks, **labels, outcome="ignored") - value(before, hooks, **labels, outcome="ignored")
    assert accepted >= 1 and accepted + ignored == 2
    refused = {"service": "orchestrator", "type": "generic", "outcome": "refused"}
    assert value(after, hooks, **refused) == value(before, hooks, **refused) + 1
    transitions = "totem_job_transitions_total"
    assert value(after, transitions, state="NEW") == value(before, transitions, state="NEW") + 1
    jobs = {dict(labels)["state"]: n for (name, labels), n in after.items() if name == "totem_jobs"}
    assert jobs == {**dict.fromkeys(jobs, 0.0), "NEW": 1.0} and "AWAITING_APPROVAL" in jobs  # this app's one job
    assert ("totem_store_errors_total", (("store", "etcd"),)) in after  # zero from the start


def test_deployer_counts_deployments_and_their_phases(ctx):  # noqa: F811  # the fixture
    with deployer_app() as app:
        client = app.test_client()
        before = scrape(client)
        record = submit(ctx, "shop", "v1")
        lock = ctx.store.lock("deployer/shop", ttl=10)
        with lock:
            assert Lifecycle(ctx, lock).run(record["id"])["state"] == "PROMOTED"
        after = scrape(client)
    deployments = "totem_deployments_total"
    assert value(after, deployments, outcome="promoted") == value(before, deployments, outcome="promoted") + 1
    count = "totem_deployment_phase_seconds_count"
    for phase in ("healthy", "wired", "proxies applied", "drained", "promoted"):
        assert value(after, count, phase=phase) == value(before, count, phase=phase) + 1, phase


def test_image_factory_serves_metrics_in_the_text_format():
    from image_factory.app import create_app

    app = create_app(Settings(hook_secret="unit-hook-secret", api_token="unit-token"), enqueue=lambda _id: None)
    before = scrape(app.test_client())
    metrics.build_finished("succeeded", 12.5)
    after = scrape(app.test_client())
    assert (
        value(after, "totem_builds_total", outcome="succeeded")
        == value(before, "totem_builds_total", outcome="succeeded") + 1
    )
    assert value(after, "totem_build_duration_seconds_count", outcome="succeeded") >= 1


def test_each_phase_starts_where_the_one_before_it_ended():
    assert metrics.DEPLOYMENT_PHASES == (
        ("deploy", "NEW_DEPLOYMENT", "DEPLOYMENT_STARTED"),
        ("healthy", "DEPLOYMENT_STARTED", "CHECK_PASSED"),
        ("wired", "CHECK_PASSED", "WIRED"),
        ("proxies applied", "WIRED", "PROXIES_APPLIED"),
        ("drained", "PROXIES_APPLIED", "DRAINED"),
        ("promoted", "DRAINED", "DEPLOYMENT_PROMOTED"),
    )


def test_registration_keys_sit_beside_the_yoda_base():
    assert services.default_prefix("/yoda") == "/totem-services"
    assert MetricsSettings.from_env({"YODA_BASE": "/test-x/yoda"}).services_prefix == "/test-x/totem-services"
    assert MetricsSettings.from_env({"TOTEM_SERVICES_PREFIX": "own/"}).services_prefix == "/own"
    key = services.service_key("/p", "deployer-worker", "h-12")
    assert key == "/p/deployer-worker/h-12"
    assert services.parse_service_key("/p", key) == ("deployer-worker", "h-12")
    assert services.parse_service_key("/p", "/p/too/deep/x") is None
    assert services.parse_service_key("/q", key) is None


def test_service_groups_from_registrations(tmp_path):
    keys = {
        services.service_key("/p", "orchestrator", "h-1"): services.registration(
            "orchestrator", "h-1", "127.0.0.1:9400", 1, "h"
        ),
        services.service_key("/p", "yoda-discover", "h-2"): services.registration(
            "yoda-discover", "h-2", "0.0.0.0:9", 2, "h"
        ),
        services.service_key("/p", "bad", "h-3"): "not json",
        services.service_key("/p", "bad", "h-4"): services.registration("bad", "h-4", "no-port", 4, "h"),
    }
    assert prom.service_groups(keys, "/p") == [
        {"targets": ["127.0.0.1:9400"], "labels": {"service": "orchestrator", "instance_id": "h-1"}},
        {"targets": ["127.0.0.1:9"], "labels": {"service": "yoda-discover", "instance_id": "h-2"}},
    ]
    config = yaml.safe_load(prom.render_config(tmp_path / "t.json", services_file=tmp_path / "s.json"))
    proxies, totem = config["scrape_configs"]
    assert proxies["job_name"] == "yoda-proxy" and totem["job_name"] == "totem"
    assert totem["file_sd_configs"][0]["files"] == [str(tmp_path / "s.json")]


def test_split_bind():
    assert metrics.split_bind("127.0.0.1:0") == ("127.0.0.1", 0)
    assert metrics.split_bind("[::1]:9") == ("::1", 9)
    assert metrics.split_bind(":9") == ("0.0.0.0", 9)
