"""Unit tests for discovery's pieces: labels, keys, event classification, checks, registrar."""

from __future__ import annotations

import base64
import http.server
import socket
import threading
import time

import pytest
import requests
from docker.errors import NotFound

from tests.support import serve_http
from totem.contracts import yoda
from totem.contracts.labels import APP, HEALTH, NODE, PORT, UPSTREAM, VERSION, is_instance
from totem.net import free_port
from totem.store import connect
from totem.waiting import wait
from yoda_discover import health, sidekick
from yoda_discover.docker_events import DockerEvents, container_event, means_gone, means_started
from yoda_discover.docker_watcher import DockerWatcher
from yoda_discover.health import CheckResult
from yoda_discover.labels import LabelError, instance_from_labels
from yoda_discover.presence import ProxyNode
from yoda_discover.registrar import CheckPolicy, Registration

LABELS = {APP: "hello", VERSION: "v1", UPSTREAM: "hello-v1-80", PORT: "8123", NODE: "hello-v1-a", HEALTH: "/health"}


# -- labels -------------------------------------------------------------------------
def test_instance_from_labels():
    instance = instance_from_labels("abc", LABELS)
    assert (instance.upstream, instance.node) == ("hello-v1-80", "hello-v1-a")
    assert (instance.port, instance.health) == (8123, "/health")


def test_health_label_is_optional():
    assert instance_from_labels("abc", {**LABELS, HEALTH: ""}).health is None


@pytest.mark.parametrize(
    "change",
    [
        {PORT: None},
        {PORT: "http"},
        {PORT: "0"},
        {PORT: "70000"},
        {NODE: "a/b"},
        {UPSTREAM: "../x"},
        {HEALTH: "health"},
        {NODE: None},
    ],
)
def test_unusable_labels_are_rejected(change):
    labels = {k: v for k, v in {**LABELS, **change}.items() if v is not None}
    with pytest.raises(LabelError):
        instance_from_labels("abc", labels)


def test_only_upstream_labelled_containers_are_instances():
    assert is_instance(LABELS) and not is_instance({"app": "x"}) and not is_instance(None)


# -- keys ------------------------------------------------------------------------------
def test_endpoint_keys_round_trip():
    key = yoda.endpoint_key("/yoda", "up", "node-1")
    assert key == "/yoda/upstreams/up/endpoints/node-1"
    assert yoda.parse_endpoint_key("/yoda", key) == ("up", "node-1")
    assert yoda.parse_endpoint_key("/yoda", "/yoda/upstreams/up/mode") is None
    assert yoda.proxy_node_info_key("/yoda/", "p1") == "/yoda/proxy-nodes/p1/info"


def test_proxy_node_info():
    assert ProxyNode("p", "127.0.0.5", 80, 0, 81).ports() == [80, 81]
    assert ProxyNode("p", "127.0.0.5").info() == '{"address": "127.0.0.5", "admin": 8081, "http": 8080, "https": 8443}'


# -- docker events ------------------------------------------------------------------------
def event(action, **attributes):
    return {"Type": "container", "Action": action, "Actor": {"ID": "c1", "Attributes": attributes}}


@pytest.mark.parametrize(
    "action,attributes,gone",
    [
        ("die", {}, True),
        ("stop", {}, True),
        ("destroy", {}, True),
        ("pause", {}, True),
        ("kill", {"signal": "9"}, True),
        ("kill", {"signal": "15"}, True),
        ("kill", {"signal": "SIGKILL"}, True),
        ("kill", {"signal": "1"}, False),
        ("start", {}, False),
        ("exec_start: sh", {}, False),
    ],
)
def test_which_events_mean_gone(action, attributes, gone):
    parsed_action, container_id, attrs = container_event(event(action, **attributes))
    assert container_id == "c1"
    assert means_gone(parsed_action, attrs) is gone


def test_start_and_unpause_mean_started():
    assert means_started("start") and means_started("unpause") and not means_started("create")


class FlakyDocker:
    """A docker client whose events stream fails once, then ends, then blocks until closed."""

    def __init__(self):
        self.calls = 0
        self.api = self
        self.closed = threading.Event()

    def events(self, decode, filters):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("daemon restarting")
        return Stream(self, [event("start")] if self.calls == 2 else [])


class Stream:
    def __init__(self, client, items):
        self.client, self.items = client, items

    def __iter__(self):
        yield from self.items
        if self.client.calls >= 3:
            self.client.closed.wait(5)

    def close(self):
        self.client.closed.set()


def test_events_stream_reconnects_and_resyncs_each_time():
    client, seen, connects = FlakyDocker(), [], []
    events = DockerEvents(client, seen.append, lambda: connects.append(1), max_backoff=0.05).start()
    try:
        wait(lambda: client.calls >= 3 and events.connected.is_set(), timeout=5)
        assert [e["Action"] for e in seen] == ["start"]
        assert len(connects) == 2  # after each successful (re)connection
    finally:
        events.stop()


