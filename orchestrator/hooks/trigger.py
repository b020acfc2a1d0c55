"""Who a hook acts for: the job's `trigger`, kept from the hook that set its commit.

    {"actor": "<sender>", "kind": "hook", "hook": "<type>", "receiver": "github|generic|travis",
     "delivery": "<X-GitHub-Delivery or X-Request-Id>", "source": "<remote address>"}

The deploy request carries it to the deployer (`X-Totem-Trigger`), whose audit record then names the
hook's sender as the actor. `actor`: GitHub's `sender.login` (else `pusher.name`), a generic hook's
optional `sender`, else `hook:<type>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_TEXT = 200  # what the deployer's guard keeps of each value


def _text(value: Any) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value.strip() else None


def github_sender(payload: Mapping[str, Any]) -> str | None:
    sender, pusher = payload.get("sender"), payload.get("pusher")
    login = _text(sender.get("login")) if isinstance(sender, dict) else None
    return login or (_text(pusher.get("name")) if isinstance(pusher, dict) else None)


def make(
    hook_type: str,
    receiver: str,
    sender: str | None,
    delivery: str | None,
    source: str | None,
) -> dict[str, str]:
    found = {
        "actor": sender or f"hook:{hook_type}",
        "kind": "hook",
        "hook": hook_type,
        "receiver": receiver,
        "delivery": _text(delivery),
        "source": _text(source),
    }
    return {k: v for k, v in found.items() if v is not None}


def delivery_id(github_delivery: str | None, request_id: str | None) -> str | None:
    """X-GitHub-Delivery, else the request's id (X-Request-Id when the sender gave a usable one)."""
    return _text(github_delivery) or _text(request_id)
