"""yoda-proxy beside its peers: the same blue-green switch through yoda-proxy, nginx and HAProxy.

    python bench/peers.py [--switches 100] [--connections 8] [--interval 0.1] [--skip yoda-proxy|nginx|haproxy]

One host (bench.localhost) with a blue and a green backend; its upstream is switched blue <-> green
`--switches` times, three times per proxy: once quiet, to time convergence (change issued -> first
request answered by the new backend, polled on one keep-alive connection), then under wrk load with
keep-alive connections, then under wrk load with a new connection per request (`Connection: close`).
Each peer is driven the way its users drive it (bench/peers_servers.py):

- yoda-proxy: an etcd put of the location's upstream key; yoda-proxy updates HAProxy's runtime API;
- nginx (Debian nginx-light) the docker-gen / nginx-proxy way: re-render the config, `nginx -s reload`;
- HAProxy the consul-template way: re-render haproxy.cfg, `haproxy -D -p pid -sf <old pids>`.

Needs the local etcd (TOTEM_ETCD_URL), /usr/sbin/haproxy, /usr/sbin/nginx and /usr/bin/wrk; all
traffic is loopback. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import wrk  # noqa: E402
from bench.figures import percentile, record  # noqa: E402
from bench.peers_servers import (  # noqa: E402
    COLORS,
    HAPROXY,
    HOST,
    NGINX,
    Backends,
    HAProxyPeer,
    Missing,
    NginxPeer,
    YodaPeer,
    require,
)
from totem.settings import Settings  # noqa: E402
from totem.store import connect  # noqa: E402

LOADS = {"keep-alive": {}, "new connections": {"Connection": "close"}}


@dataclass
class Figures:
    label: str
    convergence: list[float] = field(default_factory=list)
    load: dict[str, wrk.WrkResult] = field(default_factory=dict)


class Poller:
    """One raw keep-alive connection asking which backend answers (reconnects when the proxy closes it)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def served_by(self) -> str | None:
        try:
            self.conn.request("GET", "/", headers={"Host": HOST})
            response = self.conn.getresponse()
            body = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return json.loads(body)["name"] if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            self.conn.close()  # the next request opens a new connection
            return None


def converge(peer, poller: Poller, color: str, limit: float = 15.0) -> float:
    started = time.perf_counter()
    peer.switch(color)
    while poller.served_by() != color:  # no pause: the figure is the moment the answer changes
        if time.perf_counter() - started > limit:
            raise TimeoutError(f"{peer.label}: {color} not served {limit:.0f} s after the switch")
    return time.perf_counter() - started


def series(peer, poller: Poller, switches: int, interval: float) -> list[float]:
    """`switches` switches, alternating colors, at most one per `interval` seconds."""
    times = []
    for i in range(switches):
        started = time.perf_counter()
        times.append(converge(peer, poller, COLORS[(i + 1) % 2]))
        time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    return times


