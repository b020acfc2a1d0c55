"""`totem demo [--down]`: Totem's services, the sample app's local remote, a push, and its way to live."""

from __future__ import annotations

import argparse
import sys
import time
from typing import cast

from totem.settings import load_or_exit
from totem_demo import follow, layout, processes, sample_repo, secrets, services, timeline, undeploy
from totem_demo.environment import service_environment
from totem_demo.layout import DemoHome
from totem_demo.settings import DemoSettings
from totem_stack import manager
from totem_stack import services as stack_services

DEFAULT_TIMEOUT = 600.0
HOST = "hello.localhost"  # the sample app's totem.yml serves main there


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the whole pipeline locally on the bundled sample app (examples/hello)",
        description="Start Totem's services, push the sample app to a local remote whose hook sends "
        "signed GitHub webhooks, and follow it until it is live behind the proxy.",
    )
    demo.add_argument("--down", action="store_true", help="undeploy the sample app and stop what the demo started")
    demo.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long the push may take to go live",
    )
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_or_exit("totem demo")
    home = DemoHome.of(settings)
    return down(settings, home) if args.down else up(settings, home, args.timeout)


# What the pipeline needs from the stack. Prometheus serves canary analysis only (the sample app is
# blue-green), and its targets writer's health is a file under the stack's own $TOTEM_HOME, which a
# sandboxed demo (tests, benchmarks) does not share.
PIPELINE_SERVICES = ("etcd", "redis", "docker", "registry", "moto")


def _stack_ready(settings) -> bool:
    services = stack_services.build(settings, only=PIPELINE_SERVICES)
    states = manager.status(services, home=DemoHome.of(settings).stack)
    missing = [state for state in states if not state.healthy]
    for state in missing:
        print(f"totem demo: {state.service.name} is not answering; run `totem stack up` first", file=sys.stderr)
    return not missing


def up(settings, home: DemoHome, timeout: float) -> int:
    if not _stack_ready(settings):
        return 1
    env = service_environment(home, secrets.load_or_create(home.secrets))
    print(f"==> starting Totem's services (logs: {home.log('<service>')})")
    if not processes.start_all(services.build(settings, home), home, env, settings.redis_url, sys.stdout):
        print("totem demo: a service did not become ready (see its log above)", file=sys.stderr)
        return 1
    work, commit, pushed_at = _push_sample(settings, home)
    demo = DemoSettings.from_env()
    outcome = _follow(
        settings, demo, commit, f"hello from {(work / 'VERSION').read_text().strip()}", pushed_at, timeout
    )
    if outcome.status != "live":
        print(f"totem demo: {outcome.status}: {outcome.reason}", file=sys.stderr)
        return 1
    print("==> phases")
    print(timeline.format_phases({**({"pushed": pushed_at} if pushed_at else {}), **outcome.milestones}))
    print(f"\n{layout.OWNER}/{layout.REPO} {commit[:12]} is live: {demo.app_url(HOST)}")
    print(f"Dashboard: http://{demo.dashboard}/")
    print(f"Change it: edit {work}, then `git commit -am ... && git push origin HEAD:{layout.BRANCH}`.")
    print("Stop: totem demo --down")
    return 0


def _push_sample(settings, home: DemoHome):
    """Commit examples/hello's current files and push them; (work tree, commit, push time or None
    when that commit had been pushed already)."""
    bare = sample_repo.ensure_remote(home, settings, layout.OWNER, layout.REPO)
    work = sample_repo.ensure_work_tree(home, bare, layout.REPO, sample_repo.example_dir())
    # The work tree holds the sample's files: either commit_all commits them or they are committed already.
    commit = cast(str, sample_repo.commit_all(work, "hello: sample app") or sample_repo.head(work))
    print(f"==> pushing {layout.OWNER}/{layout.REPO} {layout.BRANCH} {commit[:12]} to {bare}")
    pushed_at = time.time()
    hook_output = sample_repo.push(work, layout.BRANCH)
    print(hook_output or "  (already pushed: showing how that push went)")
    return work, commit, pushed_at if hook_output else None


def _follow(
    settings, demo: DemoSettings, commit: str, expected: str, pushed_at: float | None, timeout: float
) -> follow.Outcome:
    print("==> following the pipeline")
    origin = pushed_at

    def show(name: str, at: float) -> None:
        nonlocal origin
        origin = origin or at
        print(f"  {name:<22} +{max(0.0, at - origin):6.2f}s", flush=True)

    follower = follow.Follower(settings, layout.OWNER, layout.REPO, layout.BRANCH, commit, demo.proxy_http)
    return follower.wait(HOST, expected, timeout, show)


def down(settings, home: DemoHome) -> int:
    print("==> undeploying the sample app")
    undeploy.undeploy_sample(settings, home, sys.stdout)
    print("==> stopping Totem's services")
    ok = processes.stop_all(services.build(settings, home), home, sys.stdout)
    undeploy.remove_repos(home)
    return 0 if ok else 1
