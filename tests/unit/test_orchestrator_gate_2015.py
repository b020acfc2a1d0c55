"""Which hooks count for the deploy gate, and how a builder names its image (the 2015 rules, kept;
its bugs, fixed). Pure functions: jobs and hooks as the orchestrator stores them."""

from __future__ import annotations

import pytest

from orchestrator.jobs.gate import DEPLOY, FAIL, NOT_CONFIGURED, WAIT, builder_image, decide, unconfigured
from orchestrator.jobs.model import Hook, apply_hook
from orchestrator.states import Event, State
from totem.api import ApiError, validate
from totem.contracts.hook import GENERIC_HOOK_SCHEMA, result_image

A = "a" * 40
REQUIRED = ["builder:image-factory", "ci:travis"]
GOOD = {"image": "reg/o-r:good"}
EVIL = {"image": "evil.example/backdoor:latest"}


def hook(type_="builder", name="image-factory", status="success", result=None, **extra) -> Hook:
    return Hook("o", "r", "master", A, type_, name, status, result or {}, **extra)


def scheduled(*hooks: Hook, required=REQUIRED) -> dict:
    """A job whose config loaded with `required` hooks, then `hooks` landed on it in order."""
    job, _ = apply_hook(None, hooks[0])
    job.update(state=State.SCHEDULED, required=list(required), config={})
    for more in hooks[1:]:
        job, _ = apply_hook(job, more)
    return job


def test_an_unconfigured_builder_never_names_the_image():
    """2015: prepare_job kept a hook only when `hook_name in job['hooks'][hook_type]` (the config's
    hooks), so only a configured builder could set the image. Today's bug let any `builder:*` do it."""
    job = scheduled(hook(result=GOOD), hook(name="quay", result=EVIL))
    assert builder_image(job) == "reg/o-r:good"
    alone = scheduled(hook(name="quay", result=EVIL))
    assert builder_image(alone) is None


def test_an_unconfigured_hooks_force_deploy_is_ignored():
    """2015: `force-deploy` was only read from a hook prepare_job accepted (a configured one);
    an unknown sender's force-deploy must neither deploy nor pick the image."""
    job = scheduled(hook(name="quay", result=EVIL, force_deploy=True))
    assert decide(job) == (WAIT, REQUIRED) and job["force-deploy"] is False
    job, _ = apply_hook(job, hook(type_="ci", name="manual", force_deploy=True))
    assert decide(job)[0] == WAIT and job["force-deploy"] is False


def test_a_configured_hooks_force_deploy_deploys_the_configured_image():
    """2015: check_ready skipped every status when the job was force-deploy. Totem: a configured
    hook's successful force-deploy skips the other hooks (ci:travis still pending here), once a
    configured builder named an image (`totem deploy --image` sends builder:image-factory so)."""
    job = scheduled(hook(type_="ci", name="travis", status="pending"))
    job, _ = apply_hook(job, hook(result=GOOD, force_deploy=True))
    assert decide(job) == (DEPLOY, ["builder:image-factory"]) and job["force-deploy"] is True
    assert builder_image(job) == "reg/o-r:good"
    failed = scheduled(hook(result=GOOD), hook(type_="ci", name="travis", force_deploy=True, status="failed"))
    assert decide(failed)[0] == FAIL  # a failed hook's force-deploy asks for nothing


def test_an_unconfigured_hook_never_decides_the_gate():
    """2015: check_ready only looked at the configured hooks: an unknown CI failing (or succeeding)
    changes nothing."""
    job = scheduled(hook(result=GOOD), hook(type_="ci", name="lint", status="failed"))
    assert decide(job) == (WAIT, ["ci:travis"])
    job, _ = apply_hook(job, hook(type_="ci", name="travis"))
    assert decide(job) == (DEPLOY, REQUIRED)
    failing = scheduled(hook(result=GOOD), hook(type_="ci", name="travis", status="failed"))
    assert decide(failing) == (FAIL, ["ci:travis"])


def test_a_disabled_hook_is_not_configured():
    """2015: a hook with `enabled: false` was not expected; its image and force-deploy do not count."""
    job = scheduled(hook(name="quay", result=EVIL, force_deploy=True), required=["ci:travis"])
    assert builder_image(job) is None and not job["force-deploy"]


