"""Health gating, in stages: instances running → endpoints discovered in etcd → HTTP check on each.

As in 2015, `check.port: 0` skips the discovery check (and the HTTP check, which needs the
endpoints), and an empty `check.path` skips the HTTP check only; `skipped_*` say so in the step's
event details.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from deployer.errors import DeployerError
from deployer.polling import poll
from deployer.records import Record
from totem.contracts.yoda import endpoints_prefix, parse_endpoint_key
from totem.waiting import WaitTimeout


class GateFailed(DeployerError, RuntimeError):
    """A health gate was not passed; the message says which and why."""


def skipped_discovery(record: Record) -> dict[str, str] | None:
    """The NODES_DISCOVERED details when the deployment asks for no discovery check, else None."""
    return None if record["spec"].get("discover", True) else {"skipped": "check.port is 0"}


def skipped_check(record: Record) -> dict[str, str] | None:
    """The CHECK_PASSED details when the deployment asks for no HTTP check, else None."""
    if not record["spec"].get("discover", True):
        return {"skipped": "check.port is 0 (no discovery, so no HTTP check)"}
    return None if record["spec"]["check_path"] else {"skipped": "check.path is empty"}


def wait_running(scheduler, record: Record, timeout: float, keep_going: Callable[[], None]) -> int:
    """`keep_going` raises to abort (lost lock); it is called before each look."""
    need = record["spec"]["min_nodes"]

    def running() -> int:
        keep_going()
        count = sum(1 for i in scheduler.status(record) if i.running)
        return count if count >= need else 0

    try:
        return poll(running, timeout, what=f"{need} instance(s) running")
    except WaitTimeout:
        raise GateFailed(f"fewer than {need} instance(s) running after {timeout:.0f}s") from None


def endpoints(store, yoda: str, record: Record) -> dict[str, str]:
    """This deployment's endpoints in etcd: {node: "ip:port"}, exact node names only."""
    found = {}
    for key, value in store.list(endpoints_prefix(yoda, record["upstream"])).items():
        parsed = parse_endpoint_key(yoda, key)
        if parsed and parsed[1] in record["instances"]:
            found[parsed[1]] = value
    return found


def wait_discovered(store, yoda: str, record: Record, timeout: float, keep_going) -> dict[str, str]:
    need = record["spec"]["min_nodes"]

    def discovered() -> dict[str, str]:
        keep_going()
        found = endpoints(store, yoda, record)
        return found if len(found) >= need else {}

    try:
        return poll(discovered, timeout, what=f"{need} endpoint(s) under upstream {record['upstream']}")
    except WaitTimeout:
        raise GateFailed(
            f"fewer than {need} endpoint(s) registered under upstream {record['upstream']} after {timeout:.0f}s"
        ) from None


def check_endpoint(
    session: requests.Session, address: str, record: Record, interval: float, keep_going, attempts: int | None = None
) -> tuple[int | None, str]:
    """GET <check path> on one endpoint, `attempts` tries (the spec's by default) of `check_timeout`
    seconds: (the 2xx status, "") once one passes, else (None, what the last try got)."""
    spec = record["spec"]
    tries = attempts or spec["attempts"]
    last = "no answer"
    for attempt in range(1, tries + 1):
        keep_going()
        try:
            response = session.get(
                f"http://{address}{spec['check_path']}", timeout=spec["check_timeout"], allow_redirects=False
            )
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            last = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        if attempt < tries:
            time.sleep(interval)
    return None, last


def http_check(found: dict[str, str], record: Record, interval: float, keep_going) -> dict[str, int]:
    """The check on every endpoint; GateFailed names the first that fails it."""
    spec = record["spec"]
    results = {}
    with requests.Session() as session:
        for node, address in sorted(found.items()):
            status, last = check_endpoint(session, address, record, interval, keep_going)
            if status is None:
                raise GateFailed(
                    f"{node} ({address}) failed the check {spec['check_path']} {spec['attempts']} time(s): {last}"
                )
            results[node] = status
    return results
