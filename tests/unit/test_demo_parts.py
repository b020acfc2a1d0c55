"""`totem demo`'s pieces: secrets, GitHub push payloads from git, the phase timeline, the CI runner."""

from __future__ import annotations

import json
import shutil

import pytest

from totem.signatures import verify
from totem_demo import ci_runner, github_push, sample_repo, secrets, timeline
from totem_demo.github_push import ZERO


def test_secrets_are_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "demo" / "secrets.env"
    first = secrets.load_or_create(path)
    assert set(first) == set(secrets.NAMES) and all(len(v) >= 32 for v in first.values())
    assert path.stat().st_mode & 0o077 == 0
    assert secrets.load_or_create(path) == first


def _repo_with_two_commits(tmp_path):
    work, bare = tmp_path / "work", tmp_path / "hello.git"
    sample_repo.git(tmp_path, "init", "--quiet", "--bare", str(bare))
    work.mkdir()
    sample_repo.git(work, "init", "--quiet")
    (work / "a.txt").write_text("a\n")
    sample_repo.git(work, "add", "--all")
    sample_repo.git(work, "commit", "--quiet", "-m", "first")
    first = sample_repo.head(work)
    (work / "a.txt").write_text("b\n")
    (work / "b.txt").write_text("b\n")
    sample_repo.git(work, "add", "--all")
    sample_repo.git(work, "commit", "--quiet", "-m", "second\n\nbody")
    sample_repo.git(work, "push", "--quiet", str(bare), "HEAD:refs/heads/main")
    return bare, first, sample_repo.head(work)


def test_a_push_payload_has_githubs_shape(tmp_path):
    bare, first, second = _repo_with_two_commits(tmp_path)
    payload = github_push.push_payload(bare, "totem", "hello", ZERO, second, "refs/heads/main")
    assert (payload["ref"], payload["before"], payload["after"]) == ("refs/heads/main", ZERO, second)
    assert payload["created"] and not payload["deleted"]
    assert [c["id"] for c in payload["commits"]] == [first, second]
    assert payload["head_commit"]["id"] == second and payload["head_commit"]["message"] == "second\n\nbody"
    assert payload["head_commit"]["added"] == ["b.txt"] and payload["head_commit"]["modified"] == ["a.txt"]
    assert payload["repository"]["full_name"] == "totem/hello"
    assert payload["repository"]["owner"]["login"] == "totem"

    update = github_push.push_payload(bare, "totem", "hello", first, second, "refs/heads/main")
    assert [c["id"] for c in update["commits"]] == [second] and not update["created"]
    deleted = github_push.push_payload(bare, "totem", "hello", second, ZERO, "refs/heads/main")
    assert deleted["deleted"] and deleted["commits"] == [] and deleted["head_commit"] is None


def test_deliveries_are_signed_with_a_unique_id():
    body, headers = github_push.signed("s3cret", "push", {"ref": "refs/heads/main"})
    assert json.loads(body) == {"ref": "refs/heads/main"}
    assert headers["X-GitHub-Event"] == "push"
    assert verify("s3cret", body, headers["X-Hub-Signature-256"])
    assert headers["X-GitHub-Delivery"] != github_push.signed("s3cret", "push", {})[1]["X-GitHub-Delivery"]


def test_phases_start_where_the_pipeline_waits():
    points = {
        "pushed": 100.0,
        "webhook received": 100.5,
        "CI reported": 101.0,
        "image built": 103.0,
        "deploy requested": 103.25,
        "instances healthy": 104.0,
        "wired": 104.25,
        "proxies applied": 104.5,
        "old version drained": 107.5,
    }
    phases = dict(timeline.phases(points))
    assert phases["webhook received"] == 0.5
    assert phases["image built"] == 2.5 and phases["CI reported"] == 0.5
    assert phases["deploy requested"] == 0.25  # from the later of build and CI
    assert phases["old version drained"] == 3.0
    assert phases["hook to live"] == 4.0


def test_phases_not_reached_are_left_out():
    assert dict(timeline.phases({"pushed": 1.0, "webhook received": 2.0})) == {"webhook received": 1.0}


@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox-static is installed by `totem stack up`")
def test_the_ci_runner_runs_the_sample_apps_tests(tmp_path):
    app = tmp_path / "hello"
    shutil.copytree(sample_repo.example_dir(), app)
    assert ci_runner.run_tests(app) == 0
    start = app / "app" / "start.sh"
    start.write_text(start.read_text().replace("hello from", "bye from"))
    assert ci_runner.run_tests(app) != 0
