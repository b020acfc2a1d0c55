"""Generic webhook: a JSON notice signed like a hook (`X-Hook-Signature`), linking to the job."""
from __future__ import annotations

import json

import requests

from totem import signatures


def send(notice, channel: dict, rt) -> None:
    job = notice.job
    body = json.dumps({
        "status": notice.status, "level": notice.level, "message": notice.message, "job-id": job["id"],
        "job-url": notice.job_url, "state": job["state"], "env": notice.env,
        "git": {k: job[k] for k in ("owner", "repo", "ref", "commit")},
    }, sort_keys=True).encode()
    headers = {"Content-Type": "application/json"}
    if rt.settings.hook_secret:
        headers["X-Hook-Signature"] = signatures.sign(rt.settings.hook_secret, body)
    requests.post(channel["url"], data=body, headers=headers, timeout=rt.options.notify_timeout).raise_for_status()