@contextlib.contextmanager
def uninterrupted():
    """Hold SIGINT (bench/run_all.py's stop) while cleaning up; it is delivered once cleanup is done."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def measure(make, args) -> Figures:
    peer = make()
    print(f"measuring {peer.label} ...", flush=True)
    figures = Figures(peer.label)
    try:
        peer.start(COLORS[0])
        poller = Poller(peer.port)
        if poller.served_by() != COLORS[0]:
            raise RuntimeError(f"{peer.label} does not serve {HOST} from {COLORS[0]}")
        figures.convergence = series(peer, poller, args.switches, args.interval)
        for name, headers in LOADS.items():
            load = wrk.start(
                f"http://127.0.0.1:{peer.port}/",
                connections=args.connections,
                headers={"Host": HOST, **headers},
            )
            try:
                time.sleep(0.3)  # wrk connected and loading before the first switch
                series(peer, poller, args.switches, args.interval)
                time.sleep(0.3)  # requests in flight across the last switch complete
            except BaseException:
                load.kill()
                raise
            figures.load[name] = load.stop()
        return figures
    finally:
        with uninterrupted():
            peer.stop()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def failed(result: wrk.WrkResult) -> str:
    return f"{result.failed} / {result.total}"


def kinds(result: wrk.WrkResult) -> str:
    counts = {
        "non-2xx/3xx": result.non_2xx,
        "connect": result.connect_errors,
        "read": result.read_errors,
        "write": result.write_errors,
        "timeout": result.timeouts,
    }
    return ", ".join(f"{kind} {n}" for kind, n in counts.items() if n) or "none"


def rate(result: wrk.WrkResult) -> float:
    return result.failed / result.total if result.total else 0.0


def slower(yoda: float, peer: float) -> str:
    ratio = peer / yoda if yoda else float("inf")
    return f"1 : {ratio:.1f} ({ratio:.1f}x slower)" if ratio >= 1 else f"1 : {ratio:.2f} ({1 / ratio:.1f}x faster)"


def more_failures(yoda: wrk.WrkResult, peer: wrk.WrkResult) -> str:
    mine, theirs = rate(yoda), rate(peer)
    shares = f"{mine:.3%} vs {theirs:.3%}"
    if mine and theirs:
        return f"{shares} (1 : {theirs / mine:.1f})"
    if theirs:
        return f"{shares} (peer fails, yoda-proxy none)"
    return f"{shares} (neither fails)" if not mine else f"{shares} (yoda-proxy fails, peer none)"


def table(rows: list[Figures], args) -> None:
    print(
        f"one host, blue <-> green, {args.switches} switches per series, at most one per {args.interval:g} s; "
        f"load: wrk -t1 -c{args.connections}"
    )
    head = (
        f"{'proxy':<18}{'conv. median':>13}{'conv. p99':>12}  {'failed, keep-alive':>20}  {'failed, new conns':>20}"
        f"  {'load req/s (ka / new)':>22}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        conv = row.convergence
        print(
            f"{row.label:<18}{ms(statistics.median(conv)):>13}{ms(percentile(conv, 99)):>12}  "
            f"{failed(row.load['keep-alive']):>20}  {failed(row.load['new connections']):>20}"
            f"  {' / '.join(f'{result.rps:.0f}' for result in row.load.values()):>22}"
        )
    print("n / total: requests failed (non-2xx/3xx answers + wrk's socket errors) / answered + socket errors")
    for row in rows:
        print(f"  {row.label + ':':<18}" + "; ".join(f"{name} {kinds(result)}" for name, result in row.load.items()))


def ratios(yoda: Figures, peers: list[Figures]) -> None:
    y_median, y_p99 = statistics.median(yoda.convergence), percentile(yoda.convergence, 99)
    print("\nyoda-proxy : peer")
    for row in peers:
        median, p99 = statistics.median(row.convergence), percentile(row.convergence, 99)
        print(f"  {row.label}")
        print(f"    convergence median  {slower(y_median, median)}")
        print(f"    convergence p99     {slower(y_p99, p99)}")
        for name in LOADS:
            print(f"    failed, {name:<16}{more_failures(yoda.load[name], row.load[name])}")


def publish(rows: list[Figures]) -> None:
    """Headline figures for bench/run_all.py (bench.figures.record; nothing when run alone)."""
    yoda = next((row for row in rows if row.label == YodaPeer.label), None)
    if not yoda:
        return
    median = statistics.median(yoda.convergence)
    record("peers: yoda-proxy switch convergence median", median * 1000, "ms")
    record("peers: yoda-proxy switch convergence p99", percentile(yoda.convergence, 99) * 1000, "ms")
    for name, result in yoda.load.items():  # Totem's promise: a switch drops no request
        record(f"peers: yoda-proxy failed requests during switches, {name} load", result.failed, "requests", at_most=0)
    for row in rows:
        if row is not yoda:
            ratio = statistics.median(row.convergence) / median
            record(f"peers: {row.label} convergence median / yoda-proxy's", ratio, "x")


PEERS = ("yoda-proxy", "nginx", "haproxy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=100, help="switches per series (default 100)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--interval", type=float, default=0.1, help="at most one switch per this many seconds")
    parser.add_argument("--skip", action="append", choices=PEERS, default=[], help="leave a peer out (repeatable)")
    args = parser.parse_args()
    if args.switches < 1 or args.connections < 1 or args.interval < 0:
        parser.error("--switches and --connections must be at least 1, --interval not negative")
    try:
        wrk.executable()
        require(NGINX, "nginx-light")  # the backends are nginx too
        require(HAPROXY, "haproxy")
    except (wrk.WrkError, Missing) as missing:
        print(f"peers: {missing}")
        return 2
    store = connect(Settings.from_env().etcd_url)
    backends = Backends()
    makers = {
        "yoda-proxy": lambda: YodaPeer(store, backends),
        "nginx": lambda: NginxPeer(backends),
        "haproxy": lambda: HAProxyPeer(backends),
    }
    rows, errors = [], 0
    try:
        backends.start()
        for name, make in makers.items():
            if name in args.skip:
                continue
            try:
                rows.append(measure(make, args))
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                errors += 1  # wait timeouts are OSErrors, wrk.WrkError a RuntimeError
                detail = error.stderr.strip() if isinstance(error, subprocess.CalledProcessError) else ""
                print(f"peers: {name} failed, left out: {error} {detail}".rstrip(), flush=True)
    finally:
        with uninterrupted():
            backends.stop()
    print()
    if rows:
        table(rows, args)
        if rows[0].label == YodaPeer.label and len(rows) > 1:
            ratios(rows[0], rows[1:])
        publish(rows)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything started is stopped by then (measure's and main's `finally`)
        print("peers: interrupted", flush=True)
        sys.exit(130)
