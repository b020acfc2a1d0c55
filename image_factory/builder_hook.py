"""The builder hook: the generic hook of docs/architecture.md §3.1, sent signed to the orchestrator."""

from __future__ import annotations

from typing import Any

from image_factory.errors import ImageFactoryError
from totem.api import validate
from totem.contracts.hook import GENERIC_HOOK_SCHEMA, HookStatus
from totem.signed_post import send_hook, window

HOOK_NAME = "image-factory"


class HookError(ImageFactoryError, RuntimeError):
    """The orchestrator did not accept the builder hook (unreachable, or not 2xx)."""


def builder_hook(
    record: dict[str, Any],
    status: HookStatus,
    image: str | None = None,
    error: str | None = None,
    images: list[str] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"build": record["id"]}
    if image:
        result.update(image=image, images=images or [image])
    if error:
        result["error"] = error[-2000:]
    hook = {
        "git": {k: record[k] for k in ("owner", "repo", "ref", "commit")},
        "type": "builder",
        "name": HOOK_NAME,
        "status": status,
        "result": result,
        "force-deploy": False,
    }
    return validate(hook, GENERIC_HOOK_SCHEMA)


def deliver(orchestrator_url: str, hook: dict[str, Any], secret: str | None, attempts: int, backoff: float) -> int:
    """Send the hook, retried for as long as `attempts` tries `backoff` apart take (doubling, capped:
    totem.signed_post); raise HookError unless the orchestrator accepted it (2xx)."""
    url = orchestrator_url.rstrip("/") + "/hooks/generic"
    try:
        response = send_hook(url, hook, secret, retry_for=window(attempts, backoff), backoff=backoff)
    except Exception as exc:  # connection errors after the last attempt
        raise HookError(f"builder hook to {url} failed: {type(exc).__name__}") from None
    if not response.ok:
        raise HookError(f"builder hook to {url} answered {response.status_code}")
    return response.status_code
