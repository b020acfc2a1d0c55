"""Health gating, in stages: instances running → endpoints discovered in etcd → HTTP check on each."""
from __future__ import annotations

import time
from typing import Callable

import requests

from deployer.records import Record


class GateFailed(RuntimeError):
    """A health gate was not passed; the message says which and why."""


def poll(condition: Callable[[], object], timeout: float, interval: float, keep_going: Callable[[], None]):
    """Call `condition` until truthy or `timeout`; `keep_going` raises to abort (lost lock)."""
    deadline = time.monotonic() + timeout
    while True:
        keep_going()
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_running(scheduler, record: Record, timeout: float, keep_going) -> int:
    need = record["spec"]["min_nodes"]

    def running() -> int:
        count = sum(1 for i in scheduler.status(record) if i.running)
        return count if count >= need else 0

    count = poll(running, timeout, 0.5, keep_going)
    if not count:
        raise GateFailed(f"fewer than {need} instance(s) running after {timeout:.0f}s")
    return count


def endpoints(store, yoda: str, record: Record) -> dict[str, str]:
    """This deployment's endpoints in etcd: {node: "ip:port"}, exact node names only."""
    prefix = f"{yoda}upstreams/{record['upstream']}/endpoints/"
    found = {key[len(prefix):]: value for key, value in store.list(prefix).items()}
    return {node: value for node, value in found.items() if node in record["instances"]}


def wait_discovered(store, yoda: str, record: Record, timeout: float, keep_going) -> dict[str, str]:
    need = record["spec"]["min_nodes"]
    found = poll(lambda: (lambda e: e if len(e) >= need else {})(endpoints(store, yoda, record)),
                 timeout, 0.25, keep_going)
    if not found:
        raise GateFailed(f"fewer than {need} endpoint(s) registered under upstream {record['upstream']} "
                         f"after {timeout:.0f}s")
    return found


def http_check(found: dict[str, str], record: Record, interval: float, keep_going) -> dict[str, int]:
    """GET <check path> on every endpoint; each has `attempts` tries of `check_timeout` seconds."""
    spec = record["spec"]
    results = {}
    with requests.Session() as session:
        for node, address in sorted(found.items()):
            url = f"http://{address}{spec['check_path']}"
            last = "no answer"
            for attempt in range(1, spec["attempts"] + 1):
                keep_going()
                try:
                    response = session.get(url, timeout=spec["check_timeout"], allow_redirects=False)
                    if 200 <= response.status_code < 300:
                        results[node] = response.status_code
                        break
                    last = f"HTTP {response.status_code}"
                except requests.RequestException as exc:
                    last = type(exc).__name__
                if attempt < spec["attempts"]:
                    time.sleep(interval)
            else:
                raise GateFailed(f"{node} ({address}) failed the check {spec['check_path']} "
                                 f"{spec['attempts']} time(s): {last}")
    return results
