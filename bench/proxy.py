"""yoda-proxy benchmark: convergence, dropped requests under reloads, and scale.

    python bench/proxy.py [--switches 200] [--reload-switches 50] [--reloads 100] [--hosts 1000]
                          [--endpoints 5000] [--scale-switches 100]

Runs against the local etcd (TOTEM_ETCD_URL) and /usr/sbin/haproxy; all traffic is loopback.
Convergence is timed from just before the etcd put to the first answer from the new backend,
polled on one keep-alive connection (http.client: about 0.1 ms a request). The floor printed
first is what no proxy can beat: the etcd put and its watch event seen by a plain watcher.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile, record  # noqa: E402
from totem.contracts import yoda  # noqa: E402
from totem.net import free_port  # noqa: E402
from totem.settings import Settings  # noqa: E402
from totem.store import connect  # noqa: E402
from totem.waiting import WaitTimeout, wait  # noqa: E402
from yoda_proxy.certs import ensure_default  # noqa: E402
from yoda_proxy.haproxy import HAProxy  # noqa: E402
from yoda_proxy.parse import parse  # noqa: E402
from yoda_proxy.plan import build  # noqa: E402
from yoda_proxy.render import write_generation  # noqa: E402
from yoda_proxy.settings import Bind, ProxySettings  # noqa: E402
from yoda_proxy.slots import SlotTable  # noqa: E402
from yoda_proxy.testing import Backend, ProxyProcess  # noqa: E402

HOST = "bench.localhost"


def ms(values: list[float]) -> str:
    median, p99 = statistics.median(values) * 1000, percentile(values, 99) * 1000
    return f"median {median:7.2f} ms   p99 {p99:7.2f} ms   (n={len(values)})"


class Poller:
    """Asks the proxy which backend serves HOST, on one keep-alive connection (reopened when the
    proxy closes it, as an old worker does after a reload)."""

    def __init__(self, proxy: ProxyProcess):
        self.port = proxy.http
        self.conn: http.client.HTTPConnection | None = None

    def served_by(self) -> str | None:
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.conn.request("GET", "/", headers={"Host": HOST})
            response = self.conn.getresponse()
            body = response.read()
            if response.will_close:
                self.close()
            return json.loads(body)["name"] if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            self.close()
            return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def converge(store, proxy, poller: Poller, writes: dict[str, str], target: str, limit: float = 10.0) -> float:
    started = time.perf_counter()
    for key, value in writes.items():
        store.put(proxy.prefix + key, value)
    try:  # no pause between requests: the figure is the moment the answer changes
        wait(lambda: poller.served_by() == target, limit, 0, what=f"{target} served")
    except WaitTimeout:
        raise TimeoutError(f"{target} never served") from None
    return time.perf_counter() - started


def bench_floor(store, rounds: int = 50) -> None:
    """etcd put -> the watch event delivered to a plain watcher (totem.store), no proxy."""
    prefix = f"/bench-floor-{uuid.uuid4().hex[:8]}/"
    seen, times = threading.Event(), []
    watcher = store.watch(prefix, lambda event: seen.set())
    try:
        watcher.wait_ready(10)
        for i in range(rounds):
            seen.clear()
            started = time.perf_counter()
            store.put(prefix + "k", str(i))
            if seen.wait(10):
                times.append(time.perf_counter() - started)
    finally:
        watcher.stop()
        store.delete_prefix(prefix)
    print("(0) floor: etcd put -> watch event seen by a plain watcher (no proxy)")
    print(f"    {ms(times)}")


def ack(store, proxy) -> None:
    revision = uuid.uuid4().hex
    store.put(yoda.revision_key(proxy.base), revision)
    wait(
        lambda: store.get(yoda.proxy_node_key(proxy.base, proxy.node, yoda.APPLIED)) == revision,
        30,
        0.02,
        what=f"revision {revision} acknowledged",
    )


def bench_convergence(store, proxy, blue: Backend, green: Backend, switches: int, reloads: int) -> None:
    loc = "hosts/bench.localhost/locations/root/upstream"
    ups = {"blue": f"bench-v1-{blue.port}", "green": f"bench-v2-{green.port}"}
    poller = Poller(proxy)
    runtime = []
    for i in range(switches):
        target = "green" if i % 2 == 0 else "blue"
        runtime.append(converge(store, proxy, poller, {loc: ups[target]}, target))
    before = proxy.status()["reloads"]
    reload = []
    for i in range(reloads):
        target = "green" if i % 2 == 0 else "blue"
        backend = green if target == "green" else blue
        up = f"bench-r{i}-{backend.port}"
        reload.append(
            converge(store, proxy, poller, {f"upstreams/{up}/endpoints/n1": backend.address, loc: up}, target)
        )
    poller.close()
    print("(1) convergence: etcd write -> first request served by the new backend")
    print(f"    blue-green switch (runtime API, no reload): {ms(runtime)}")
    print(f"    change needing a reload (new upstream):      {ms(reload)}")
    record("proxy: blue-green switch p99, 1 host", percentile(runtime, 99) * 1000, "ms", at_most=10)
    record("proxy: change needing a reload p99", percentile(reload, 99) * 1000, "ms", at_most=200)
    time.sleep(0.2)  # the counter moves just after the new worker starts serving
    print(f"    reloads during the reload series: {proxy.status()['reloads'] - before}")


def bench_dropped(store, proxy, blue: Backend, green: Backend, reloads: int, threads: int = 2) -> None:
    stop = threading.Event()
    counts = {"sent": 0, "non_2xx": 0, "conn_errors": 0}
    lock = threading.Lock()

    def load() -> None:
        sent = bad = errors = 0
        with requests.Session() as session:
            while not stop.is_set():
                sent += 1
                try:
                    if not 200 <= session.get(proxy.url("/"), headers={"Host": HOST}, timeout=10).status_code < 300:
                        bad += 1
                except requests.RequestException:
                    errors += 1
        with lock:
            counts["sent"] += sent
            counts["non_2xx"] += bad
            counts["conn_errors"] += errors

    workers = [threading.Thread(target=load) for _ in range(threads)]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    ups = [f"bench-v1-{blue.port}", f"bench-v2-{green.port}"]
    for i in range(reloads):
        store.put(yoda.endpoint_key(proxy.base, f"drop-{i}-1", "n1"), blue.address)
        ack(store, proxy)  # a new backend: one hitless reload
        store.put(yoda.location_key(proxy.base, HOST, "root", yoda.UPSTREAM), ups[i % 2])
        ack(store, proxy)  # a blue-green switch: runtime update
    elapsed = time.perf_counter() - started
    stop.set()
    for worker in workers:
        worker.join()
    print(
        f"(2) dropped requests: keep-alive load ({threads} connections) during {reloads} reloads "
        f"and {reloads} switches in {elapsed:.1f} s"
    )
    print(
        f"    requests sent {counts['sent']}   non-2xx {counts['non_2xx']}   "
        f"connection errors {counts['conn_errors']}   ({counts['sent'] / elapsed:.0f} req/s)"
    )
    failed = counts["non_2xx"] + counts["conn_errors"]
    record(f"proxy: requests failed during {reloads} reloads + {reloads} switches", failed, "requests", at_most=0)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def scale_keys(hosts: int, endpoints: int) -> dict[str, str]:
    per_up = max(1, endpoints // hosts)
    keys = {"revision": "scale"}
    for h in range(hosts):
        up = f"app{h}-v1-{8000 + h}"
        keys[f"hosts/app{h}.localhost/aliases/1"] = f"www.app{h}.localhost"
        keys[f"hosts/app{h}.localhost/locations/root/path"] = "/"
        keys[f"hosts/app{h}.localhost/locations/root/upstream"] = up
        keys[f"upstreams/{up}/health/interval"] = "10s"
        for e in range(per_up):
            keys[f"upstreams/{up}/endpoints/n{e}"] = f"127.0.0.{2 + e}:{20000 + h}"
    return keys


def bench_scale(hosts: int, endpoints: int) -> None:
    keys = scale_keys(hosts, endpoints)
    work = Path(tempfile.mkdtemp(prefix="yp-bench-"))
    opts = ProxySettings(http=Bind("127.0.0.1", free_port()), https=Bind("127.0.0.1", free_port()), work_dir=work)
    haproxy = HAProxy(opts.haproxy, work, timeout=60)
    cert = ensure_default(work / "default.pem")
    try:
        t0 = time.perf_counter()
        wiring = parse(keys)
        plan, _ = build(wiring, SlotTable())
        t1 = time.perf_counter()
        cfg = write_generation(plan, opts, work, work / "gen-1", cert)
        t2 = time.perf_counter()
        ok, output = haproxy.check(cfg)
        assert ok, output
        t3 = time.perf_counter()
        (work / "haproxy.cfg").symlink_to(cfg)
        haproxy.start()
        t4 = time.perf_counter()
        haproxy.reload()
        t5 = time.perf_counter()
        worker = haproxy.proc_state().workers[0]
        counts = wiring.counts()
        print(
            f"(3) scale: {counts['hosts']} hosts, {counts['locations']} locations, "
            f"{counts['endpoints']} endpoints ({len(keys)} keys, config {cfg.stat().st_size // 1024} KiB)"
        )
        print(
            f"    parse+plan {1000 * (t1 - t0):.0f} ms   render {1000 * (t2 - t1):.0f} ms   "
            f"validate (haproxy -c) {1000 * (t3 - t2):.0f} ms   start {1000 * (t4 - t3):.0f} ms"
        )
        print(f"    total render+validate+apply {t4 - t0:.2f} s   hitless reload of it {1000 * (t5 - t4):.0f} ms")
        print(
            f"    resident memory: haproxy master {rss_kb(haproxy.process.pid) // 1024} MiB, "
            f"worker {rss_kb(worker) // 1024} MiB; planner (this process) {rss_kb(os.getpid()) // 1024} MiB"
        )
    finally:
        haproxy.stop()
        shutil.rmtree(work, ignore_errors=True)


def bench_scale_live(store, hosts: int, endpoints: int, switches: int) -> None:
    """The same wiring through etcd and a live yoda-proxy: first apply, then switches at scale."""
    blue, green = Backend("blue"), Backend("green")
    proxy = ProxyProcess(etcd_url=store.url)
    try:
        keys = scale_keys(hosts, endpoints)
        keys.update(
            {
                "hosts/bench.localhost/locations/root/path": "/",
                "hosts/bench.localhost/locations/root/upstream": f"bench-v1-{blue.port}",
                f"upstreams/bench-v1-{blue.port}/endpoints/n1": blue.address,
                f"upstreams/bench-v2-{green.port}/endpoints/n1": green.address,
            }
        )
        for key, value in keys.items():
            store.put(proxy.prefix + key, value)
        started = time.perf_counter()
        proxy.start()
        wait(
            lambda: proxy.status()["applied_revision"] == "scale",
            60,
            0.02,
            what="the scale wiring applied",
            ignoring=(requests.RequestException,),
        )
        first = time.perf_counter() - started
        poller, loc = Poller(proxy), "hosts/bench.localhost/locations/root/upstream"
        ups = {"blue": f"bench-v1-{blue.port}", "green": f"bench-v2-{green.port}"}
        times = [converge(store, proxy, poller, {loc: ups[t]}, t) for t in ("green", "blue") * (switches // 2)]
        poller.close()
        print(f"    live proxy through etcd: process start to first acknowledged apply {first:.2f} s")
        print(f"    blue-green switch at this scale: {ms(times)}")
        record(f"proxy: blue-green switch p99, {hosts} hosts", percentile(times, 99) * 1000, "ms", at_most=10)
    finally:
        proxy.stop()
        store.delete_prefix(proxy.prefix)
        blue.close()
        green.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--reload-switches", type=int, default=50)
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=5000)
    parser.add_argument("--scale-switches", type=int, default=100)
    args = parser.parse_args()
    store = connect(Settings.from_env().etcd_url)
    bench_floor(store)
    blue, green = Backend("blue"), Backend("green")
    proxy = ProxyProcess(etcd_url=store.url)
    try:
        for key, value in {
            "hosts/bench.localhost/locations/root/path": "/",
            "hosts/bench.localhost/locations/root/upstream": f"bench-v1-{blue.port}",
            f"upstreams/bench-v1-{blue.port}/endpoints/n1": blue.address,
            f"upstreams/bench-v2-{green.port}/endpoints/n1": green.address,
        }.items():
            store.put(f"{proxy.base}/{key}", value)
        proxy.start()
        ack(store, proxy)
        bench_convergence(store, proxy, blue, green, args.switches, args.reload_switches)
        bench_dropped(store, proxy, blue, green, args.reloads)
    finally:
        proxy.stop()
        store.delete_prefix(proxy.prefix)
        blue.close()
        green.close()
    bench_scale(args.hosts, args.endpoints)
    bench_scale_live(store, args.hosts, args.endpoints, args.scale_switches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
