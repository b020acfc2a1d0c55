"""Discovery benchmark: container start → endpoint in etcd, and `docker kill` → endpoint gone.

    python bench/discover.py [--count 50] [--etcd etcd://127.0.0.1:2379]

Runs `yoda-discover watch` as a process (default check settings), starts busybox
httpd containers with host networking one after the other, and times each step
with an etcd watch. Prints median and p99 in milliseconds; asserts nothing.
Traffic stays on loopback; every container and process it starts is removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker  # noqa: E402

from bench.figures import percentile, record  # noqa: E402
from tests.images import busybox_httpd  # noqa: E402
from tests.support import terminate  # noqa: E402
from totem.contracts import yoda  # noqa: E402
from totem.net import free_port  # noqa: E402
from totem.store import connect  # noqa: E402
from totem.waiting import WaitTimeout, wait  # noqa: E402


class KeyTimes:
    """When each key was last put and deleted, seen through an etcd watch."""

    def __init__(self):
        self.put: dict[str, float] = {}
        self.deleted: dict[str, float] = {}

    def __call__(self, event) -> None:
        (self.put if event.type == "put" else self.deleted)[event.key] = time.perf_counter()

    def wait(self, table: dict, key: str, timeout: float = 30.0) -> float:
        """When `key` was seen in `table` (stamped by the watch callback, so polling adds nothing)."""
        try:
            return wait(lambda: table.get(key), timeout, 0.005, what=f"{key} in the watch")
        except WaitTimeout:
            raise TimeoutError(key) from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--etcd", default=os.environ.get("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379"))
    args = parser.parse_args()

    client = docker.from_env()
    busybox_httpd.build(client)
    store = connect(args.etcd)
    tag = uuid.uuid4().hex[:12]
    root = f"/bench-{tag}/"
    base = root + "yoda"
    times = KeyTimes()
    watch = store.watch(yoda.upstreams_prefix(base), times)
    watch.wait_ready()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "yoda_discover",
            "watch",
            "--etcd",
            args.etcd,
            "--base",
            base,
            "--label",
            f"totem.test={tag}",
        ],
        stderr=subprocess.DEVNULL,
    )
    apps = busybox_httpd.Apps(client, tag)
    registered, gone = [], []
    try:
        time.sleep(1.0)  # let the watcher connect to the events stream
        for i in range(args.count):
            key = yoda.endpoint_key(base, "bench-1-80", f"bench-{i}")
            started = time.perf_counter()
            container = apps.start("bench-1-80", f"bench-{i}", free_port())
            registered.append(times.wait(times.put, key) - started)
            killed = time.perf_counter()
            container.kill()
            gone.append(times.wait(times.deleted, key) - killed)
    finally:
        terminate(process, 10)
        apps.cleanup()
        watch.stop()
        store.delete_prefix(root)

    print(f"yoda-discover watch, {len(registered)} containers (busybox httpd, HTTP health check, defaults)")
    print(f"{'step':34} {'median ms':>10} {'p99 ms':>10} {'max ms':>10}")
    for name, values in (("container start -> endpoint in etcd", registered), ("docker kill -> endpoint gone", gone)):
        print(
            f"{name:34} {statistics.median(values) * 1000:10.1f} {percentile(values, 99) * 1000:10.1f} "
            f"{max(values) * 1000:10.1f}"
        )
        record(f"discover: {name} p99", percentile(values, 99) * 1000, "ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
