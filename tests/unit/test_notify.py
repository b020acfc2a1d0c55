"""The shared notifier (totem.notify): levels by name, the channels' bodies, failures returned, not raised."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from jsonschema import Draft202012Validator

from deployer import notify as deployer_notify
from tests.support import serve_http
from totem import signatures
from totem.net import free_port
from totem.notify import NOTIFICATIONS_SCHEMA, Delivery, Level, Notice, admits, notify, parse_level

JOB_GIT = {"owner": "acme", "repo": "shop", "ref": "master", "commit": "c" * 40}


@pytest.fixture
def receiver():
    """A loopback server recording (path, headers, raw body) of every POST; /fail answers 500."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), raw))
            self.send_response(500 if self.path.startswith("/fail") else 201)
            self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        yield base, received


def job_notice(level: Level) -> Notice:
    return Notice(
        level,
        "deploy requested",
        "Orchestrator",
        link="http://o/jobs/j1",
        env="prod",
        git=JOB_GIT,
        fields={"job-id": "j1", "state": "COMPLETE", "git": JOB_GIT},
    )


def test_levels_by_name_in_order_of_severity_and_the_old_numbers_still_work():
    assert [level.label for level in sorted(Level)] == ["failed", "warn", "success", "started", "pending"]
    assert parse_level("success") is Level.SUCCESS and parse_level("WARN") is Level.WARN
    assert parse_level(1) is Level.FAILED and parse_level(5) is Level.PENDING
    for bad in ("loud", 0, 6, True, None, "3"):
        with pytest.raises(ValueError):
            parse_level(bad)
    assert [level.label for level in Level if admits("success", level)] == ["failed", "warn", "success"]
    assert [level.label for level in Level if admits(None, level)] == ["failed", "warn", "success"]
    assert [level.label for level in Level if admits(1, level)] == ["failed"]


def test_the_notifications_schema_accepts_names_and_numbers_only():
    validator = Draft202012Validator(NOTIFICATIONS_SCHEMA)
    assert validator.is_valid({"slack": {"enabled": True, "level": "failed"}, "github": {"level": 3}})
    for level in ("loud", 0, 9, True):
        assert not validator.is_valid({"webhook": {"level": level}})
    assert not validator.is_valid({"email": {"enabled": True}})


def test_each_enabled_channel_whose_level_admits_the_notice_gets_it(receiver):
    base, received = receiver
    channels = {
        "github": {"enabled": True, "level": "success"},
        "slack": {"enabled": True, "level": "failed", "url": f"{base}/slack"},
        "webhook": {"enabled": True, "level": "success", "url": f"{base}/hook"},
    }
    delivery = Delivery(timeout=5, hook_secret="s3cret", github_api_url=f"{base}/gh", github_token="t0ken")
    outcome = notify(channels, job_notice(Level.SUCCESS), delivery)
    assert outcome.sent == ["github", "webhook"] and not outcome.failed and not outcome.skipped
    (gh_path, gh_headers, gh_raw), (hook_path, hook_headers, hook_raw) = received
    assert gh_path == f"/gh/repos/acme/shop/statuses/{'c' * 40}" and gh_headers["Authorization"] == "Bearer t0ken"
    assert json.loads(gh_raw) == {
        "state": "success",
        "target_url": "http://o/jobs/j1",
        "description": "deploy requested",
        "context": "prod::Orchestrator",
    }
    assert signatures.verify("s3cret", hook_raw, hook_headers["X-Hook-Signature"])
    assert json.loads(hook_raw) == {
        "status": "success",
        "level": 3,
        "message": "deploy requested",
        "job-id": "j1",
        "state": "COMPLETE",
        "git": JOB_GIT,
    }


def test_failures_are_returned_never_raised(receiver):
    base, _ = receiver
    channels = {
        "slack": {"enabled": True, "level": "failed", "url": f"{base}/fail"},
        "webhook": {"enabled": True, "level": "failed", "url": f"http://127.0.0.1:{free_port()}/"},
        "github": {"enabled": True, "level": "loud"},
    }
    outcome = notify(channels, job_notice(Level.FAILED), Delivery(timeout=5))
    assert outcome.sent == []
    assert outcome.failed == {"github": "ValueError", "slack": "HTTPError", "webhook": "ConnectionError"}


def test_github_is_skipped_without_a_commit(receiver):
    base, received = receiver
    notice = Notice(Level.FAILED, "check failed", "Deployer/c", app="shop", version="v1")
    outcome = notify({"github": {"enabled": True, "url": f"{base}/gh"}}, notice, Delivery(timeout=5))
    assert outcome.skipped == ["github"] and received == []


def deployment(channels: dict) -> dict:
    return {
        "id": "shop-v1-1",
        "app": "shop",
        "version": "v1",
        "state": "FAILED",
        "cluster": "east",
        "request": {"meta-info": {"job-id": "j", "env": "prod", "git": JOB_GIT}, "notifications": channels},
    }


def test_a_deployment_and_a_job_share_the_slack_body(receiver):
    base, received = receiver
    slack = {"slack": {"enabled": True, "level": "failed", "url": f"{base}/slack"}}
    sent = deployer_notify.send(deployment(slack), Level.FAILED, "check failed", Delivery(timeout=5), "http://d:9000")
    assert sent == ["slack"]
    notify(slack, job_notice(Level.FAILED), Delivery(timeout=5))
    deploy_body, job_body = (json.loads(raw) for _, _, raw in received)
    attachment = deploy_body["attachments"][0]
    assert attachment["color"] == "danger" and attachment["title"] == "shop v1 failed"
    assert attachment["title_link"] == "http://d:9000/deployments/shop-v1-1"
    assert {f["title"]: f["value"] for f in attachment["fields"]} == {
        "commit": "c" * 12,
        "env": "prod",
        "cluster": "east",
    }
    assert job_body["attachments"][0]["title"] == "acme/shop@master failed"
    assert set(job_body["attachments"][0]) == set(attachment)


def test_the_deployer_posts_github_statuses_only_with_a_token(receiver):
    base, received = receiver
    record = deployment({"github": {"enabled": True, "level": "failed"}})
    assert deployer_notify.send(record, Level.FAILED, "check failed", Delivery(timeout=5, github_api_url=base)) == []
    delivery = Delivery(timeout=5, github_api_url=base, github_token="t0ken")
    assert deployer_notify.send(record, Level.FAILED, "check failed", delivery) == ["github"]
    ((path, _, raw),) = received
    assert path == f"/repos/acme/shop/statuses/{'c' * 40}"
    assert json.loads(raw)["state"] == "failure" and json.loads(raw)["context"] == "prod::Deployer/east"


def test_the_deployer_webhook_keeps_its_fields(receiver):
    base, received = receiver
    record = deployment({"webhook": {"enabled": True, "level": "failed", "url": f"{base}/hook"}})
    assert deployer_notify.send(record, Level.FAILED, "check failed", Delivery(timeout=5)) == ["webhook"]
    _, headers, raw = received[0]
    assert "X-Hook-Signature" not in headers  # no secret, no signature
    assert json.loads(raw) == {
        "status": "failed",
        "level": 1,
        "message": "check failed",
        "deployment-id": "shop-v1-1",
        "app": "shop",
        "version": "v1",
        "state": "FAILED",
        "meta-info": record["request"]["meta-info"],
    }
