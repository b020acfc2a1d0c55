"""The deploy gate: every required hook `success` (or force-deploy) → deploy; any required `failed` → fail."""

from __future__ import annotations

from orchestrator.jobs.store import Job
from totem.contracts.hook import HookStatus

WAIT, DEPLOY, FAIL = "wait", "deploy", "fail"


def required_hooks(config: dict) -> list[str]:
    """`hooks: {builder: {image-factory: {enabled: true}}, ci: {...}}` → ["builder:image-factory", ...]."""
    required = []
    for hook_type in ("builder", "ci"):
        for name, options in sorted((config.get("hooks") or {}).get(hook_type, {}).items()):
            if isinstance(options, dict) and options.get("enabled", True):
                required.append(f"{hook_type}:{name}")
    return required


def decide(job: Job) -> tuple[str, list[str]]:
    """(WAIT | DEPLOY | FAIL, the hooks that decided it)."""
    hooks = job["hooks"]
    failed = [key for key in job["required"] if hooks.get(key, {}).get("status") == HookStatus.FAILED]
    if failed:
        return FAIL, failed
    if job.get("force-deploy") and builder_image(job):
        return DEPLOY, [key for key, hook in hooks.items() if hook.get("force-deploy")]
    pending = [key for key in job["required"] if hooks.get(key, {}).get("status") != HookStatus.SUCCESS]
    return (WAIT, pending) if pending else (DEPLOY, list(job["required"]))


def builder_image(job: Job) -> str | None:
    """The image the latest successful builder hook reported."""
    images = [
        (hook.get("received", 0), hook["result"].get("image"))
        for key, hook in job["hooks"].items()
        if key.startswith("builder:")
        and hook.get("status") == HookStatus.SUCCESS
        and isinstance(hook.get("result"), dict)
        and hook["result"].get("image")
    ]
    return max(images)[1] if images else None
