"""The whole pipeline, as a user runs it: `totem demo`, then pushes to the sample app's local remote.

The tests share one demo run (in a sandbox: own TOTEM_HOME, Redis database, yoda base, cluster) and
run in file order; each push carries its own VERSION so what is live can be told apart.
"""

from __future__ import annotations

import pytest

from tests.e2e.demo_run import DemoRun
from tests.load import Load
from totem.contracts.labels import VERSION
from totem.waiting import wait
from totem_demo import layout
from totem_stack import process as proc

MAIN = "hello.localhost"
BROKEN_DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
COPY app/ /app/
ENTRYPOINT ["/bin/busybox", "sh", "-c", "exec /bin/busybox httpd -f -p $PORT -h /app"]
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    run = DemoRun(tmp_path_factory.mktemp("demo-home"))
    run.first = run.command("--timeout", "300")
    try:
        yield run
    finally:
        run.down()
        run.cleanup()


def test_totem_demo_pushes_the_sample_app_and_it_goes_live(demo):
    assert demo.first.returncode == 0, demo.first.stdout + demo.first.stderr
    assert f"is live: {demo.demo.app_url(MAIN)}" in demo.first.stdout
    for phase in (
        "webhook received",
        "image built",
        "CI reported",
        "deploy requested",
        "proxies applied",
        "hook to live",
    ):
        assert phase in demo.first.stdout
    assert demo.served(MAIN) == (200, "hello from 1")
    assert demo.home.secrets.stat().st_mode & 0o077 == 0
    logs = [path.read_text(errors="replace") for path in (demo.home.stack.root / "log").glob("*.log")]
    printed = "\n".join([demo.first.stdout, demo.first.stderr, *logs])
    for line in demo.home.secrets.read_text().splitlines():
        assert line.split("=", 1)[1] not in printed


def test_a_second_push_goes_live_without_dropping_a_request(demo):
    with Load(f"http://{demo.demo.proxy_http}/", MAIN, fresh_connections=True) as load:
        commit = demo.push(layout.BRANCH, "2")
        outcome = demo.follow(layout.BRANCH, commit, MAIN, "hello from 2")
        load.wait_for(20)
    assert outcome.status == "live", outcome.reason
    assert load.failures == []  # every answer a 200, no connection error
    assert set(load.bodies) <= {"hello from 1", "hello from 2"}
    assert load.last == "hello from 2"


def test_failing_ci_deploys_nothing(demo):
    commit = demo.push(layout.BRANCH, "3", {"app/start.sh": _greeting("bye")})
    outcome = demo.follow(layout.BRANCH, commit, MAIN, "bye from 3")
    assert outcome.status == "failed"
    assert outcome.job["hooks"]["ci:local-ci"]["status"] == "failed"
    assert outcome.deployment is None and not outcome.job.get("deploy")
    assert demo.served(MAIN) == (200, "hello from 2")


def test_a_broken_app_fails_and_the_previous_version_keeps_serving(demo):
    commit = demo.push(layout.BRANCH, "4", {"Dockerfile": BROKEN_DOCKERFILE})
    outcome = demo.follow(layout.BRANCH, commit, MAIN, "hello from 4")
    assert outcome.status == "failed", outcome.reason
    assert outcome.deployment["state"] == "FAILED"
    assert demo.served(MAIN) == (200, "hello from 2")
    app = outcome.deployment["app"]
    wait(lambda: all(c.labels[VERSION] != commit[:12] for c in demo.app_containers(app)), timeout=60)


def test_a_feature_branch_gets_its_own_host_name(demo):
    host = "feature-login.hello.localhost"
    commit = demo.push("feature/login", "feature")
    outcome = demo.follow("feature/login", commit, host, "hello from feature")
    assert outcome.status == "live", outcome.reason
    assert demo.served(host) == (200, "hello from feature")
    assert demo.served(MAIN) == (200, "hello from 2")


def test_deleting_a_branch_removes_its_deployment(demo):
    host = "short-lived.hello.localhost"
    commit = demo.push("short-lived", "short")
    assert demo.follow("short-lived", commit, host, "hello from short").status == "live"
    demo.delete("short-lived")
    wait(lambda: demo.served(host)[0] == 404, timeout=90, interval=0.5)
    wait(lambda: demo.app_containers("totem-hello-short-lived") == [], timeout=90, interval=0.5)
    assert demo.served(MAIN) == (200, "hello from 2")
    assert demo.served("feature-login.hello.localhost") == (200, "hello from feature")


def test_totem_demo_down_stops_everything_it_started(demo):
    pids = [proc.read_pid(path) for path in (demo.home.stack.root / "run").glob("demo-*.pid")]
    assert pids and all(proc.is_alive(pid) for pid in pids)
    result = demo.down()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not any(proc.is_alive(pid) for pid in pids)
    assert demo.app_containers() == []
    assert demo.addresses_in_use() == []


def _greeting(word: str) -> str:
    from totem_demo.sample_repo import example_dir

    return (example_dir() / "app" / "start.sh").read_text().replace("hello from", f"{word} from")
