"""Orchestrator benchmark on the real stack (Redis, etcd): hook ingestion and last-hook → deploy latency.

    python bench/orchestrator.py [--duration 10] [--connections 32] [--threads 2] [--deploys 30]

Starts the orchestrator as deployed (gunicorn, 2 workers, totem.api.gunicorn_conf) and its Celery
worker as deployed (prefork, concurrency 2: deploy/stack.yml, the demo) on loopback, plays the
deployer with a local HTTP server, and prints figures; it asserts nothing. The ingestion load comes
from wrk (Debian package `wrk`), a C client that leaves the server's CPU to the server: it replays
hooks signed here the way the senders sign them, each a new commit of one of 100 apps, while the
worker processes the jobs they open. Uses Redis DB 12 and its own key prefixes, and removes what it
wrote.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile, record  # noqa: E402
from orchestrator.runtime import QUEUE  # noqa: E402
from totem import signatures, signed_post  # noqa: E402
from totem.api import gunicorn_conf  # noqa: E402
from totem.net import free_port  # noqa: E402
from totem.waiting import WaitTimeout, wait  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret"
REDIS_URL = "redis://127.0.0.1:6379/12"
WRK = shutil.which("wrk")
HOOKS_PER_SECOND = 4000  # distinct hooks made per second of load: more than the server answers


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


# wrk's script: each thread takes every n-th line of the hooks file ("signature<TAB>body"), formats
# them once, and sends them in turn; done() prints one line of counts and latencies (microseconds)
WRK_SCRIPT = """
local DATA, THREADS = %(data)s, %(threads)d
local threads, started = {}, 0
function setup(thread)
  thread:set("id", started)
  started = started + 1
  table.insert(threads, thread)
end
function init(args)
  requests_, n, next_ = {}, 0, 0
  accepted, other, wrapped = 0, 0, 0
  for line in io.lines(DATA) do
    if n %% THREADS == id then
      local signature, body = line:match("^([^\\t]*)\\t(.*)$")
      requests_[#requests_ + 1] = wrk.format("POST", "/hooks/generic",
        {["Content-Type"] = "application/json", ["X-Hook-Signature"] = signature}, body)
    end
    n = n + 1
  end
end
function request()
  next_ = next_ + 1
  if next_ > #requests_ then next_, wrapped = 1, wrapped + 1 end
  return requests_[next_]
end
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o, w = 0, 0, 0
  for _, t in ipairs(threads) do
    a, o, w = a + t:get("accepted"), o + t:get("other"), w + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    "TOTEM requests=%%.0f duration_us=%%.0f accepted=%%.0f other=%%.0f wrapped=%%.0f connect=%%.0f read=%%.0f " ..
    "write=%%.0f timeout=%%.0f p50_us=%%.0f p90_us=%%.0f p99_us=%%.0f max_us=%%.0f\\n",
    summary.requests, summary.duration, a, o, w, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def hook_lines(count: int, run: str) -> list[str]:
    """`count` signed builder hooks, each a new commit of one of 100 apps (no hook repeats, so
    every one opens or moves a job and must be answered 202)."""
    lines = []
    for i in range(count):
        sha = hashlib.sha1(f"{run}-{i}".encode()).hexdigest()
        body = signed_post.encode(
            {
                "git": {"owner": f"bench{run}", "repo": f"app{i % 100}", "ref": "main", "commit": sha},
                "type": "builder",
                "name": "image-factory",
                "status": "success",
                "result": {"image": f"127.0.0.1:5000/app{i % 100}:{sha[:12]}"},
            }
        )
        lines.append(f"{signatures.sign(SECRET, body)}\t{body.decode()}")
    return lines


def run_wrk(base: str, workdir: Path, lines: list[str], args: argparse.Namespace) -> dict[str, float]:
    data, script = workdir / "hooks.txt", workdir / "hooks.lua"
    data.write_text("\n".join(lines) + "\n")
    script.write_text(WRK_SCRIPT % {"data": json.dumps(str(data)), "threads": args.threads})
    argv = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
    argv += ["--latency", "-s", str(script), base]
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 60)
    line = next((x for x in finished.stdout.splitlines() if x.startswith("TOTEM ")), None)
    if finished.returncode or line is None:
        raise SystemExit(f"wrk failed ({finished.returncode}): {(finished.stderr or finished.stdout)[-500:]}")
    return {k: float(v) for k, v in (field.split("=") for field in line.split()[1:])}


