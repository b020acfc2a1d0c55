"""Pipeline timeline: N pushes of the sample app through the whole local pipeline (`totem demo`),
per-phase median and p90, hook → live overall, the image factory's steps and the deployer's own
steps (deploy request → live from its timeline). Prints figures, asserts nothing.

    .venv/bin/python bench/pipeline.py [--pushes 10]

Needs the local stack (`totem stack up`). Runs beside a running `totem demo`: its own demo in a
sandbox (own TOTEM_HOME, Redis database 10, yoda base, cluster, free ports for the services and the
proxy), cleaned up afterwards. After the N pushes it pushes the first one's files again (a new
commit, the same git tree: the image factory tags the image it built, it does not build again).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import percentile, record, table  # noqa: E402
from tests.e2e.demo_run import DemoRun  # noqa: E402
from totem_demo import layout, timeline  # noqa: E402
from totem_demo.environment import DEMO_DEFAULTS  # noqa: E402

REDIS_DB = 10
HOST = "hello.localhost"
BUILD_STEPS = ("checkout", "build", "push", "hook")


def p90(values: list[float]) -> float:
    return percentile(values, 90)


def build_record(run: DemoRun, commit: str) -> dict:
    answer = requests.get(
        f"{run.settings.image_factory_url}/builds",
        params={"owner": layout.OWNER, "repo": layout.REPO, "ref": layout.BRANCH, "commit": commit},
        timeout=10,
    ).json()
    return (answer.get("builds") or [{}])[0]


def push_and_time(run: DemoRun, version: str) -> dict[str, float]:
    pushed = time.time()
    commit = run.push(layout.BRANCH, version)
    outcome = run.follow(layout.BRANCH, commit, HOST, f"hello from {version}")
    if outcome.status != "live":
        raise SystemExit(f"push {version}: {outcome.status}: {outcome.reason}")
    sample = dict(timeline.phases({"pushed": pushed, **outcome.milestones}))
    build = build_record(run, commit)
    steps = {s["name"]: s for s in build.get("steps") or []}
    if build.get("started_at"):
        sample["build queued"] = build["started_at"] - build["created_at"]
    for name in BUILD_STEPS:
        if (steps.get(name) or {}).get("duration_s") is not None:
            sample[f"build: {name}"] = steps[name]["duration_s"]
    if build.get("reused_from"):
        sample["build: reused"] = 1.0
    if "hook" in steps and "deploy requested" in outcome.milestones:
        # the orchestrator's part when the builder hook is the last one in: hook sent → deploy request
        last_in = max(steps["hook"]["started_at"], outcome.milestones.get("CI reported", 0))
        sample["last hook → deploy request"] = outcome.milestones["deploy requested"] - last_in
    sample.update(timeline.deployer_steps((outcome.deployment or {}).get("timeline") or []))
    return sample


def first_push(output: str) -> dict[str, float]:
    """The phases `totem demo` printed for its own first push."""
    found = re.findall(r"^\s+(.+?)\s+(-?[0-9.]+)s$", output, re.MULTILINE)
    return {name: float(seconds) for name, seconds in found}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=10, help="pushes measured after the first (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="totem-bench-") as home:
        run = DemoRun(Path(home), redis_db=REDIS_DB)
        try:
            first = run.command("--timeout", "300")
            if first.returncode != 0:
                print(first.stdout + first.stderr, file=sys.stderr)
                return 1
            samples = [push_and_time(run, f"bench-{n}") for n in range(1, args.pushes + 1)]
            same_tree = push_and_time(run, "bench-1")
        finally:
            run.down()
            run.cleanup()
    print(
        f"pipeline: {len(samples)} pushes of examples/hello (blue-green, 1 instance, "
        f"image build + local CI + deploy + proxy switch + drain)\n"
    )
    phases = [name for name, _ in timeline.MILESTONES] + ["hook to live"]
    print(table(samples, phases, "phase"))
    print()
    steps = ["build queued"] + [f"build: {n}" for n in BUILD_STEPS] + ["last hook → deploy request"]
    print(table(samples, steps, "inside: image factory, orchestrator"))
    print()
    print(table(samples, [name for _, name, _ in timeline.DEPLOYER_STEPS] + ["request → live"], "inside: deployer"))
    live = [s["request → live"] for s in samples if "request → live" in s]
    hook = [s["hook to live"] for s in samples if "hook to live" in s]
    if live and hook:
        print(
            f"\nhook → live median {statistics.median(hook):.2f}s  p90 {p90(hook):.2f}s; "
            f"deploy request → live (deployer timeline) median {statistics.median(live):.3f}s  p90 {p90(live):.3f}s"
        )
        record("pipeline: push hook → live median", statistics.median(hook), "s", at_most=1.5)
        record("pipeline: deploy request → live p90", p90(live), "s", at_most=0.3)
    demo = first_push(first.stdout)
    print(
        f"first push (`totem demo`, cold caches): hook to live {demo.get('hook to live', float('nan')):.2f}s, "
        f"image built {demo.get('image built', float('nan')):.2f}s"
    )
    print(
        f"same tree pushed again: hook to live {same_tree.get('hook to live', float('nan')):.2f}s, "
        f"build step {same_tree.get('build: build', float('nan')):.3f}s "
        f"({'image reused' if same_tree.get('build: reused') else 'built again'})"
    )
    print(
        f"\n'old version drained' includes the drain: TOTEM_DEPLOYER_DRAIN="
        f"{run.env.get('TOTEM_DEPLOYER_DRAIN', DEMO_DEFAULTS['TOTEM_DEPLOYER_DRAIN'])} s in the demo; "
        "'hook to live' = webhook received → proxies applied; 'image built' includes sending the builder hook."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
