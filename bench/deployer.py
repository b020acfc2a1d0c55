"""Deployer benchmark against the real stack (Docker, etcd, Redis, yoda-discover, yoda-proxy + HAProxy).

Prints:
  * deploy request → live latency (POST /apps until the proxy serves the new version) for a
    pre-built image: median, p90 and max of 10 blue-green deployments, and the same from the
    deployer's own timeline (NEW_DEPLOYMENT → PROXIES_APPLIED) with each step's median and p90;
  * errors seen by a client hammering the proxy during 20 consecutive blue-green switches.

Run: .venv/bin/python bench/deployer.py [--deploys 10] [--switches 20] [--drain 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import docker
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile, record, table  # noqa: E402
from tests.fixtures.deployer import images  # noqa: E402
from tests.fixtures.deployer.harness import DeployerStack, deploy_request  # noqa: E402
from tests.load import Load  # noqa: E402
from totem.waiting import wait  # noqa: E402
from totem_demo import timeline  # noqa: E402


def deploy_until_live(
    stack: DeployerStack, app: str, host: str, version: str, image: str, expect: str, steps: list | None = None
) -> float:
    started = time.monotonic()
    answer = stack.deploy(
        deploy_request(
            app,
            version,
            image,
            host,
            nodes=1,
            check={"min-nodes": 1, "path": "/health", "timeout": "2s", "attempts": 10},
        )
    )
    assert answer.status_code == 202, answer.get_json()
    deployment_id = answer.get_json()["deployment"]["id"]

    def live() -> bool:
        try:
            return stack.get(host).text.strip() == expect
        except requests.RequestException:
            return False

    wait(live, 120, 0.01, what=f"{version} live")
    elapsed = time.monotonic() - started
    record = stack.wait_finished(deployment_id, 120)
    assert record["state"] == "PROMOTED", record.get("error")
    if steps is not None:
        steps.append(dict(timeline.deployer_steps(record["timeline"])))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deploys", type=int, default=10)
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--drain", type=float, default=1.0, help="TOTEM_DEPLOYER_DRAIN for the run")
    args = parser.parse_args()

    client = docker.from_env()
    tags = [images.build(client, "v1"), images.build(client, "v2")]
    texts = ["version=v1", "version=v2"]
    stack = DeployerStack(client, drain=args.drain).start()
    app = f"bench-{uuid.uuid4().hex[:6]}"
    host = f"{app}.localhost"
    try:
        deploy_until_live(stack, app, host, "warmup", tags[1], texts[1])
        steps: list[dict[str, float]] = []
        latencies = [
            deploy_until_live(stack, app, host, f"l{i}", tags[i % 2], texts[i % 2], steps) for i in range(args.deploys)
        ]
        print(
            f"deploy request -> live (pre-built image, 1 instance, blue-green, drain {args.drain:g}s, "
            f"n={len(latencies)}): median {statistics.median(latencies):.2f}s  "
            f"p90 {percentile(latencies, 90):.2f}s  max {max(latencies):.2f}s"
        )
        names = [name for _, name, _ in timeline.DEPLOYER_STEPS] + ["request → live"]
        print(table(steps, names, "deployer step"))
        record("deployer: deploy request → live p90 (pre-built image)", percentile(latencies, 90), "s", at_most=0.3)

        if not args.switches:
            return 0
        started = time.monotonic()
        with Load(stack.proxy.url("/"), host) as load:
            for i in range(args.switches):
                deploy_until_live(stack, app, host, f"s{i}", tags[i % 2], texts[i % 2])
        elapsed = time.monotonic() - started
        errors = load.errors()
        print(
            f"{args.switches} consecutive blue-green switches under load: {load.sent} requests in "
            f"{elapsed:.1f}s ({load.sent / elapsed:.0f} req/s), errors {load.failed}"
            + (f" {dict(errors)}" if errors else "")
        )
        record(f"deployer: requests failed during {args.switches} switches", load.failed, "requests", at_most=0)
    finally:
        stack.stop()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
