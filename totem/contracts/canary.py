"""Progressive delivery in `deployment` (docs/canary.md): the canary steps and the preview host.

    mode: canary
    canary:
      steps: [{weight: 5, pause: 30s}, {weight: 25, pause: 60s}, {weight: 50, pause: manual}]
      analysis: [{name: errors, query: "...", max: 0.01}]   # absent: the default checks
      min-requests: 20                                       # canary requests before a verdict
    preview: {enabled: true, host-prefix: "preview.", gate: manual}

Each step sends `weight` % of the requests to the new version, waits until every proxy applied it,
then judges it for `pause` (`manual`: until `totem promote`); after the last step the new version
gets everything, as a blue-green switch. The preview host serves the new version before any of it.
"""

from __future__ import annotations

from typing import Any

MAX_STEPS = 20
MAX_CHECKS = 20
CHECK_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
PREVIEW_PREFIX_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}\.$"  # one DNS label and its dot
DEFAULT_STEPS = [{"weight": 5, "pause": "30s"}, {"weight": 25, "pause": "60s"}, {"weight": 50, "pause": "60s"}]


def step_schema(duration: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["weight"],
        "additionalProperties": False,
        "properties": {
            "weight": {"type": "integer", "minimum": 1, "maximum": 99, "description": "% of requests to the canary"},
            "pause": {
                "anyOf": [duration, {"const": "manual"}],
                "default": "30s",
                "description": "how long the step is judged; manual: until `totem promote`",
            },
        },
    }


CHECK_SCHEMA = {
    "type": "object",
    "required": ["name", "query"],
    "additionalProperties": False,
    "oneOf": [{"required": ["max"]}, {"required": ["min"]}],
    "properties": {
        "name": {"type": "string", "pattern": CHECK_NAME_PATTERN},
        "query": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "description": "PromQL; {canary}, {stable} (HAProxy backend names) and {window} are filled in",
        },
        "max": {"type": "number", "description": "the step fails when the value is above"},
        "min": {"type": "number", "description": "the step fails when the value is below"},
    },
}


def canary_schema(duration: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "default": {},
        "additionalProperties": False,
        "description": "mode canary: the steps and how each is judged",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STEPS,
                "items": step_schema(duration),
                "default": DEFAULT_STEPS,
            },
            "analysis": {
                "type": "array",
                "maxItems": MAX_CHECKS,
                "items": CHECK_SCHEMA,
                "description": "PromQL checks; absent: the canary's 5xx ratio and latency against stable",
            },
            "min-requests": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000000,
                "default": 20,
                "description": "canary requests in a step's window before any verdict",
            },
        },
    }


PREVIEW_SCHEMA = {
    "type": "object",
    "default": {},
    "additionalProperties": False,
    "description": "a host that serves the new version before the switch",
    "properties": {
        "enabled": {"type": "boolean", "default": False},
        "host-prefix": {"type": "string", "pattern": PREVIEW_PREFIX_PATTERN, "default": "preview."},
        "gate": {
            "enum": ["auto", "manual"],
            "default": "auto",
            "description": "manual: the switch waits for `totem promote` (or `totem abort`)",
        },
    },
}
