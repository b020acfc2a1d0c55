"""Access benchmark on the real stack (Redis): what the token check costs a request, and hook
ingestion and audited writes with the audit trail on against off, in one run.

    python bench/auth.py [--checks 3000] [--duration 5] [--connections 32]

1. The token check (`totem.access.guard.allow`) inside a request context, per kind of token: the
   bootstrap token (a constant-time compare), a stored token (one Redis GET), a token nobody issued.
2. The orchestrator as deployed (gunicorn, 2 workers, its worker running) under wrk, started twice:
   TOTEM_AUDIT=1 and TOTEM_AUDIT=0. Signed hooks, as bench/orchestrator.py sends them (a hook is
   audited where the deployment it starts is accepted, at the deployer, so the trail costs ingestion
   nothing); then a write refused by role (a viewer's `POST /tokens`), one audit record each.
Uses Redis DB 12 and its own key prefixes, and removes what it wrote; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import orchestrator as hooks  # noqa: E402
from bench.figures import percentile, record  # noqa: E402
from totem.access import guard  # noqa: E402
from totem.access.tokens import TokenStore  # noqa: E402
from totem.api import ApiError, create_service_app  # noqa: E402
from totem.settings import Settings  # noqa: E402

WRITE_SCRIPT = """
wrk.method = "POST"
wrk.path = "/tokens"
wrk.body = '{"name": "never", "role": "admin"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local denied, other = 0, 0
function response(status, headers, body)
  if status == 403 then denied = denied + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("TOTEM requests=%%d duration_us=%%d p50_us=%%d p99_us=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def token_check(checks: int, run: str) -> None:
    prefix = f"totem:bench:{run}:access"
    settings = Settings.from_env(
        {"TOTEM_REDIS_URL": hooks.REDIS_URL, "TOTEM_API_TOKEN": f"boot-{run}", "TOTEM_ACCESS_PREFIX": prefix}
    )
    app = create_service_app("totem-bench", dependencies=(), settings=settings)
    store = TokenStore(redis.Redis.from_url(hooks.REDIS_URL, decode_responses=True), prefix)
    stored, _ = store.create(f"bench-{run}", "deployer")
    kinds = {"bootstrap token": f"boot-{run}", "stored token": stored, "unknown token": "totem_" + "x" * 43}
    print(f"token check per request (guard.allow in a request context, {checks} each)")
    try:
        for kind, token in kinds.items():
            samples = []
            for _ in range(checks):
                with app.test_request_context("/", headers={"Authorization": f"Bearer {token}"}):
                    began = time.perf_counter()
                    try:
                        guard.allow("deploy")
                    except ApiError:
                        pass
                    samples.append((time.perf_counter() - began) * 1e6)
            median, p99 = statistics.median(samples), percentile(samples, 99)
            print(f"  {kind:<16} median {median:7.1f} us   p99 {p99:7.1f} us")
            record(f"token check, {kind}, median", median, "us")
            record(f"token check, {kind}, p99", p99, "us")
    finally:
        for key in store.redis.scan_iter(f"{prefix}:*"):
            store.redis.delete(key)


def under_load(args: argparse.Namespace, run: str, workdir: Path) -> None:
    print(
        f"\nthe orchestrator under wrk -t2 -c{args.connections} -d{args.duration}s "
        "(gunicorn as deployed, worker running)"
    )
    print(f"  {'audit':<6} {'hooks/s':>9} {'p99 ms':>8} {'accepted':>9}   {'audited writes/s':>16} {'p99 ms':>8}")
    for audit in ("1", "0"):
        deployer, tag = hooks.Deployer(), f"{run}{audit}"
        try:
            with hooks.running(tag, deployer, workdir / "configs", TOTEM_AUDIT=audit) as base:
                lines = hooks.hook_lines(hooks.HOOKS_PER_SECOND * args.duration, tag)
                wrk_args = argparse.Namespace(threads=2, connections=args.connections, duration=args.duration)
                ingested = hooks.run_wrk(base, workdir, lines, wrk_args)
                viewer, _ = TokenStore(
                    redis.Redis.from_url(hooks.REDIS_URL, decode_responses=True), f"totem:bench:{tag}:access"
                ).create("viewer", "viewer")
                writes = _denied_writes(base, workdir, viewer, args)
        finally:
            deployer.server.shutdown()
        rate = ingested["requests"] / (ingested["duration_us"] / 1e6)
        write_rate = writes["requests"] / (writes["duration_us"] / 1e6)
        state = "on" if audit == "1" else "off"
        print(
            f"  {state:<6} {rate:9.1f} {ingested['p99_us'] / 1000:8.1f} {int(ingested['accepted']):9d}"
            f"   {write_rate:16.1f} {writes['p99_us'] / 1000:8.1f}"
        )
        record(f"hook ingestion, audit {state}", rate, "hooks/s")
        record(f"audited writes (403), audit {state}", write_rate, "req/s")


def _denied_writes(base: str, workdir: Path, token: str, args: argparse.Namespace) -> dict[str, float]:
    script = workdir / "writes.lua"
    script.write_text(WRITE_SCRIPT % {"token": token})
    argv = [hooks.WRK, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script), base]
    finished = hooks.subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 60)
    line = next((x for x in finished.stdout.splitlines() if x.startswith("TOTEM ")), None)
    if finished.returncode or line is None:
        raise SystemExit(f"wrk failed ({finished.returncode}): {(finished.stderr or finished.stdout)[-500:]}")
    return {k: float(v) for k, v in (field.split("=") for field in line.split()[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=3000, help="token checks per kind (default 3000)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk load (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    args = parser.parse_args()
    if not hooks.WRK:
        raise SystemExit("wrk not found: install the Debian package `wrk` (apt-get install wrk)")
    run = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix="totem-bench-auth-"))
    try:
        token_check(args.checks, run)
        under_load(args, run, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
