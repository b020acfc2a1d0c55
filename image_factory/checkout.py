"""Check out exactly one commit of a repository into a fresh directory (argument lists only)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from image_factory.errors import ImageFactoryError
from totem.git_names import validate_git
from totem.waiting import Deadline


class CheckoutError(ImageFactoryError, RuntimeError):
    """A commit could not be fetched or checked out."""


_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
    # a fetch is kept as the pack it comes in: unpacking it into loose objects compresses each again
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "fetch.unpackLimit",
    "GIT_CONFIG_VALUE_0": "1",
}


def clone_url(template: str, owner: str, repo: str) -> str:
    validate_git({"owner": owner, "repo": repo}, ("owner", "repo"))
    return template.format(owner=owner, repo=repo)


def checkout(url: str, commit: str, directory: Path, timeout: float, say: Callable[[str], None]) -> str:
    """Fetch `commit` (shallow when the server allows it, else full history) and check it out;
    returns its tree's hash (the same files give the same hash, whatever the commit)."""
    validate_git({"commit": commit}, ("commit",))
    deadline = Deadline(timeout)
    directory.mkdir(parents=True, exist_ok=False)
    git = _runner(directory, deadline, say)
    git("init", "--quiet")
    try:
        git("fetch", "--quiet", "--no-tags", "--depth", "1", "--", url, commit)
    except CheckoutError:
        say("shallow fetch of the commit was refused; fetching all branches and tags")
        git("fetch", "--quiet", "--tags", "--", url, "+refs/heads/*:refs/remotes/origin/*")
        try:
            git("cat-file", "-e", f"{commit}^{{commit}}")
        except CheckoutError:
            raise CheckoutError(f"commit {commit} is not in the repository") from None
    git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit, "--")
    head, _, tree = git("rev-parse", "HEAD^{commit}", "HEAD^{tree}").strip().partition("\n")
    if head != commit:
        raise CheckoutError(f"checked out {head}, expected {commit}")
    return tree


def _runner(directory: Path, deadline: Deadline, say: Callable[[str], None]):
    env = {**os.environ, **_GIT_ENV}

    def git(*args: str) -> str:
        command = args[2] if args[0] == "-c" else args[0]
        remaining = deadline.remaining()
        if remaining <= 0:
            raise CheckoutError("checkout timed out")
        say("$ git " + " ".join(args))
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=directory,
                env=env,
                capture_output=True,
                text=True,
                timeout=remaining,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise CheckoutError(f"git {command} timed out") from None
        if done.stderr.strip():
            say(done.stderr.strip())
        if done.returncode != 0:
            raise CheckoutError(f"git {command} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        return done.stdout

    return git
