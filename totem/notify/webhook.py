"""Generic webhook: the notice as JSON, signed like a hook (`X-Hook-Signature`) when there is a secret."""

from __future__ import annotations

from totem import signed_post
from totem.notify.notice import Delivery, Notice


def body(notice: Notice) -> dict:
    return {"status": notice.status, "level": int(notice.level), "message": notice.message, **notice.fields}


def send(notice: Notice, channel: dict, delivery: Delivery) -> None:
    signed_post.post_json(
        channel["url"], body(notice), delivery.hook_secret, timeout=delivery.timeout
    ).raise_for_status()