class AwayDocker:
    """A docker client whose daemon does not answer (an engine restarting)."""

    def __init__(self):
        self.api = self

    def containers(self, *args, **kwargs):
        raise requests.ConnectionError("daemon away")

    events = inspect_container = containers


class Inspected(AwayDocker):
    def __init__(self, answer):
        super().__init__()
        self.answer = answer

    def inspect_container(self, container):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    "answer, gone",
    [
        (requests.ConnectionError("daemon away"), False),
        (NotFound("no such container"), True),
        ({"State": {"Running": False}}, True),
        ({"State": {"Running": True}}, False),
    ],
)
def test_the_sidekick_tells_a_gone_container_from_an_away_daemon(answer, gone):
    assert sidekick._gone(Inspected(answer), "c1") is gone


def test_the_watcher_keeps_its_registrations_while_the_daemon_is_away(settings, unique_prefix):
    store = connect(settings.etcd_url)
    watcher = DockerWatcher(store, AwayDocker(), unique_prefix + "yoda", resync_interval=0.05).start()
    watcher.add("c1", LABELS)
    try:
        time.sleep(0.3)  # the events stream and the resyncs fail, and are tried again
        with pytest.raises(requests.ConnectionError):
            watcher.resync()
        assert list(watcher.registrations) == ["c1"]
    finally:
        watcher.stop()
        store.delete_prefix(unique_prefix)


# -- health checks ----------------------------------------------------------------------------
@pytest.fixture
def http_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as url:
        yield int(url.rsplit(":", 1)[1])


def test_http_check(http_server):
    assert health.check("127.0.0.1", http_server, "/ok", 1).ok
    assert not health.check("127.0.0.1", http_server, "/bad", 1).ok


def test_tcp_check(http_server):
    assert health.check("127.0.0.1", http_server, None, 1).ok
    assert not health.check("127.0.0.1", free_port(), None, 1).ok


def test_http_check_times_out_on_a_silent_server():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        result = health.http_check("127.0.0.1", silent.getsockname()[1], "/", 0.2)
    assert not result.ok and "timed out" in result.detail


# -- registrar against the real etcd ---------------------------------------------------------
def etcd_v3(settings, call: str, body: dict) -> dict:
    """etcd's own v3 JSON API: to see and end leases from outside the registration."""
    url = "http://" + settings.etcd_url.split("://", 1)[1] + "/v3/" + call
    return requests.post(url, json=body, timeout=5).json()


def lease_of(settings, key: str) -> int:
    """The id of the lease `key` is written with (0 when the key is absent or has none)."""
    kvs = etcd_v3(settings, "kv/range", {"key": base64.b64encode(key.encode()).decode()}).get("kvs", [])
    return int(kvs[0].get("lease", 0)) if kvs else 0


class Switch:
    def __init__(self, ok=True):
        self.ok, self.calls = ok, 0

    def __call__(self):
        self.calls += 1
        return CheckResult(self.ok, "switch")


@pytest.fixture
def registration(settings, unique_prefix):
    store = connect("etcd://" + settings.etcd_url.split("://", 1)[1])  # v3 leases, which the tests read back
    made = []

    def make(check, fall=3):
        policy = CheckPolicy(interval=0.01, fall=fall, ttl=5)
        made.append(Registration(store, unique_prefix + "k", "127.0.0.1:1", check, policy).start())
        return made[-1]

    yield make
    for one in made:
        one.stop()
        one.join(2)
    store.delete_prefix(unique_prefix)


def test_registers_on_pass_and_deregisters_after_fall(registration):
    check = Switch(True)
    one = registration(check, fall=3)
    wait(lambda: one.store.get(one.key) == "127.0.0.1:1", timeout=10)
    check.ok = False
    wait(lambda: one.store.get(one.key) is None, timeout=10)
    assert one.failures >= 3


def test_never_registers_while_failing(registration):
    check = Switch(False)
    one = registration(check)
    wait(lambda: check.calls >= 5, timeout=10)
    assert one.store.get(one.key) is None and not one.registered


def test_lost_lease_registers_again(registration, settings):
    one = registration(Switch(True))
    wait(lambda: one.registered, timeout=10)
    first = lease_of(settings, one.key)
    etcd_v3(settings, "lease/revoke", {"ID": first})  # etcd ends the lease: the key goes with it
    wait(lambda: one.registered and lease_of(settings, one.key) not in (0, first), timeout=10)
    assert one.store.get(one.key) == "127.0.0.1:1"


def test_stop_deletes_now_and_reassert_restores(registration):
    one = registration(Switch(True))
    wait(lambda: one.registered, timeout=10)
    one.store.delete(one.key)  # gone from etcd behind the registration's back
    one.reassert()
    assert one.store.get(one.key) == "127.0.0.1:1"
    one.stop()
    assert one.store.get(one.key) is None and not one.registered


def test_stop_without_deregister_leaves_the_key_to_its_lease(registration):
    one = registration(Switch(True))
    wait(lambda: one.registered, timeout=10)
    one.stop(deregister=False)
    assert one.store.get(one.key) == "127.0.0.1:1"
