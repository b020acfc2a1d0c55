"""The local remote's post-receive hook: for each updated branch, a signed GitHub `push` delivery
(and `create` for a new branch) to every receiver, then the bundled CI runner in the background.

    post-receive --secrets FILE --owner O --repo R --receiver URL... [--ci-report URL]
    (git feeds "<old> <new> <ref>" lines on stdin)
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from totem import signed_post
from totem_demo import github_push, secrets
from totem_demo.github_push import ZERO
from totem_stack import process as proc


def deliver(url: str, secret: str, event: str, payload: dict, retry_for: float = signed_post.OUTAGE) -> str:
    """POST one delivery, retrying connection errors, 429 and 5xx while the receiver is down (a short
    outage must not lose the push); returns what to show the pusher."""
    body, headers = github_push.signed(secret, event, payload)  # one delivery id for every retry
    try:
        return str(signed_post.post(url, body, headers, retry_for=retry_for, timeout=10).status_code)
    except requests.RequestException as exc:
        return f"unreachable ({type(exc).__name__})"


def deliver_all(urls: list[str], secret: str, event: str, payload: dict) -> list[tuple[str, str]]:
    """The same event to every receiver at once (as GitHub sends each webhook on its own): the image
    factory starts building while the orchestrator is still answering. (url, answer) in `urls` order."""
    with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:
        answers = list(pool.map(lambda url: deliver(url, secret, event, payload), urls))
    return list(zip(urls, answers, strict=True))


def start_ci(args: argparse.Namespace, ref: str, commit: str) -> None:
    """Run the CI runner detached, so the push returns at once; its log goes under $TOTEM_HOME/log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    argv = [
        sys.executable,
        "-m",
        "totem_demo.ci_runner",
        "--secrets",
        args.secrets,
        "--owner",
        args.owner,
        "--repo",
        args.repo,
        "--ref",
        ref,
        "--commit",
        commit,
        "--git-url",
        f"file://{Path.cwd()}",
        "--report",
        args.ci_report,
    ]
    proc.spawn(argv, Path(args.log_dir) / "demo-ci.log", cwd=Path(args.log_dir), env=env)


def handle(args: argparse.Namespace, secret: str, old: str, new: str, full_ref: str) -> None:
    if not full_ref.startswith("refs/heads/"):
        return
    ref = full_ref[len("refs/heads/") :]
    repo = Path.cwd()
    if old == ZERO and new != ZERO:
        created = github_push.create_payload(args.owner, args.repo, ref)
        for url, answer in deliver_all(args.receiver, secret, "create", created):
            print(f"totem: create {ref} -> {url}: {answer}")
    payload = github_push.push_payload(repo, args.owner, args.repo, old, new, full_ref)
    for url, answer in deliver_all(args.receiver, secret, "push", payload):
        print(f"totem: push {ref} {new[:12]} -> {url}: {answer}")
    if new != ZERO and args.ci_report:
        start_ci(args, ref, new)
        print(f"totem: CI started for {ref} {new[:12]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="post-receive")
    parser.add_argument("--secrets", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--receiver", action="append", default=[], help="GitHub webhook URL (repeatable)")
    parser.add_argument("--ci-report", help="generic hook URL the CI runner reports to")
    parser.add_argument("--log-dir", default=".")
    args = parser.parse_args(argv)
    secret = secrets.load_or_create(Path(args.secrets))["TOTEM_HOOK_SECRET"]
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 3:
            handle(args, secret, *parts)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
