"""Log shipping benchmark (docs/logging.md): how many lines a second one instance's output is
shipped at, and how long a line takes from printed to stored in the collector's file.

    python bench/logs.py [--lines 20000] [--instances 1,3] [--delay-lines 200]

Runs the host shipper of `yoda-discover watch` (yoda_discover/log_shipper.py) in this process
against the stack's Docker engine and a private rsyslogd on a loopback port (the stack's own
config). Throughput: each instance prints --lines lines as fast as busybox `seq` can; the figure is
lines stored / (last stored - first printed), per instance, with the lines missing (loss). The
instance never waits on the shipper: what it prints faster than the shipper ships waits in its
Docker log (the buffer). Delay: one instance prints a line every 20 ms; per line, the collector's
receive time minus Docker's timestamp of the line. Prints figures; asserts nothing. Every
container, file and process it makes is removed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker  # noqa: E402

from bench.figures import percentile, record  # noqa: E402
from deployer import log_buffer  # noqa: E402
from tests.fixtures.logging import images  # noqa: E402
from tests.fixtures.logging.collector import Collector  # noqa: E402
from totem.contracts import labels  # noqa: E402
from totem.settings import Settings  # noqa: E402
from totem.waiting import WaitTimeout, wait  # noqa: E402
from totem_stack import rsyslog  # noqa: E402
from yoda_discover.log_shipper import LogShipper  # noqa: E402

BENCH_LABEL = "totem.test"


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Instances:
    def __init__(self, client, image: str, tag: str, collector: Collector):
        self.client, self.image, self.tag, self.collector = client, image, tag, collector
        self.made: list = []

    def start(self, app: str, node: str, script: str):
        tags = labels.instance_labels(
            app=app,
            version="bench",
            upstream=f"{app}-bench-1",
            port=1,
            node=node,
            health="",
            deployment=f"{app}-bench-1",
            cluster="bench",
            syslog=self.collector.url,
        )
        container = self.client.containers.run(
            self.image,
            ["sh", "-c", script],
            name=node,
            detach=True,
            network_mode="none",
            labels={**tags, BENCH_LABEL: self.tag},
            log_config=log_buffer.container_log_config(),
        )
        self.made.append(container)
        return container

    def cleanup(self) -> None:
        for container in self.made:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass


def stored_count(collector: Collector, app: str) -> int:
    """Lines in the app's file, counted without parsing (the poll must not slow the shipper down)."""
    try:
        return rsyslog.app_log(collector.logs, app).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def throughput(instances: Instances, collector: Collector, tag: str, count: int, lines: int) -> list[tuple]:
    """(lines/s shipped, lines/s printed, lost) per instance, `count` printing at once."""
    started = []
    script = f"busybox seq 1 {lines}; exec busybox sleep 3600"
    for index in range(count):
        app = f"bl-{tag}-{count}-{index}"
        started.append((app, instances.start(app, f"{app}-1", script)))
    results = []
    for app, container in started:
        try:
            wait(lambda a=app: stored_count(collector, a) >= lines, 120, 0.2, what=f"{lines} lines of {app}")
        except WaitTimeout:
            pass
        stored = collector.lines(app)
        reported = [stamp(s.reported) for s in stored]
        received = [stamp(s.received) for s in stored]
        shipped = len(stored) / max(1e-6, max(received) - min(reported)) if stored else 0.0
        printed = len(stored) / max(1e-6, max(reported) - min(reported)) if len(stored) > 1 else 0.0
        results.append((shipped, printed, lines - len({s.message for s in stored})))
        container.remove(force=True)
    return results


def delays(instances: Instances, collector: Collector, tag: str, lines: int) -> list[float]:
    app = f"bl-{tag}-delay"
    script = f"for i in $(busybox seq 1 {lines}); do echo line $i; busybox usleep 20000; done; exec busybox sleep 3600"
    container = instances.start(app, f"{app}-1", script)
    try:
        wait(lambda: stored_count(collector, app) >= lines, 60 + lines * 0.05, 0.2, what=f"{lines} lines of {app}")
    except WaitTimeout:
        pass
    container.remove(force=True)
    return [stamp(s.received) - stamp(s.reported) for s in collector.lines(app)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20000, help="lines each instance prints (throughput)")
    parser.add_argument("--instances", default="1,3", help="instances printing at once, one run each")
    parser.add_argument("--delay-lines", type=int, default=200, help="lines printed 20 ms apart (delay)")
    args = parser.parse_args()

    client = docker.DockerClient(base_url=Settings.from_env().docker_host, timeout=60)
    image = images.busybox(client)
    tag = uuid.uuid4().hex[:8]
    collector = Collector().start()
    state = tempfile.TemporaryDirectory(prefix="bench-logs-")
    shipper = LogShipper(client, Path(state.name), (f"{BENCH_LABEL}={tag}",), resync_interval=5.0).start()
    shipper.wait_ready()
    instances = Instances(client, image, tag, collector)
    runs: dict[int, list[tuple]] = {}
    try:
        for count in [int(n) for n in args.instances.split(",") if n.strip()]:
            runs[count] = throughput(instances, collector, tag, count, args.lines)
        waited = delays(instances, collector, tag, args.delay_lines)
    finally:
        instances.cleanup()
        shipper.stop()
        collector.remove()
        state.cleanup()
        client.close()

    print(f"log shipping: yoda-discover's shipper -> rsyslogd (imtcp, one file per app), {args.lines} lines each")
    print(f"{'instances at once':18} {'shipped lines/s per instance':>29} {'printed lines/s':>16} {'lost':>6}")
    for count, results in runs.items():
        shipped = statistics.median(r[0] for r in results)
        printed = statistics.median(r[1] for r in results)
        lost = sum(r[2] for r in results)
        print(f"{count:<18} {shipped:>29.0f} {printed:>16.0f} {lost:>6}")
        record(f"logs: lines/s shipped per instance, {count} at once", shipped, "lines/s")
    if waited:
        median, p99 = statistics.median(waited) * 1000, percentile(waited, 99) * 1000
        print(
            f"printed -> stored in the collector file, {len(waited)} lines 20 ms apart: "
            f"median {median:.1f} ms, p99 {p99:.1f} ms, max {max(waited) * 1000:.1f} ms"
        )
        record("logs: printed -> stored p99", p99, "ms")
    return 0


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
