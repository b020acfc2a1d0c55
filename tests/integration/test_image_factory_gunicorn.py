"""The image factory under gunicorn (the APIs' configuration, one worker of 4 threads here).

Followed build logs never starve it: a follower over TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS gets a 429
while /health and the build list keep answering, and a follower that leaves gives its slot back.
A push over the body limit is a 413 in the JSON envelope, whatever its signature."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests

from image_factory.app import MAX_BODY
from image_factory.records import BuildStore
from tests.images.image_factory.environment import FactoryEnvironment
from tests.images.image_factory.github_push import delivery, push_payload
from tests.support import terminate
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.settings import Settings
from totem.waiting import wait

REPO = Path(__file__).resolve().parents[2]
THREADS, CAP = 4, 2
PROMPT = 10.0  # seconds a request may wait before it counts as starved (followers last far longer)


@pytest.fixture
def server(tmp_path):
    """(base URL, build store, environment) of an image factory under gunicorn with its own Redis
    prefix; the process (by its pid) and every key it made are gone afterwards."""
    env = FactoryEnvironment(tmp_path, "http://127.0.0.1:9", f"secret-{uuid.uuid4().hex}")
    client = redis.Redis.from_url(Settings.from_env(env.env).redis_url, decode_responses=True)
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    argv = gunicorn_conf.command("image_factory", f"127.0.0.1:{port}", "-w", "1", "--threads", str(THREADS))
    assert argv[1:3] == ["-c", "python:totem.api.gunicorn_conf"]
    process = subprocess.Popen(
        argv,
        env={**env.env, "TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS": str(CAP)},
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait(
            lambda: requests.get(f"{base}/health", timeout=2).ok,
            30,
            what=f"the image factory on {base} healthy",
            ignoring=(requests.ConnectionError,),
        )
        yield base, BuildStore(client, env.prefix), env
    finally:
        terminate(process)
        log.close()
        env.cleanup(client)
        client.close()


def running_build(store: BuildStore) -> str:
    """A running build whose log has a line and no end: its followers follow until they leave."""
    record = store.create({"owner": "follow-test", "repo": "app", "ref": "main", "commit": "f" * 40}, "test")
    store.update(record["id"], status="running", started_at=time.time())
    store.redis.xadd(store.key("log", record["id"]), {"line": "building forever"})
    return record["id"]


class Follower:
    """`GET /builds/<id>/log?follow=1` on a connection of its own; closing it hangs up, as a closed
    browser tab does. Its chunk iterator is kept: dropping a half-read one closes the connection."""

    def __init__(self, base: str, build_id: str):
        self.response = requests.get(
            f"{base}/builds/{build_id}/log", params={"follow": "1"}, stream=True, timeout=(5, 30)
        )
        self.status = self.response.status_code
        self._chunks = self.response.iter_content(chunk_size=None) if self.status == 200 else None

    def next_chunk(self) -> str:
        assert self._chunks is not None, f"not following: {self.status}"
        return next(self._chunks).decode()

    def close(self) -> None:
        self.response.close()


def answers_promptly(url: str) -> requests.Response:
    """Answered at all: behind starved threads it would wait for a follower to end (an hour), so the
    read times out and the test fails."""
    return requests.get(url, timeout=PROMPT)


def test_followers_over_the_cap_get_429_and_the_api_keeps_answering(server):
    base, store, _ = server
    build_id = running_build(store)
    followers: list[Follower] = []

    def follow() -> Follower:
        followers.append(Follower(base, build_id))
        return followers[-1]

    try:
        # as many followers as the worker has threads: without the cap they would take every one
        answers = [follow() for _ in range(THREADS)]
        assert [f.status for f in answers] == [200] * CAP + [429] * (THREADS - CAP)
        streaming = answers[:CAP]
        for follower in streaming:
            assert follower.response.headers["Content-Type"].startswith("text/event-stream")
            assert "event: line\ndata: building forever" in follower.next_chunk()
        refused = answers[CAP].response
        assert refused.headers["Retry-After"].isdigit() and int(refused.headers["Retry-After"]) > 0
        error = refused.json()["error"]
        assert error["code"] == "too_many_followers" and error["details"]["limit"] == CAP

        health = answers_promptly(f"{base}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        listed = answers_promptly(f"{base}/builds?owner=follow-test")
        assert [b["id"] for b in listed.json()["builds"]] == [build_id]
        assert answers_promptly(f"{base}/builds/{build_id}").json()["status"] == "running"
        for follower in streaming:  # and the followers are still being served meanwhile
            assert follower.next_chunk() == ": keep-alive\n\n"
        assert follow().status == 429

        # a follower that hangs up gives its slot back (once the server's next keep-alive fails)
        streaming[0].close()
        again = wait(
            lambda: (f := follow()).status == 200 and f, 20, interval=0.5, what="the closed follower's slot free"
        )
        assert "building forever" in again.next_chunk()
        assert follow().status == 429  # the cap holds again
        assert streaming[1].next_chunk() == ": keep-alive\n\n"
        assert answers_promptly(f"{base}/health").status_code == 200
    finally:
        for follower in followers:
            follower.close()


def test_a_stream_that_ends_gives_its_slot_back(server):
    base, store, _ = server
    build_id = running_build(store)
    followers = [Follower(base, build_id) for _ in range(CAP)]
    try:
        assert [f.status for f in followers] == [200] * CAP
        followers.append(Follower(base, build_id))
        assert followers[-1].status == 429
        store.finish(build_id, "succeeded")
        store.redis.xadd(store.key("log", build_id), {"eof": "succeeded"})
        for follower in followers[:CAP]:  # each reads to the end of its stream
            assert follower.response.text.rstrip().endswith("event: end\ndata: succeeded")
        # every slot is free again: as many new followers as the cap are served (and end at once)
        for _ in range(CAP):
            followers.append(Follower(base, build_id))
            assert followers[-1].status == 200 and "event: end" in followers[-1].response.text
    finally:
        for follower in followers:
            follower.close()


def test_a_push_over_the_body_limit_is_413_in_the_envelope_whatever_its_signature(server):
    base, store, env = server
    payload = json.dumps({**push_payload(env.owner, "app", "main", "e" * 40), "padding": "x" * 10_000_000}).encode()
    assert len(payload) > MAX_BODY
    for secret in (env.hook_secret, "wrong-secret"):
        body, headers = delivery(secret, payload, delivery_id=env.delivery_id())
        response = requests.post(f"{base}/hooks/github", data=body, headers=headers, timeout=30)
        assert response.status_code == 413 and response.headers["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "request_entity_too_large"
    assert requests.get(f"{base}/builds", params={"owner": env.owner}, timeout=5).json()["builds"] == []
    assert store.redis.llen(env.queue) == 0