def test_hooks_before_the_config_loads_count_once_it_names_them():
    """2015 only created jobs from the config first; here hooks may come first (job NEW, nothing
    required yet): nothing counts until the config says which hooks do."""
    job, _ = apply_hook(None, hook(name="quay", result=EVIL, force_deploy=True))
    assert builder_image(job) is None and job["force-deploy"] is False
    assert unconfigured(job) == []  # not known yet
    job.update(state=State.SCHEDULED, required=REQUIRED)
    assert unconfigured(job) == ["builder:quay"] and builder_image(job) is None


def test_an_unconfigured_hook_is_recorded_inert_and_answered_ignored():
    """2015 dropped such hooks silently; Totem keeps them on the job for the record (HOOK_IGNORED,
    not configured for this app) and does not process the job for them."""
    job = scheduled(hook(result=GOOD))
    job, outcome = apply_hook(job, hook(type_="ci", name="lint"))
    assert "ci:lint" in job["hooks"] and not outcome.process and outcome.ignored == NOT_CONFIGURED
    assert outcome.events == [(Event.HOOK_IGNORED, {**outcome.events[0][1], "reason": NOT_CONFIGURED})]
    assert outcome.events[0][1]["hook"] == "ci:lint"
    job, outcome = apply_hook(job, hook(type_="scm-push", name="github"))
    assert outcome.events[0][0] == Event.HOOK_RECEIVED  # scm hooks are not gate hooks: never "unconfigured"


@pytest.mark.parametrize(
    ("result", "image"),
    [
        ({"docker_url": "quay.io/acme/app", "docker_tags": ["abc123", "latest"]}, "quay.io/acme/app:abc123"),
        ({"docker_url": "quay.io/acme/app", "docker_tags": []}, "quay.io/acme/app"),
        ({"docker_url": "quay.io/acme/app"}, "quay.io/acme/app"),
        ({"image": "reg/app:1", "docker_url": "quay.io/acme/app", "docker_tags": ["x"]}, "reg/app:1"),
        ({"image": "reg/app:1"}, "reg/app:1"),
        ({"image": ""}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_image_a_builder_result_names(result, image):
    """2015 get_build_image: for the Quay builder `'{docker_url}:{tags[0]}'`, or docker_url when it
    has no tags; for other builders `result.image`. Totem reads either shape from any builder,
    `image` winning when both are given."""
    assert result_image(result) == image


def test_a_configured_quay_builder_names_the_image():
    """2015: hooks.builder.quay configured, its Quay-shaped result is what gets deployed."""
    quay = {"docker_url": "quay.io/acme/app", "docker_tags": ["abc123", "latest"]}
    job = scheduled(hook(name="quay", result=quay), required=["builder:quay"])
    assert decide(job) == (DEPLOY, ["builder:quay"]) and builder_image(job) == "quay.io/acme/app:abc123"


def generic(result: dict) -> dict:
    git = {"owner": "o", "repo": "r", "ref": "master", "commit": A}
    return {"git": git, "type": "builder", "name": "quay", "status": "success", "result": result}


def test_the_generic_hook_accepts_the_quay_result_shape():
    """2015's Quay hook result, as a generic hook's result."""
    quay = {"docker_url": "quay.io:443/acme/app", "docker_tags": ["abc123", "latest"]}
    assert validate(generic(quay), GENERIC_HOOK_SCHEMA)["result"] == quay


@pytest.mark.parametrize(
    ("result", "path"),
    [
        ({"docker_url": "quay.io/acme app"}, "body.result.docker_url"),
        ({"docker_url": "quay.io/acme/app\n"}, "body.result.docker_url"),
        ({"docker_url": "q" * 900}, "body.result.docker_url"),
        ({"docker_url": "quay.io/a", "docker_tags": ["-bad"]}, "body.result.docker_tags[0]"),
        ({"docker_url": "quay.io/a", "docker_tags": ["t\n"]}, "body.result.docker_tags[0]"),
        ({"docker_url": "quay.io/a", "docker_tags": "latest"}, "body.result.docker_tags"),
        ({"docker_url": "quay.io/a", "docker_tags": ["t"] * 101}, "body.result.docker_tags"),
        ({"image": "i" * 1001}, "body.result.image"),
    ],
)
def test_a_bad_builder_result_is_a_400_naming_the_field(result, path):
    """Sane limits: what a deploy request could not carry is refused at the hook, not at deploy time."""
    with pytest.raises(ApiError) as refused:
        validate(generic(result), GENERIC_HOOK_SCHEMA)
    assert refused.value.status == 400 and refused.value.message.startswith(path + ":")
