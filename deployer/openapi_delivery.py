"""The OpenAPI description of `GET /metrics/delivery` (deployer/api_delivery.py)."""

from __future__ import annotations

from typing import Any

from deployer import delivery
from totem.api.openapi import nullable, obj, operation, query_param
from totem.contracts.deploy_request import NAME_PATTERN

SECONDS = nullable({"type": "number", "minimum": 0})
COUNT = {"type": "integer", "minimum": 0}
DAY = obj(
    ["date", "deployments", "promoted", "failures", "lead_time_median_seconds"],
    {
        "date": {"type": "string", "format": "date", "description": "a UTC day"},
        "deployments": COUNT,
        "promoted": COUNT,
        "failures": COUNT,
        "lead_time_median_seconds": SECONDS,
    },
)
FIGURES = obj(
    [
        "deployments",
        "promoted",
        "failures",
        "deployment_frequency_per_day",
        "lead_time_seconds",
        "change_failure_rate",
        "time_to_restore_seconds",
        "series",
    ],
    {
        "deployments": {**COUNT, "description": "changes (rollbacks excluded) promoted or FAILED in the window"},
        "promoted": COUNT,
        "failures": {**COUNT, "description": "changes that ended FAILED or were rolled back"},
        "deployment_frequency_per_day": {"type": "number", "minimum": 0, "description": "promoted changes per day"},
        "lead_time_seconds": obj(
            ["median", "p90", "samples"],
            {"median": SECONDS, "p90": {**SECONDS, "description": "nearest rank"}, "samples": COUNT},
            description="commit time to promotion",
        ),
        "change_failure_rate": nullable({"type": "number", "minimum": 0, "maximum": 1}),
        "time_to_restore_seconds": obj(
            ["median", "restored", "unrestored"],
            {"median": SECONDS, "restored": COUNT, "unrestored": COUNT},
            description="a failure to the app's next promotion",
        ),
        "series": {"type": "array", "items": DAY, "description": "one entry per UTC day the window touches"},
    },
)
REPORT = obj(
    ["window", "apps", "overall"],
    {
        "window": obj(
            ["text", "seconds", "start", "end"],
            {
                "text": {"type": "string"},
                "seconds": {"type": "number"},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
            },
        ),
        "apps": {"type": "object", "additionalProperties": FIGURES},
        "overall": FIGURES,
    },
)


def paths() -> dict[str, Any]:
    parameters = [
        query_param("app", "only this app (overall is then its figures)", {"type": "string", "pattern": NAME_PATTERN}),
        query_param(
            "window",
            f"how far back from now: 1h to 366d (12h, 30d, 2w); default {delivery.DEFAULT_WINDOW}",
            {"type": "string", "pattern": r"^\d{1,9}(ms|s|m|h|d|w)?$"},
        ),
    ]
    op = operation(
        "Delivery (DORA) figures per app and overall: deployment frequency, lead time for changes, change "
        "failure rate, time to restore (docs/delivery-metrics.md)",
        {"200": ("the figures", REPORT)},
        "400",
        "404",
        "503",
        parameters=parameters,
    )
    op["responses"]["400"]["description"] = "a window outside 1h-366d or not a duration, or an app that is no name"
    op["responses"]["404"]["description"] = "no app of that name"
    return {"/metrics/delivery": {"get": op}}
