"""The OpenAPI description of `GET /apps/{name}/logs` (deployer/api_logs.py)."""

from __future__ import annotations

from typing import Any

from deployer import api_logs
from totem.api.openapi import error_response, obj, operation, path_param, query_param, retry_after
from totem.contracts.deploy_request import NAME_PATTERN, VERSION_PATTERN

ENTRY = obj(
    ["time", "instance", "node", "host", "version", "stream", "line"],
    {
        "time": {"type": "string", "description": "RFC 3339 with nanoseconds, as the instance's engine stamped it"},
        "instance": {"type": "string", "description": "the node's name without `<app>-`: <version>-<sequence>-<n>"},
        "node": {"type": "string", "description": "the instance's name (totem.node): its container or service"},
        "host": {"type": "string", "description": "the Docker host (docker) or the node's address (swarm)"},
        "version": {"type": "string"},
        "stream": {"enum": ["stdout", "stderr"]},
        "line": {"type": "string", "description": f"at most {16 * 1024} characters"},
    },
)


def paths() -> dict[str, Any]:
    app = path_param("name", "an app (deployment.name)", {"type": "string", "pattern": NAME_PATTERN})
    parameters = [
        query_param("since", "from this time: a duration ago (10m, 24h, 7d), Unix seconds or ISO 8601"),
        query_param("version", "only this version's instances", {"type": "string", "pattern": VERSION_PATTERN}),
        query_param(
            "instance",
            "one instance: its node name, that name without `<app>-`, or N for the Nth of each deployment",
            {"type": "string", "pattern": api_logs.INSTANCE_PATTERN},
        ),
        query_param(
            "tail",
            f"lines per instance from the end (default {api_logs.DEFAULT_TAIL}; with since {api_logs.MAX_TAIL})",
            {"type": "integer", "minimum": 0, "maximum": api_logs.MAX_TAIL},
        ),
        query_param(
            "follow",
            "keep the answer open: new lines as they come, an empty line as a keep-alive every "
            f"{api_logs.KEEP_ALIVE:.0f} s without one; ends after {api_logs.FOLLOW_LIMIT_SECONDS} s",
            {"enum": list(api_logs.FOLLOW_VALUES)},
        ),
    ]
    op = operation(
        "The app's instance logs, read from each instance's Docker log on its host, merged in time order",
        {"200": "entries"},
        "400",
        "404",
        "429",
        "503",
        parameters=parameters,
    )
    op["responses"]["200"] = {
        "description": "NDJSON: one entry a line, oldest first (following: in time order within a short window)",
        "content": {api_logs.NDJSON: {"schema": ENTRY}},
    }
    op["responses"]["404"]["description"] = "no such app, or no such version or instance of it"
    op["responses"]["429"]["description"] = (
        "with follow: this worker follows TOTEM_DEPLOYER_MAX_FOLLOWERS logs already; retry after Retry-After"
    )
    op["responses"]["501"] = error_response("the app runs only on fleet, whose instances log to their hosts' journal")
    retry_after(op, "429")
    return {"/apps/{name}/logs": {"parameters": [app], "get": op}}
