"""The bundled local CI: check out a commit, run the app's tests, report a signed `ci` generic hook.

    python -m totem_demo.ci_runner --secrets FILE --owner O --repo R --ref REF --commit SHA
                                   --git-url URL --report URL [--name local-ci]

The tests are `tests/run.sh` in the repository, run by busybox `sh` with a free `PORT`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from totem.contracts.hook import HookStatus
from totem.net import free_port
from totem.signed_post import send_hook
from totem_demo import secrets

TESTS = "tests/run.sh"
TEST_TIMEOUT = 300


def checkout(url: str, commit: str, into: Path) -> None:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", url, str(into)], check=True, timeout=120)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", "--detach", commit], check=True, timeout=120)


def run_tests(work: Path) -> int:
    if not (work / TESTS).is_file():
        print(f"ci: {TESTS} is missing")
        return 1
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "PORT": str(free_port())}
    try:
        return subprocess.run(["busybox", "sh", TESTS], cwd=work, env=env, timeout=TEST_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        print(f"ci: tests ran longer than {TEST_TIMEOUT}s")
        return 1


def hook(args: argparse.Namespace, status: str, result: dict) -> dict:
    return {
        "git": {"owner": args.owner, "repo": args.repo, "ref": args.ref, "commit": args.commit},
        "type": "ci",
        "name": args.name,
        "status": status,
        "result": result,
    }


def report(args: argparse.Namespace, status: str, result: dict, secret: str) -> int | None:
    """Send the hook (retried while the orchestrator is down); its answer's status, None if unreachable."""
    try:
        return send_hook(args.report, hook(args, status, result), secret).status_code
    except requests.RequestException as exc:
        print(f"ci: {args.report} unreachable ({type(exc).__name__})", flush=True)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="totem-ci")
    for name in ("secrets", "owner", "repo", "ref", "commit", "git-url", "report"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--name", default="local-ci", help="hook name (the config's hooks.ci.<name>)")
    args = parser.parse_args(argv)
    secret = secrets.load_or_create(Path(args.secrets))["TOTEM_HOOK_SECRET"]
    print(f"ci: {args.owner}/{args.repo} {args.ref} {args.commit[:12]}: started", flush=True)
    # "pending" goes out while the tests run; the result is sent after it, so they arrive in order
    pending = threading.Thread(target=report, args=(args, HookStatus.PENDING, {}, secret), daemon=True)
    pending.start()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="totem-ci-") as tmp:
        try:
            checkout(args.git_url, args.commit, Path(tmp) / "src")
            code = run_tests(Path(tmp) / "src")
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"ci: checkout failed: {exc}")
            code = 1
    status = HookStatus.SUCCESS if code == 0 else HookStatus.FAILED
    result = {"tests": TESTS, "exit-code": code, "duration-s": round(time.monotonic() - started, 3)}
    pending.join()
    answer = report(args, status, result, secret)
    print(f"ci: {args.ref} {args.commit[:12]}: {status}, reported ({answer or 'not delivered'})", flush=True)
    return 0 if answer is not None and answer < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
