"""A signed hook from a builder the app does not configure, through the real orchestrator (worker,
Redis, config providers) against the fake deployer of test_orchestrator_flow: it is recorded, and
inert. 2015's prepare_job dropped such hooks; today's bug let one pick the image and force a deploy."""

from __future__ import annotations

import uuid

from tests.integration.test_orchestrator_flow import (  # noqa: F401  (fixtures, used by name)
    FINAL,
    app_git,
    client,
    deployers_yaml,
    env,
    event_types,
    post_generic,
    recorder,
    runtime,
    travis_key,
    wait_job,
    worker,
)
from tests.unit.test_orchestrator_payloads import commit, generic_hook
from totem.waiting import wait


def test_an_unconfigured_builder_with_force_deploy_neither_deploys_nor_names_the_image(client, recorder, app_git):  # noqa: F811
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main", ci="travis"))  # builder:image-factory (default), ci:travis
    evil = {"docker_url": "evil.example/backdoor", "docker_tags": ["latest"]}
    quay = generic_hook(owner, repo, "master", sha, name="quay", result=evil, **{"force-deploy": True})
    first = post_generic(client, quay)
    assert first.status_code == 202  # the job's first hook: its config is not loaded yet
    job_id = first.get_json()["job"]["id"]
    job = wait_job(client, job_id, states=("SCHEDULED", *FINAL))
    assert job["state"] == "SCHEDULED" and recorder.received(f"/d/{tid}") == [], job
    assert job["force-deploy"] is False and job["required-hooks"] == ["builder:image-factory", "ci:travis"]
    wait(lambda: "HOOK_IGNORED" in event_types(client.get(f"/jobs/{job_id}").get_json()), timeout=10)

    again = post_generic(client, {**quay, "result": {"image": "evil.example/other:1"}})
    assert again.status_code == 200
    assert again.get_json()["status"] == "ignored" and again.get_json()["reason"] == "not configured for this app"

    good = generic_hook(owner, repo, "master", sha)  # builder:image-factory, the configured builder
    assert post_generic(client, good).status_code == 202
    assert post_generic(client, generic_hook(owner, repo, "master", sha, type_="ci", name="travis")).status_code == 202
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE", job
    sent = recorder.received(f"/d/{tid}-main/apps")
    assert len(sent) == 1
    assert sent[0]["body"]["templates"]["app"]["args"]["image"] == good["result"]["image"]
    assert job["hooks"]["builder:quay"]["result"] == {"image": "evil.example/other:1"}  # kept, for the record
    passed = next(e for e in job["events"] if e["type"] == "HOOKS_PASSED")["details"]
    assert passed == {"hooks": ["builder:image-factory", "ci:travis"], "force-deploy": False}
    ignored = [e["details"] for e in job["events"] if e["type"] == "HOOK_IGNORED"]
    assert len(ignored) == 2  # on configuring the job, then on the second delivery
    assert all(d["hook"] == "builder:quay" and d["reason"] == "not configured for this app" for d in ignored)
