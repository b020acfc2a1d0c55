"""Store benchmark: put/get throughput and watch delivery latency, per adapter, on the local etcd.

    python bench/store.py [--etcd 127.0.0.1:2379] [--ops 2000] [--events 500]

Prints a table; it asserts nothing. Traffic goes to the given loopback etcd only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import percentile, record  # noqa: E402
from totem.store import connect  # noqa: E402


def throughput(operation, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        operation(i)
    return count / (time.perf_counter() - started)


def watch_latency(store, prefix: str, count: int) -> list[float]:
    """Seconds from just before each put to its delivery in the watch callback."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = threading.Event()

    def on_event(event) -> None:
        started = sent.get(event.key)
        if event.type == "put" and started is not None:
            latencies.append(time.perf_counter() - started)
            if len(latencies) >= count:
                done.set()

    watcher = store.watch(prefix, on_event)
    watcher.wait_ready()
    try:
        for i in range(count):
            key = f"{prefix}w{i}"
            sent[key] = time.perf_counter()
            store.put(key, "x")
            time.sleep(0.002)  # paced: measure delivery, not queueing
        done.wait(30)
    finally:
        watcher.stop()
    return latencies


def bench(scheme: str, address: str, ops: int, events: int) -> dict[str, float]:
    store = connect(f"{scheme}://{address}")
    prefix = f"/bench-{uuid.uuid4().hex[:8]}/"
    try:
        puts = throughput(lambda i: store.put(f"{prefix}k{i}", f"value-{i}"), ops)
        gets = throughput(lambda i: store.get(f"{prefix}k{i}"), ops)
        latencies = watch_latency(store, prefix + "watch/", events)
    finally:
        store.delete_prefix(prefix)
    ms = [lat * 1000 for lat in latencies]
    return {
        "put/s": puts,
        "get/s": gets,
        "watch p50 ms": statistics.median(ms),
        "watch p99 ms": percentile(ms, 99),
        "delivered": len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--etcd", default="127.0.0.1:2379", help="loopback etcd host:port")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    if not args.etcd.split(":")[0].startswith("127.") and not args.etcd.startswith("localhost"):
        parser.error("benchmarks only run against a loopback etcd")
    columns = ["put/s", "get/s", "watch p50 ms", "watch p99 ms", "delivered"]
    print(f"store benchmark: {args.ops} puts/gets, {args.events} watch events, etcd {args.etcd}")
    print(f"{'adapter':<10}" + "".join(f"{c:>14}" for c in columns))
    for scheme, label in (("etcd", "etcd v3"), ("etcd2", "etcd v2")):
        row = bench(scheme, args.etcd, args.ops, args.events)
        cells = "".join(
            f"{row[c]:>14.0f}" if c.endswith("/s") or c == "delivered" else f"{row[c]:>14.2f}" for c in columns
        )
        print(f"{label:<10}{cells}")
        if scheme == "etcd":  # the floor under every proxy switch: a put seen by a watcher
            record("etcd v3 watch delivery p99", row["watch p99 ms"], "ms")


if __name__ == "__main__":
    main()
