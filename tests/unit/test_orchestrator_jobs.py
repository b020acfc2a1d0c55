"""How hooks change jobs, and the deploy gate (pure functions)."""

from __future__ import annotations

from orchestrator.jobs.gate import DEPLOY, FAIL, WAIT, builder_image, decide, required_hooks
from orchestrator.jobs.model import Hook, apply_hook
from orchestrator.states import Event, State

A, B, C = "a" * 40, "b" * 40, "c" * 40


def hook(commit=A, type_="builder", name="image-factory", status="success", **extra) -> Hook:
    result = {"image": f"reg/o-r:{commit}"} if type_ == "builder" and status == "success" else {}
    return Hook("o", "r", "master", commit, type_, name, status, result, **extra)


def scheduled(job, required=("builder:image-factory", "ci:travis")):
    job.update(state=State.SCHEDULED, required=list(required), config={})
    return job


def test_first_hook_creates_a_job_and_asks_for_processing():
    job, outcome = apply_hook(None, hook())
    assert job["state"] == State.NEW and job["commit"] == A and job["commits"] == [A]
    assert outcome.process and [e for e, _ in outcome.events] == [Event.NEW_JOB, Event.HOOK_RECEIVED]
    assert job["hooks"]["builder:image-factory"]["status"] == "success"


def test_repeated_hook_changes_nothing():
    job, _ = apply_hook(None, hook())
    again, outcome = apply_hook(job, hook())
    assert again is None and outcome.job_id == job["id"] and outcome.events == []


def test_new_commit_resets_an_open_job_and_old_commit_is_then_ignored():
    job, _ = apply_hook(None, hook(A))
    job, outcome = apply_hook(scheduled(job), hook(B, "ci", "travis"))
    assert job["commit"] == B and job["state"] == State.NEW and list(job["hooks"]) == ["ci:travis"]
    assert job["commits"] == [A, B] and job["required"] is None
    unchanged, outcome = apply_hook(job, hook(A))
    assert unchanged is None and outcome.ignored == "superseded commit"
    assert outcome.events[0][0] == Event.COMMIT_IGNORED


def test_new_commit_after_a_finished_job_starts_a_new_job_remembering_commits():
    job, _ = apply_hook(None, hook(A))
    job["state"] = State.COMPLETE
    fresh, outcome = apply_hook(job, hook(C))
    assert fresh["id"] != job["id"] and fresh["commits"] == [A, C] and outcome.process


def test_hooks_on_a_finished_job_are_recorded_but_ignored():
    job, _ = apply_hook(None, hook(A))
    job["state"] = State.FAILED
    job, outcome = apply_hook(job, hook(A, "ci", "travis"))
    assert not outcome.process and outcome.events[0][0] == Event.HOOK_IGNORED


def test_required_hooks_from_config():
    config = {
        "hooks": {
            "builder": {"image-factory": {"enabled": True}},
            "ci": {"travis": {"enabled": True}, "old": {"enabled": False}},
            "scm": {"github": {}},
        }
    }
    assert required_hooks(config) == ["builder:image-factory", "ci:travis"]


def test_gate_waits_then_deploys_when_every_required_hook_succeeds():
    job, _ = apply_hook(None, hook())
    scheduled(job)
    assert decide(job) == (WAIT, ["ci:travis"])
    job, _ = apply_hook(job, hook(type_="ci", name="travis"))
    assert decide(job)[0] == DEPLOY and builder_image(job) == f"reg/o-r:{A}"


def test_gate_fails_on_any_failed_required_hook_and_ignores_unrequired_ones():
    job, _ = apply_hook(None, hook())
    scheduled(job)
    job, _ = apply_hook(job, hook(type_="ci", name="other", status="failed"))
    assert decide(job)[0] == WAIT
    job, _ = apply_hook(job, hook(type_="ci", name="travis", status="failed"))
    assert decide(job) == (FAIL, ["ci:travis"])


def test_force_deploy_skips_the_gate_once_an_image_exists():
    job, _ = apply_hook(None, hook(type_="ci", name="travis", force_deploy=True))
    scheduled(job)
    assert decide(job)[0] == WAIT  # no image yet
    job, _ = apply_hook(job, hook())
    assert decide(job)[0] == DEPLOY


def test_missing_hooks_are_the_required_ones_neither_succeeded_nor_failed():
    from orchestrator.jobs.missing import missing

    job, _ = apply_hook(None, hook(type_="ci", name="travis", status="pending"))
    assert missing(job) == []  # NEW: nothing is required yet
    scheduled(job, ("builder:image-factory", "ci:travis", "ci:lint"))
    job, _ = apply_hook(job, hook(type_="ci", name="lint", status="failed"))
    assert missing(job) == ["builder:image-factory", "ci:travis"]


def test_a_recovered_builder_hook_is_the_one_the_image_factory_would_have_sent():
    """So a late original lands as a repeat that changes nothing (docs/architecture.md §4.2)."""
    from image_factory.builder_hook import builder_hook
    from orchestrator.jobs.missing import recovered_hook
    from totem.contracts.hook import HookStatus

    record = {"id": "b-1", "owner": "o", "repo": "r", "ref": "master", "commit": A}
    images = ["reg/o-r:a", "reg/o-r:master"]
    for status, image, error in (("succeeded", images[0], None), ("failed", None, "build: exit code 3")):
        build = {**record, "status": status, "image": image, "images": images if image else [], "error": error}
        recovered = recovered_hook(build)
        sent = builder_hook(record, recovered.status, image, error, images if image else None)
        assert recovered.status == (HookStatus.SUCCESS if image else HookStatus.FAILED)
        assert recovered.source == "recovered" and recovered.git == sent["git"]
        assert (recovered.type, recovered.name, recovered.result) == (sent["type"], sent["name"], sent["result"])
