"""Pipeline timeline: N pushes of the sample app through the whole local pipeline (`totem demo`),
per-phase median and p90, and hook-to-live overall. Prints figures, asserts nothing.

    .venv/bin/python bench/pipeline.py [--pushes 10]

Needs the local stack (`totem stack up`) and the demo ports free (no `totem demo` running).
Runs in a sandbox (own TOTEM_HOME, Redis database 10, yoda base, cluster) and cleans up after itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.demo_run import DemoRun, busy_ports  # noqa: E402
from totem_demo import layout, timeline  # noqa: E402
from totem_demo.environment import DEMO_DEFAULTS  # noqa: E402

REDIS_DB = 10
HOST = "hello.localhost"


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def table(samples: list[dict[str, float]]) -> str:
    names = [name for name, _ in timeline.MILESTONES] + ["hook to live"]
    rows = [f"{'phase':<22} {'n':>3} {'median s':>9} {'p90 s':>8}"]
    for name in names:
        values = [s[name] for s in samples if name in s]
        if values:
            rows.append(f"{name:<22} {len(values):>3} {statistics.median(values):>9.2f} {p90(values):>8.2f}")
    return "\n".join(rows)


def push_and_time(run: DemoRun, version: str) -> dict[str, float]:
    pushed = time.time()
    commit = run.push(layout.BRANCH, version)
    outcome = run.follow(layout.BRANCH, commit, HOST, f"hello from {version}")
    if outcome.status != "live":
        raise SystemExit(f"push {version}: {outcome.status}: {outcome.reason}")
    return dict(timeline.phases({"pushed": pushed, **outcome.milestones}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=10, help="pushes measured after the first (default 10)")
    args = parser.parse_args()
    if busy_ports():
        print(f"ports {busy_ports()} are in use: stop a running demo first (totem demo --down)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="totem-bench-") as home:
        run = DemoRun(Path(home), redis_db=REDIS_DB)
        try:
            first = run.command("--timeout", "300")
            if first.returncode != 0:
                print(first.stdout + first.stderr, file=sys.stderr)
                return 1
            samples = [push_and_time(run, f"bench-{n}") for n in range(1, args.pushes + 1)]
        finally:
            run.down()
            run.cleanup()
    print(
        f"pipeline: {len(samples)} pushes of examples/hello (blue-green, 1 instance, "
        f"image build + local CI + deploy + proxy switch + drain)\n"
    )
    print(table(samples))
    print(
        f"\n'old version drained' includes the drain: TOTEM_DEPLOYER_DRAIN="
        f"{run.env.get('TOTEM_DEPLOYER_DRAIN', DEMO_DEFAULTS['TOTEM_DEPLOYER_DRAIN'])} s in the demo; "
        "'hook to live' = webhook received → proxies applied."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
