"""`totem stack` with real processes, on its own $TOTEM_HOME and ports (not the dev stack's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import requests

from totem.waiting import wait
from totem_stack.services import NAMES, docker_exec_root
from yoda_proxy.testing import ProxyProcess

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dockerd runs as root")


def stack(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "totem_cli", "stack", *args], env=env, capture_output=True, text=True, timeout=120
    )


def status_json(env: dict, *args: str) -> dict[str, dict]:
    entries = json.loads(stack(env, "status", "--json", *args).stdout)
    return {entry["name"]: entry for entry in entries}


def alive(pid: int) -> bool:
    """In /proc and not a zombie (nothing reaps orphans in some containers)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def lines_by_service(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines() if line.split()}


def stack_env(home: Path, etcd_port: int = 12379, redis_url: str = "redis://127.0.0.1:16379/0"):
    """Ports and $TOTEM_HOME of the test's own, away from the dev stack's defaults."""
    return {
        **os.environ,
        "TOTEM_HOME": str(home),
        "TOTEM_ETCD_URL": f"etcd://127.0.0.1:{etcd_port}",
        "TOTEM_REDIS_URL": redis_url,
        "TOTEM_REGISTRY": "127.0.0.1:15000",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:15001",
        "DOCKER_HOST": f"unix://{home}/docker.sock",
        "TOTEM_PROMETHEUS_URL": "http://127.0.0.1:19090",
        "TOTEM_SYSLOG_URL": "tcp://127.0.0.1:15514",
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("stack")
    env = stack_env(home)
    yield env
    stack(env, "down")


@pytest.fixture(scope="module")
def first_up(env):
    result = stack(env, "up")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_up_starts_all_and_status_reports_up(env, first_up):
    lines = lines_by_service(first_up.stdout)
    assert all("started (pid" in lines[name] for name in NAMES), first_up.stdout
    status = stack(env, "status")
    assert status.returncode == 0, status.stdout
    states = status_json(env)
    assert list(states) == list(NAMES)
    for state in states.values():
        assert (state["health"], state["owner"], state["pid_alive"]) == ("up", "totem", True)
        assert alive(state["pid"])


def test_up_again_is_harmless(env, first_up):
    pids = {name: state["pid"] for name, state in status_json(env).items()}
    again = stack(env, "up")
    assert again.returncode == 0, again.stdout + again.stderr
    lines = lines_by_service(again.stdout)
    assert all(f"running (pid {pids[name]})" in lines[name] for name in NAMES), again.stdout
    assert {name: state["pid"] for name, state in status_json(env).items()} == pids


def test_killed_service_shows_down_until_up_restarts_it(env, first_up):
    before = status_json(env)
    killed = before["registry"]["pid"]
    os.kill(killed, signal.SIGKILL)
    wait(lambda: not alive(killed), timeout=10)

    status = stack(env, "status")
    assert status.returncode == 1
    line = lines_by_service(status.stdout)["registry"]
    assert f"{killed} (dead)" in line and line.endswith("down"), line
    after = status_json(env)
    assert (after["registry"]["health"], after["registry"]["pid_alive"]) == ("down", False)
    assert all(after[name]["health"] == "up" for name in NAMES if name != "registry")

    restarted = stack(env, "up")
    assert restarted.returncode == 0, restarted.stdout
    assert "started" in lines_by_service(restarted.stdout)["registry"]
    assert status_json(env)["registry"]["pid"] != killed
    assert status_json(env)["etcd"]["pid"] == before["etcd"]["pid"]


def test_the_collector_writes_one_file_per_app(env, first_up):
    """The stack's rsyslog (docs/logging.md) stores a shipped line in logs/apps/<app>.log, labels kept."""
    from totem import rfc5424, syslog_url
    from yoda_discover.syslog_sender import Sender

    sender = Sender(syslog_url.parse(env["TOTEM_SYSLOG_URL"]))
    sd = rfc5424.structured_data(rfc5424.ENTERPRISE_ID, {"app": "stack-app", "node": "stack-app-v1-1"})
    stamp = "2026-01-02T03:04:05.123456Z"
    assert sender.send(rfc5424.frame(rfc5424.message(b"hello", stamp=stamp, hostname="h1", app="stack-app", sd=sd)))
    sender.close()
    stored = Path(env["TOTEM_HOME"]) / "logs" / "apps" / "stack-app.log"
    line = wait(lambda: stored.exists() and stored.read_text().strip(), timeout=10)
    assert f"{stamp} h1 stack-app - {sd} hello" in line


def test_prometheus_scrapes_the_proxies_announced_in_etcd(env, first_up):
    """The targets writer puts a yoda-proxy announced under YODA_BASE into Prometheus' file_sd."""
    proxy = ProxyProcess(etcd_url=env["TOTEM_ETCD_URL"], base="/yoda").start()
    prometheus = env["TOTEM_PROMETHEUS_URL"]
    try:

        def target_up() -> bool:
            targets = requests.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            return any(t["labels"].get("node") == proxy.node and t["health"] == "up" for t in targets)

        wait(target_up, timeout=30, interval=0.2, ignoring=(requests.RequestException,))
        query = f'haproxy_backend_http_requests_total{{node="{proxy.node}"}}'
        answer = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()
        assert answer["status"] == "success" and answer["data"]["result"], answer
    finally:
        proxy.stop()


def test_down_stops_everything_it_started(env, first_up):
    home = Path(env["TOTEM_HOME"])
    pids = [state["pid"] for state in status_json(env).values()]
    containerd_pid = int((docker_exec_root(home) / "containerd" / "containerd.pid").read_text())
    assert all(alive(pid) for pid in [*pids, containerd_pid])

    result = stack(env, "down")
    assert result.returncode == 0, result.stdout + result.stderr
    assert all("stopped (pid" in line for line in lines_by_service(result.stdout).values())
    assert [pid for pid in [*pids, containerd_pid] if alive(pid)] == []
    assert list((home / "run").glob("*.pid")) == []
    status = stack(env, "status", "--json")
    assert status.returncode == 1
    assert {entry["health"] for entry in json.loads(status.stdout)} == {"down"}


def test_external_service_is_reused_and_left_running(tmp_path):
    env = stack_env(tmp_path / "home", etcd_port=12479, redis_url="redis://127.0.0.1:16380/0")
    external = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", "16380", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=16380)
        wait(lambda: _pings(client), timeout=10)

        up = stack(env, "up", "--only", "etcd,redis")
        assert up.returncode == 0, up.stdout + up.stderr
        lines = lines_by_service(up.stdout)
        assert "external" in lines["redis"] and "started" in lines["etcd"], up.stdout
        states = status_json(env, "--only", "redis,etcd")
        assert (states["redis"]["owner"], states["redis"]["pid"]) == ("external", None)
        etcd_pid = states["etcd"]["pid"]

        down = stack(env, "down", "--only", "etcd,redis")
        assert down.returncode == 0
        assert "left running" in lines_by_service(down.stdout)["redis"]
        assert not alive(etcd_pid)
        assert external.poll() is None and _pings(client)
    finally:
        stack(env, "down", "--only", "etcd,redis")
        external.terminate()
        external.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
