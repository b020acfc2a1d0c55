"""Small helpers shared by tests: a private etcd that a test may stop and restart, a loopback HTTP
server, stopping a child process. Waiting is totem.waiting's; free ports are totem.net's."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from totem.contracts.labels import CLUSTER, selector
from totem.net import free_port
from totem.waiting import wait
from totem_stack.services import etcd_argv


class PrivateEtcd:
    """An etcd of the test's own on loopback, with a data dir that survives restarts
    (tests get one from the `private_etcd` fixture)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.client_port = free_port()
        self.peer_port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        return f"etcd://{self.address}"

    def start(self) -> PrivateEtcd:
        client = f"http://{self.address}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        log = open(self.workdir / "etcd.log", "ab")
        argv = etcd_argv("test", self.workdir / "data", client, peer, "--log-level", "error")
        self.process = subprocess.Popen(
            [shutil.which("etcd") or "etcd", *argv[1:]],
            stdout=log,
            stderr=log,
        )
        wait(
            self._healthy, 20, what=f"the private etcd on {self.address} healthy", ignoring=(requests.RequestException,)
        )
        return self

    def _healthy(self) -> bool:
        return requests.get(f"http://{self.address}/health", timeout=1).ok

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def pause(self) -> None:
        """SIGSTOP this etcd (its own pid): it answers nothing; leases past their TTL expire once it runs again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL this etcd (its own pid); `start()` brings it back on the same data and ports."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def compact(self) -> int:
        """Compact history up to the current revision; returns that revision."""
        header = requests.post(f"http://{self.address}/v3/kv/range", json={"key": "AA=="}, timeout=5).json()["header"]
        revision = int(header["revision"])
        requests.post(
            f"http://{self.address}/v3/kv/compaction", json={"revision": revision, "physical": True}, timeout=5
        )
        return revision


def terminate(process: subprocess.Popen, timeout: float = 30.0, sig: int = 15) -> None:
    """Stop a child politely (SIGTERM by default), then for sure."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


REPO = Path(__file__).resolve().parents[1]


def private_services_env(run: str, root: str, redis_url: str, token: str, secret: str, work: Path, **more: str):
    """The environment of the services a test runs on its own: its Redis database, key prefixes and
    queues named after `run` (nobody else consumes them), etcd keys under `root`; `more` on top."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        TOTEM_REDIS_URL=redis_url,
        TOTEM_API_TOKEN=token,
        TOTEM_HOOK_SECRET=secret,
        TOTEM_INSECURE_DEV="0",
        TOTEM_CLUSTER=f"c{run}",
        TOTEM_ENV=f"e{run}",
        YODA_BASE=f"{root}yoda",
        TOTEM_CONFIG_PROVIDERS="default",
        TOTEM_CONFIG_ETCD_PREFIX=f"{root}config",
        TOTEM_ORCHESTRATOR_PREFIX=f"test-{run}:orchestrator",
        TOTEM_IMAGE_FACTORY_PREFIX=f"test-{run}:image_factory",
        TOTEM_IMAGE_FACTORY_QUEUE=f"test-{run}-image-factory",
        TOTEM_IMAGE_FACTORY_WORKDIR=str(work / "image-factory"),
        TOTEM_DEPLOYER_PREFIX=f"{root}deployer",
        TOTEM_DEPLOYER_QUEUE=f"test-{run}-deployer",
        TOTEM_LOG_FORMAT="kv",
        # workers' /metrics on free ports (docs/metrics.md): never the demo's
        TOTEM_ORCHESTRATOR_WORKER_METRICS="127.0.0.1:0",
        TOTEM_DEPLOYER_WORKER_METRICS="127.0.0.1:0",
        TOTEM_IMAGE_FACTORY_WORKER_METRICS="127.0.0.1:0",
    )
    return {**env, **more}


@contextlib.contextmanager
def orchestrator_worker(runtime, env: dict, work: Path, concurrency: int, beat: bool = False) -> Iterator:
    """The orchestrator's Celery worker (and its beat, when asked) once it answers a ping; stopped after."""
    argv = [str(Path(sys.executable).parent / "celery"), "-A", "orchestrator.worker", "worker"]
    argv += ["-B", "-s", str(work / "beat")] if beat else []
    argv += ["-Q", "orchestrator", "--pool", "threads", "-c", str(concurrency)]
    argv += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"]
    with open(work / "worker.log", "wb") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            runtime.celery.send_task("orchestrator.ping", queue="orchestrator").get(timeout=60)
            yield process
        finally:
            terminate(process, 30)


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """A fake server's JSON answer."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@contextlib.contextmanager
def serve_http(handler: type) -> Iterator[str]:
    """A threaded HTTP server on a free loopback port for the test's handler; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def healthy(url: str) -> bool:
    """`url` answers 200 (a service's /health once it is up)."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def run_totem(*argv: str) -> int:
    """The operator command `totem ARGV` in this process (as the CLI runs it, without the interpreter's
    start), so a test can read its output with capsys."""
    import argparse

    from totem_cli import ops

    parser = argparse.ArgumentParser(prog="totem")
    ops.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.handler(args)


def discover_watch_args(etcd_url: str, base: str, cluster: str) -> list[str]:
    """`yoda-discover watch` of one test cluster's instances, polling fast so tests settle quickly."""
    fast = ["--interval", "0.3", "--timeout", "1", "--fall", "2", "--ttl", "5", "--resync", "2"]
    return ["watch", "--etcd", etcd_url, "--base", base, "--label", selector(CLUSTER, cluster), *fast]
