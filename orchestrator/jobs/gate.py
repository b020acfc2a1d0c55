"""The deploy gate: every required hook `success` (or force-deploy) → deploy; any required `failed` → fail.

Only the hooks the app configures (present and enabled under `hooks.builder` / `hooks.ci`, i.e.
`job["required"]`) count: another sender's hook is kept on the job for the record, but it never
names the image, never forces a deploy and never decides the gate. Before the config is loaded
(`required` is None) nothing counts yet.
"""

from __future__ import annotations

from orchestrator.jobs.store import Job
from totem.contracts.hook import GATE_TYPES, HookStatus, result_image

WAIT, DEPLOY, FAIL = "wait", "deploy", "fail"
NOT_CONFIGURED = "not configured for this app"


def required_hooks(config: dict) -> list[str]:
    """`hooks: {builder: {image-factory: {enabled: true}}, ci: {...}}` → ["builder:image-factory", ...]."""
    required = []
    for hook_type in GATE_TYPES:
        for name, options in sorted((config.get("hooks") or {}).get(hook_type, {}).items()):
            if isinstance(options, dict) and options.get("enabled", True):
                required.append(f"{hook_type}:{name}")
    return required


def configured(job: Job) -> list[str] | None:
    """The hooks that count for the job (`required`, from its evaluated config); None before the
    config is loaded."""
    required = job.get("required")
    if required is None and isinstance(job.get("config"), dict):
        required = required_hooks(job["config"])
    return required


def counted(job: Job) -> dict[str, dict]:
    """The job's hooks that count: those its config names (none before the config is loaded)."""
    names = configured(job) or []
    return {key: hook for key, hook in job["hooks"].items() if key in names}


def unconfigured(job: Job) -> list[str]:
    """Builder and CI hooks recorded on a configured job that its config does not name (inert)."""
    return sorted(key for key, hook in job["hooks"].items() if is_inert(job, key, hook.get("type")))


def is_inert(job: Job, key: str, hook_type: str | None) -> bool:
    """A builder or CI hook the loaded config does not name."""
    names = configured(job)
    return names is not None and hook_type in GATE_TYPES and key not in names


def forcing(job: Job) -> list[str]:
    """Configured hooks that succeeded asking for a force-deploy."""
    return sorted(
        key
        for key, hook in counted(job).items()
        if hook.get("force-deploy") and hook.get("status") == HookStatus.SUCCESS
    )


def decide(job: Job) -> tuple[str, list[str]]:
    """(WAIT | DEPLOY | FAIL, the hooks that decided it)."""
    hooks = counted(job)
    failed = [key for key in job["required"] if hooks.get(key, {}).get("status") == HookStatus.FAILED]
    if failed:
        return FAIL, failed
    forced = forcing(job)
    if forced and builder_image(job):
        return DEPLOY, forced
    pending = [key for key in job["required"] if hooks.get(key, {}).get("status") != HookStatus.SUCCESS]
    return (WAIT, pending) if pending else (DEPLOY, list(job["required"]))


def builder_image(job: Job) -> str | None:
    """The image the latest successful configured builder hook reported (`result.image`, or the
    2015 Quay shape `docker_url` + `docker_tags`)."""
    images = []
    for key, hook in counted(job).items():
        image = result_image(hook.get("result")) if hook.get("status") == HookStatus.SUCCESS else None
        if key.startswith("builder:") and image:
            images.append((hook.get("received", 0), image))
    return max(images)[1] if images else None
