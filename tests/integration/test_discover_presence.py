"""`yoda-discover presence`: a proxy node announced under a lease while its ports answer."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

import pytest

from totem.contracts import yoda
from totem.waiting import wait
from yoda_discover.presence import ProxyNode, presence_registration
from yoda_discover.registrar import CheckPolicy

pytest_plugins = ["tests.images.fixtures"]

POLICY = CheckPolicy(interval=0.2, timeout=1.0, fall=3, ttl=60)


class Listener:
    """A TCP port that accepts connections, standing in for a proxy listener."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


@pytest.fixture
def listeners():
    opened = []

    def open_one() -> Listener:
        opened.append(Listener())
        return opened[-1]

    yield open_one
    for listener in opened:
        listener.close()


@pytest.fixture
def presence(discover_cli):
    def start(node: str, http: int, admin: int, ttl: int = 60) -> subprocess.Popen:
        return discover_cli(
            "presence",
            "--node",
            node,
            "--address",
            "127.0.0.7",
            "--host-ip",
            "127.0.0.1",
            "--http",
            str(http),
            "--https",
            "0",
            "--admin",
            str(admin),
            "--interval",
            "0.2",
            "--ttl",
            str(ttl),
        )

    return start


def test_announces_node_with_ports_and_withdraws_on_sigterm(yoda_store, yoda_base, listeners, presence):
    http, admin = listeners(), listeners()
    process = presence("proxy-a", http.port, admin.port)
    key = yoda.proxy_node_info_key(yoda_base, "proxy-a")
    info = json.loads(wait(lambda: yoda_store.get(key), timeout=10))
    assert info == {"address": "127.0.0.7", "http": http.port, "https": 0, "admin": admin.port}
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert yoda_store.get(key) is None


def test_lease_expiry_removes_a_dead_node(yoda_store, yoda_base, listeners, presence):
    process = presence("proxy-b", listeners().port, listeners().port, ttl=2)
    key = yoda.proxy_node_info_key(yoda_base, "proxy-b")
    wait(lambda: yoda_store.get(key), timeout=10)
    process.kill()  # no chance to withdraw: only the lease can remove it
    process.wait()
    wait(lambda: yoda_store.get(key) is None, timeout=15)


def test_not_announced_while_a_port_is_closed_and_withdrawn_when_one_closes(yoda_store, yoda_base, listeners):
    http, admin = listeners(), listeners()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    proxy = ProxyNode("proxy-c", "127.0.0.7", http.port, 0, closed.getsockname()[1])
    registration = presence_registration(yoda_store, yoda_base, proxy, "127.0.0.1", POLICY).start()
    try:
        wait(lambda: registration.failures >= POLICY.fall, timeout=10)
        assert yoda_store.get(registration.key) is None
    finally:
        registration.stop()
        closed.close()
    proxy = ProxyNode("proxy-c", "127.0.0.7", http.port, 0, admin.port)
    registration = presence_registration(yoda_store, yoda_base, proxy, "127.0.0.1", POLICY).start()
    try:
        wait(lambda: yoda_store.get(registration.key), timeout=10)
        admin.close()
        wait(lambda: yoda_store.get(registration.key) is None, timeout=15)
    finally:
        registration.stop()
