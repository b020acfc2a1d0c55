"""Maintenance and pause through a real yoda-proxy/HAProxy and etcd: a 503 maintenance page with
Retry-After, requests held (not refused) while a host is paused, and both switched at runtime with
no reload."""

from __future__ import annotations

import threading

import pytest
import requests

from totem.store import connect
from totem.waiting import wait
from yoda_proxy.runtime import ask
from yoda_proxy.testing import Backend, ProxyProcess, commit, local_etcd_url, running_proxy

HOST = "tm.localhost"
OTHER = "other.localhost"
MAINTENANCE = f"hosts/{HOST}/maintenance"
PAUSE = f"hosts/{HOST}/pause"


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture
def proxy(store):
    with running_proxy(store) as proxy:
        yield proxy


@pytest.fixture
def backends():
    blue, green = Backend("blue"), Backend("green")
    yield blue, green
    blue.close()
    green.close()


def wired(blue: Backend, green: Backend) -> dict[str, str]:
    return {
        f"hosts/{HOST}/aliases/1": f"www.{HOST}",
        f"hosts/{HOST}/locations/root/path": "/",
        f"hosts/{HOST}/locations/root/upstream": f"tm-v1-{blue.port}",
        f"hosts/{OTHER}/locations/root/path": "/",
        f"hosts/{OTHER}/locations/root/upstream": f"tm-v1-{blue.port}",
        f"upstreams/tm-v1-{blue.port}/endpoints/blue": blue.address,
        f"upstreams/tm-v2-{green.port}/endpoints/green": green.address,
    }


class Held:
    """One request sent from a thread: `answer` once it is answered."""

    def __init__(self, proxy: ProxyProcess, host: str):
        self.answer: requests.Response | Exception | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._send, args=(proxy, host), daemon=True)
        self.thread.start()

    def _send(self, proxy: ProxyProcess, host: str) -> None:
        try:
            self.answer = requests.get(proxy.url("/"), headers={"Host": host}, timeout=60)
        except requests.RequestException as exc:
            self.answer = exc
        self.done.set()


def sessions(proxy: ProxyProcess) -> int:
    """Client connections HAProxy's HTTP frontend holds right now."""
    answer = ask(proxy.work / "admin.sock", "show stat yoda_http 1 -1")
    header, row = answer.strip().splitlines()[:2]
    return int(dict(zip(header[2:].split(","), row.split(","), strict=False))["scur"])


def test_maintenance_on_and_off_without_reload(store, proxy, backends):
    commit(store, proxy, wired(*backends))
    assert proxy.get(HOST).status_code == 200
    reloads = proxy.status()["reloads"]

    commit(store, proxy, {MAINTENANCE: "45"})
    for name in (HOST, f"www.{HOST}"):  # an alias is the same site
        answer = proxy.get(name)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "45"
        assert "Down for maintenance" in answer.text and answer.headers["Content-Type"].startswith("text/html")
    assert proxy.get(OTHER).json()["name"] == "blue"  # other hosts on the same upstream are served

    commit(store, proxy, {}, deletes=(MAINTENANCE,))
    assert proxy.get(HOST).json()["name"] == "blue"
    status = proxy.status()
    assert status["reloads"] == reloads and status["wiring_errors"] == []


def test_a_request_sent_during_a_pause_is_answered_after_the_resume(store, proxy, backends):
    blue, green = backends
    commit(store, proxy, wired(blue, green))
    reloads, idle = proxy.status()["reloads"], sessions(proxy)

    commit(store, proxy, {PAUSE: "60"})
    hits = blue.hits + green.hits
    held = Held(proxy, HOST)
    wait(lambda: sessions(proxy) > idle, 10, what="the request reaching HAProxy")
    assert proxy.get(OTHER).status_code == 200  # other hosts are never held
    # a short migration while it waits: the held request goes to the version of after the resume
    commit(store, proxy, {f"hosts/{HOST}/locations/root/upstream": f"tm-v2-{green.port}"})
    assert not held.done.is_set() and blue.hits + green.hits == hits + 1  # only OTHER's request got through

    commit(store, proxy, {}, deletes=(PAUSE,))
    assert held.done.wait(30)
    assert isinstance(held.answer, requests.Response), held.answer
    assert held.answer.status_code == 200 and held.answer.json()["name"] == "green"
    assert proxy.status()["reloads"] == reloads


def test_a_pause_whose_longest_hold_passes_lets_requests_through(store, proxy, backends):
    commit(store, proxy, wired(*backends))
    reloads = proxy.status()["reloads"]
    commit(store, proxy, {PAUSE: "0.5"})
    answer = requests.get(proxy.url("/"), headers={"Host": HOST}, timeout=30)
    assert answer.status_code == 200 and answer.json()["name"] == "blue"
    assert store.get(proxy.prefix + PAUSE) == "0.5"  # still paused: the hold ended by itself
    assert proxy.status()["reloads"] == reloads


def test_maintenance_during_a_pause_answers_the_held_requests(store, proxy, backends):
    commit(store, proxy, wired(*backends))
    idle = sessions(proxy)
    commit(store, proxy, {PAUSE: "60"})
    held = Held(proxy, HOST)
    wait(lambda: sessions(proxy) > idle, 10, what="the request reaching HAProxy")
    commit(store, proxy, {MAINTENANCE: "120"})
    assert held.done.wait(30)
    assert isinstance(held.answer, requests.Response), held.answer
    assert held.answer.status_code == 503 and held.answer.headers["Retry-After"] == "120"