def ingestion(base: str, workdir: Path, run: str, args: argparse.Namespace, deployer: Deployer) -> None:
    lines = hook_lines(HOOKS_PER_SECOND * args.duration, run)
    deploys_before = len(deployer.arrivals)
    r = run_wrk(base, workdir, lines, args)
    seconds, total = r["duration_us"] / 1e6, int(r["requests"])
    errors = {k: int(r[k]) for k in ("connect", "read", "write", "timeout")}
    print(f"hook ingestion  (wrk -t{args.threads} -c{args.connections} -d{args.duration}s; gunicorn as deployed;")
    print(f"                 worker running (prefork, 2); {total} hooks over 100 apps, each a new commit)")
    print(f"  throughput      {total / seconds:8.1f} req/s   accepted (202) {int(r['accepted'])}/{total}")
    for name in ("p50", "p90", "p99", "max"):
        print(f"  latency {name:<7} {r[name + '_us'] / 1000:8.1f} ms")
    print(f"  other answers   {int(r['other']):8d}      socket errors {sum(errors.values())} {errors}")
    print(f"  deploy requests {len(deployer.arrivals) - deploys_before:8d}      sent by the worker during the load")
    record("hook ingestion throughput (worker running)", total / seconds, "hooks/s", at_least=1000)
    record("hook ingestion latency p99", r["p99_us"] / 1000, "ms", at_most=50)
    record("hooks not answered 202", total - int(r["accepted"]), "hooks", at_most=0)
    if r["wrapped"]:
        print("  note: wrk ran out of distinct hooks and replayed some (answered 200, superseded commits)")


def drain(client: redis.Redis, deployer: Deployer, seconds: float) -> None:
    """Give the worker `seconds` to finish the load's backlog, then drop what is left (the next part
    times single deploys, which a queue of thousands would only delay)."""
    started, before = time.perf_counter(), len(deployer.arrivals)
    with contextlib.suppress(WaitTimeout):
        wait(lambda: not client.llen(QUEUE), seconds, 0.2, what="the orchestrator queue drained")
    left = client.llen(QUEUE)
    client.delete(QUEUE)
    elapsed = time.perf_counter() - started
    print(f"  backlog         {left:8d} tasks left after {elapsed:.0f} s more (dropped); ", end="")
    print(f"{len(deployer.arrivals) - before} more deploy requests meanwhile")


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
    record("last hook → deploy request median", statistics.median(latencies) * 1000, "ms")


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


@contextlib.contextmanager
def running(run: str, deployer: Deployer, configs: Path, **extra: str):
    """The orchestrator as deployed (gunicorn, 2 workers) and its worker, on Redis DB 12 under the
    run's own prefix; yields its base URL, and removes what it wrote afterwards."""
    port = free_port()
    prefix = f"totem:bench:{run}"
    env = {
        **os.environ,
        "TOTEM_REDIS_URL": REDIS_URL,
        "TOTEM_HOOK_SECRET": SECRET,
        "TOTEM_API_TOKEN": "bench",
        "TOTEM_ORCHESTRATOR_PREFIX": prefix,
        "TOTEM_ACCESS_PREFIX": f"{prefix}:access",
        "TOTEM_DEPLOYER_URL": deployer.url,
        "TOTEM_LOG_FORMAT": "kv",
        "TOTEM_CONFIG_PROVIDERS": "repo,default",
        "TOTEM_ENV": f"bench{run}",
        "TOTEM_REPO_CONFIG_URL": f"file://{configs}/{{owner}}/{{repo}}/{{commit}}/totem.yml",
        **extra,
    }
    worker = start(
        [
            str(BIN / "celery"),
            "-A",
            "orchestrator.worker",
            "worker",
            "-Q",
            QUEUE,
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "error",
        ],
        env,
    )
    api = start(gunicorn_conf.command("orchestrator", f"127.0.0.1:{port}", "--log-level", "error"), env)
    base = f"http://127.0.0.1:{port}"
    client = redis.Redis.from_url(REDIS_URL)
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
        yield base
    finally:
        stop(api)
        stop(worker)
        client.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
        for pattern in (f"{prefix}:*", "celery-task-meta-*"):
            for key in client.scan_iter(pattern, count=1000):
                client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--deploys", type=int, default=30, help="last-hook → deploy samples (default 30)")
    parser.add_argument("--drain", type=float, default=20, help="seconds to let the worker catch up (default 20)")
    args = parser.parse_args()
    if not WRK:
        raise SystemExit("wrk not found: install the Debian package `wrk` (apt-get install wrk)")
    if min(args.duration, args.threads, args.deploys) < 1 or args.connections < args.threads:
        raise SystemExit("--duration, --threads and --deploys must be >= 1, and --connections >= --threads")
    run, deployer = uuid.uuid4().hex[:8], Deployer()
    workdir = Path(tempfile.mkdtemp(prefix="totem-bench-"))
    configs = workdir / "configs"
    try:
        with running(run, deployer, configs) as base:
            ingestion(base, workdir, run, args, deployer)
            drain(redis.Redis.from_url(REDIS_URL), deployer, args.drain)
            last_hook_to_deploy(base, deployer, configs, args.deploys, run)
    finally:
        deployer.server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
