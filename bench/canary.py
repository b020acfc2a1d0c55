"""Canary benchmark on the real stack (Docker, etcd, Redis, yoda-discover, two yoda-proxies with
HAProxy, Prometheus scraping both): what metric-judged canaries cost and save.

Prints:
  * a bad canary (half its answers 500) at a 5 % first step: seconds from its first request to the
    abort decision and to its last answer, and the share of the requests of that first step's
    window (`--window` s from its first request) that reached it: without analysis it would be 5 %;
  * good canaries (5 → 25 → 50 %, `--pause` s each): the rollout time against the sum of the
    configured pauses (the overhead);
  * weight-change convergence: a step's weight written → applied by every live proxy (median, p99).

Run: .venv/bin/python bench/canary.py [--good 3] [--pause 3] [--window 30] [--clients 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile, record  # noqa: E402
from tests.fixtures.deployer import images  # noqa: E402
from tests.fixtures.deployer.harness import DeployerStack, deploy_request  # noqa: E402
from tests.fixtures.prometheus import PrivatePrometheus  # noqa: E402
from tests.load import Load  # noqa: E402
from totem.net import free_port  # noqa: E402
from yoda_proxy.testing import ProxyProcess  # noqa: E402


class Seen:
    """When each answer came, and which came from the new version (its body or its 500s), across the
    load threads (Load's `ok` callback, called once per answer)."""

    def __init__(self, text: str):
        self.text, self.times, self.answers, self.lock = text, [], [], threading.Lock()

    def __call__(self, response) -> bool:
        now = time.time()
        with self.lock:
            self.answers.append(now)
            if response.status_code == 500 or response.text.strip() == self.text:
                self.times.append(now)
        return response.status_code == 200


def canary(app: str, version: str, image: str, host: str, steps: list[dict]) -> dict:
    request = deploy_request(app, version, image, host, mode="canary", nodes=1)
    request["deployment"]["check"]["min-nodes"] = 1
    request["deployment"]["canary"] = {"steps": steps, "min-requests": 10}
    return request


def timed(record_: dict, kind: str) -> list[tuple[float, dict]]:
    return [(_epoch(e["date"]), e["details"]) for e in record_["timeline"] if e["type"] == kind]


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def deploy(stack: DeployerStack, request: dict, timeout: float = 300) -> dict:
    answer = stack.deploy(request)
    if answer.status_code != 202:
        raise SystemExit(f"deploy refused: {answer.get_json()}")
    return stack.wait_finished(answer.get_json()["deployment"]["id"], timeout=timeout)


def bad_canary(stack: DeployerStack, app: str, host: str, image: str, args) -> list[float]:
    seen = Seen("version=bad")
    loads = [Load(stack.proxy.url(), host, ok=seen) for _ in range(args.clients)]
    for load in loads:
        load.start()
    final = deploy(stack, canary(app, "bad", image, host, [{"weight": 5, "pause": f"{args.window}s"}]))
    if final["state"] != "FAILED" or not seen.times:
        raise SystemExit(f"the bad canary was not aborted: {final['state']} {final.get('error')}")
    first = seen.times[0]
    while time.time() < first + args.window:  # the whole step it would have had without analysis
        time.sleep(0.1)
    for load in loads:
        load.finish()
    in_window = sum(1 for t in seen.answers if first <= t <= first + args.window)
    reached = sum(1 for t in seen.times if t <= first + args.window)
    decided = timed(final, "ANALYSIS_FAILED")[0][0]
    print(f"bad canary (half its answers 500) at a 5 % first step, {args.clients} clients through the proxy")
    print(f"  first request → abort decision   {decided - first:8.2f} s")
    print(f"  first request → its last answer  {seen.times[-1] - first:8.2f} s")
    print(f"  requests that reached it         {reached} of {in_window} in the {args.window} s step window", end="")
    share = 100 * reached / max(in_window, 1)
    print(f" = {share:.2f} % (5 % without analysis)")
    print(f"  failing check                    {final['error'][:160]}")
    record("bad canary: first request → abort", decided - first, "s")
    record("bad canary: share of requests reaching it (5 % step)", share, "%", at_most=1.0)
    return [d["seconds"] for _, d in timed(final, "CANARY_WEIGHT_SET")]


def good_canaries(stack: DeployerStack, app: str, host: str, tags: list[str], args) -> list[float]:
    steps = [{"weight": w, "pause": f"{args.pause}s"} for w in (5, 25, 50)]
    overheads, totals, convergence = [], [], []
    with Load(stack.proxy.url(), host), Load(stack.proxy.url(), host):  # traffic for the analysis
        for i in range(args.good):
            final = deploy(stack, canary(app, f"g{i}", tags[i % 2], host, steps))
            if final["state"] != "PROMOTED":
                raise SystemExit(f"a good canary failed: {final.get('error')}")
            weights = timed(final, "CANARY_WEIGHT_SET")
            done = timed(final, "ROLLOUT_COMPLETE")[0][0]
            start = weights[0][0] - weights[0][1]["seconds"]  # when the first weight was written
            totals.append(done - start)
            overheads.append(done - start - args.pause * len(steps))
            convergence += [d["seconds"] for _, d in weights]
    print(f"good canaries ({args.good}, steps 5 → 25 → 50 %, {args.pause} s each = {args.pause * len(steps)} s paused)")
    print(f"  rollout time, median             {statistics.median(totals):8.2f} s")
    print(f"  overhead over the pauses, median {statistics.median(overheads):8.2f} s   max {max(overheads):.2f} s")
    record("good canary: rollout overhead over its pauses (median)", statistics.median(overheads), "s")
    return convergence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--good", type=int, default=3, help="good canaries to roll out")
    parser.add_argument("--pause", type=int, default=3, help="seconds each good step is judged")
    parser.add_argument("--window", type=int, default=30, help="seconds of the bad canary's first step")
    parser.add_argument("--clients", type=int, default=4, help="load threads during the bad canary")
    args = parser.parse_args()
    client = docker.from_env()
    tags = [images.build(client, "v1"), images.build(client, "v2")]
    bad = images.build(client, "bad", behaviour="errors")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack = DeployerStack(client, drain=0.5, environment={"TOTEM_PROMETHEUS_URL": url}).start()
    second = ProxyProcess(stack.settings.etcd_url, base=stack.base).start()
    prometheus = PrivatePrometheus(
        [f"127.0.0.1:{stack.proxy.admin}", f"127.0.0.1:{second.admin}"], Path(tempfile.mkdtemp(prefix="bench-prom-"))
    )
    prometheus.port = port
    app = f"bench-{uuid.uuid4().hex[:6]}"
    host = f"{app}.localhost"
    try:
        prometheus.start()
        prometheus.wait_up()
        deploy(stack, canary(app, "v0", tags[0], host, [{"weight": 5}]))  # nothing stable yet: switched at once
        convergence = good_canaries(stack, app, host, tags, args)
        convergence += bad_canary(stack, app, host, bad, args)
        print(f"weight change → applied by both proxies ({len(convergence)} changes)")
        median, p99 = statistics.median(convergence) * 1000, percentile(convergence, 99) * 1000
        print(f"  median {median:8.1f} ms   p99 {p99:8.1f} ms")
        record("canary weight change → every proxy, p99", percentile(convergence, 99) * 1000, "ms")
    finally:
        prometheus.stop()
        second.stop()
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
