"""Orchestrator benchmark on the real stack (Redis, etcd): hook ingestion and last-hook → deploy latency.

    python bench/orchestrator.py [--hooks 2000] [--concurrency 32] [--deploys 50]

Starts gunicorn (2 workers) and a Celery worker on loopback, plays the deployer with a local HTTP
server, and prints figures; it asserts nothing. Uses Redis DB 12 and its own key prefixes, and
removes what it wrote.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
import requests

from totem import signed_post
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.waiting import WaitTimeout, wait

BIN = Path(sys.executable).parent
SECRET = "bench-secret"
REDIS_URL = "redis://127.0.0.1:6379/12"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


class Deployer:
    """Records when each deploy request arrives, by commit."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                arrivals.setdefault(body.get("meta-info", {}).get("git", {}).get("commit", ""), time.perf_counter())
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def hook(owner: str, repo: str, ref: str, sha: str, kind: str, name: str) -> bytes:
    result = {"image": f"127.0.0.1:5000/{owner}-{repo}:{sha}"} if kind == "builder" else {}
    return json.dumps(
        {
            "git": {"owner": owner, "repo": repo, "ref": ref, "commit": sha},
            "type": kind,
            "name": name,
            "status": "success",
            "result": result,
        }
    ).encode()


def post(session: requests.Session, base: str, body: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    response = signed_post.post(
        f"{base}/hooks/generic", body, signed_post.signed_headers(body, SECRET), timeout=30, session=session
    )
    return time.perf_counter() - started, response.status_code


def ingestion(base: str, count: int, concurrency: int, run: str) -> None:
    sessions = threading.local()

    def send(i: int):
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()
        sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        return post(sessions.s, base, hook(f"bench{run}", f"app{i % 100}", f"b{i}", sha, "builder", "image-factory"))

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(send, range(count)))
    elapsed = time.perf_counter() - started
    latencies = [latency for latency, _ in results]
    accepted = sum(1 for _, status in results if status == 202)
    print(f"hook ingestion  (gunicorn -w 2, {concurrency} clients, {count} hooks)")
    print(f"  throughput      {count / elapsed:8.1f} req/s   accepted {accepted}/{count}")
    print(f"  latency p50     {percentile(latencies, 50) * 1000:8.1f} ms")
    print(f"  latency p99     {percentile(latencies, 99) * 1000:8.1f} ms")


def last_hook_to_deploy(base: str, deployer: Deployer, configs: Path, count: int, run: str) -> None:
    session, latencies = requests.Session(), []
    owner, repo = f"bench{run}", "latency"
    for i in range(count):
        sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        path = configs / owner / repo / sha / "totem.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("hooks:\n  ci:\n    travis:\n      enabled: true\n")
        _, status = post(session, base, hook(owner, repo, f"l{i}", sha, "ci", "travis"))
        job = session.get(f"{base}/jobs?owner={owner}&repo={repo}&ref=l{i}", timeout=10).json()["jobs"][0]["id"]
        wait_scheduled(session, base, job)
        started = time.perf_counter()
        post(session, base, hook(owner, repo, f"l{i}", sha, "builder", "image-factory"))
        latencies.append(arrival(deployer, sha) - started)
    print(f"last hook → deploy request  ({count} jobs, builder hook after ci success)")
    print(f"  median          {statistics.median(latencies) * 1000:8.1f} ms")
    print(f"  p99             {percentile(latencies, 99) * 1000:8.1f} ms")


def wait_scheduled(session: requests.Session, base: str, job: str) -> None:
    try:
        wait(
            lambda: session.get(f"{base}/jobs/{job}", timeout=10).json()["state"] == "SCHEDULED",
            30,
            0.01,
            what=f"job {job} SCHEDULED",
        )
    except WaitTimeout:
        raise SystemExit("job never reached SCHEDULED; is the worker running?") from None


def arrival(deployer: Deployer, sha: str) -> float:
    """When the deploy request for `sha` reached the stub (stamped there, so polling adds nothing)."""
    try:
        return wait(lambda: deployer.arrivals.get(sha), 30, 0.001, what=f"the deploy request for {sha}")
    except WaitTimeout:
        raise SystemExit("no deploy request within 30 s") from None


def start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hooks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--deploys", type=int, default=50)
    args = parser.parse_args()
    run, deployer, port = uuid.uuid4().hex[:8], Deployer(), free_port()
    configs = Path(tempfile.mkdtemp(prefix="totem-bench-"))
    prefix = f"totem:bench:{run}"
    env = {
        **os.environ,
        "TOTEM_REDIS_URL": REDIS_URL,
        "TOTEM_HOOK_SECRET": SECRET,
        "TOTEM_API_TOKEN": "bench",
        "TOTEM_ORCHESTRATOR_PREFIX": prefix,
        "TOTEM_DEPLOYER_URL": deployer.url,
        "TOTEM_LOG_FORMAT": "kv",
        "TOTEM_CONFIG_PROVIDERS": "repo,default",
        "TOTEM_ENV": f"bench{run}",
        "TOTEM_REPO_CONFIG_URL": f"file://{configs}/{{owner}}/{{repo}}/{{commit}}/totem.yml",
    }
    worker = start(
        [
            str(BIN / "celery"),
            "-A",
            "orchestrator.worker",
            "worker",
            "-Q",
            "orchestrator",
            "--pool",
            "threads",
            "-c",
            "16",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "error",
        ],
        env,
    )
    api = start(
        gunicorn_conf.command("orchestrator", f"127.0.0.1:{port}", "--threads", "16", "--log-level", "error"), env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait(
                lambda: requests.get(f"{base}/health", timeout=2).ok,
                30,
                0.2,
                what="the orchestrator healthy",
                ignoring=(requests.RequestException,),
            )
        except WaitTimeout:
            raise SystemExit("orchestrator did not start") from None
        ingestion(base, args.hooks, args.concurrency, run)
        client = redis.Redis.from_url(REDIS_URL)
        with contextlib.suppress(WaitTimeout):  # let the backlog drain first
            wait(lambda: not client.llen("orchestrator"), 120, 0.2, what="the orchestrator queue drained")
        last_hook_to_deploy(base, deployer, configs, args.deploys, run)
    finally:
        stop(api)
        stop(worker)
        deployer.server.shutdown()
        client = redis.Redis.from_url(REDIS_URL)
        for pattern in (f"{prefix}:*", "celery-task-meta-*"):
            for key in client.scan_iter(pattern, count=1000):
                client.delete(key)
        shutil.rmtree(configs, ignore_errors=True)


if __name__ == "__main__":
    main()
