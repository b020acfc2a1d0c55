"""A Celery task message as Celery's Redis broker stores it, for a write that queues a task in the
same atomic step as the data the task acts on (a Lua script's LPUSH onto the queue's list), rather
than a publish after it: nothing is queued for a write that failed, and nothing written goes unqueued.

The message is Celery's task protocol 2 (headers, a JSON body `[args, kwargs, embed]`) in kombu's
Redis envelope (the body in base64; `properties.delivery_tag` unique, read by late acks). A test
compares it with what `Celery.send_task` itself writes (tests/unit/test_task_message.py)."""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from typing import Any

EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def encode(task: str, args: list, queue: str) -> str:
    """The message that runs `task(*args)` from `queue` (results ignored), as JSON text."""
    task_id = str(uuid.uuid4())
    body = json.dumps([args, {}, EMBED]).encode()
    headers: dict[str, Any] = {
        "lang": "py",
        "task": task,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": repr(args),
        "kwargsrepr": "{}",
        "origin": f"gen{os.getpid()}@{socket.gethostname()}",
        "ignore_result": True,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    properties: dict[str, Any] = {
        "correlation_id": task_id,
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": queue},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": properties,
        }
    )
