"""`GET /openapi.json`: the deployer's HTTP API, with the deploy-request schema as this deployer
applies it (its settings as the defaults). Every route of deployer/api.py is here with every status
it sends; path parameters carry the patterns the routes check (a segment that does not match is a 404)."""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app

from deployer import api, api_secrets, api_traffic, intake, openapi_delivery, openapi_logs
from deployer.job_runs import MAX_RUNS, RUN_STATES
from deployer.proxy_spec import PROXY_SCHEMA
from deployer.schedulers.base import OUTPUT_LIMIT
from deployer.secret_keys import ENV_PATTERN, KEY_ID_PATTERN
from deployer.settings import DeployerSettings
from deployer.states import ROLLOUT_PHASES, Event, State
from totem.api import openapi
from totem.api.openapi import nullable, obj, operation, path_param, ref, service_paths
from totem.api.validation import MAX_DEPTH
from totem.contracts.deploy_request import DEPLOYMENT_ID_PATTERN, NAME_PATTERN, VERSION_PATTERN
from totem.settings import Settings


def optional_body(op: dict) -> dict:
    op["requestBody"]["required"] = False
    return op


APP = path_param(
    "name", "an app (deployment.name); anything else is a 404", {"type": "string", "pattern": NAME_PATTERN}
)
VERSION = path_param("version", "a version (deployment.version)", {"type": "string", "pattern": VERSION_PATTERN})
DEPLOYMENT_ID = path_param(
    "id", "a deployment: <name>-<version>-<sequence>", {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN}
)
SCHEMA_NAME = path_param(
    "name",
    "a schema name from `GET /schemas` (a `.json` suffix is allowed)",
    {"enum": [*api.SCHEMA_NAMES, *(f"{n}.json" for n in api.SCHEMA_NAMES)]},
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "the orchestrator sends `<job-id>-<deployer>`; a key seen before answers 200 with the "
    f"deployment it created. Surrounding blanks are ignored; keys are cut to {api.MAX_IDEMPOTENCY_KEY} characters.",
    "schema": {"type": "string"},
}
TIMESTAMP = {"type": "string", "format": "date-time"}
SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN},
    "app": {"type": "string", "pattern": NAME_PATTERN},
    "version": {"type": "string", "pattern": VERSION_PATTERN},
    "state": ref("State"),
    "mode": {"enum": ["blue-green", "red-green", "a/b", "canary"]},
    "scheduler": {"enum": ["docker", "swarm", "fleet"]},
    "upstream": {"type": "string", "description": "<app>-<version>-<port>"},
    "created": TIMESTAMP,
    "updated": TIMESTAMP,
    "error": nullable({"type": "string"}),
}
DEPLOYMENTS = {"type": "array", "items": ref("DeploymentSummary"), "description": "newest first"}
RUN_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": r"^\d{8}T\d{6}Z$", "description": "its scheduled time, compact"},
    "deployment": {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN},
    "scheduled": TIMESTAMP,
    "status": {"enum": list(RUN_STATES)},
    "started": nullable(TIMESTAMP),
    "finished": nullable(TIMESTAMP),
    "exit_code": nullable({"type": "integer"}),
    "host": nullable({"type": "string", "description": "the Docker host or swarm node it ran on"}),
    "output": {"type": "string", "description": f"the end of its output, at most {OUTPUT_LIMIT} bytes"},
    "reason": nullable({"type": "string", "description": "why it was skipped, lost, or has no exit code"}),
    "note": nullable({"type": "string", "description": "e.g. that it catches up runs missed"}),
}
UNDEPLOY = obj(
    ["name", "undeploy"],
    {"name": {"type": "string"}, "version": {"type": "string"}, "undeploy": {"const": "accepted"}},
)


def schemas(request: dict) -> dict[str, Any]:
    """The components: the deploy request (`request`, without its `$id`, its proxy as `Proxy`) and
    the answers' shapes."""
    request = {k: v for k, v in copy.deepcopy(request).items() if k != "$id"}
    request["properties"]["proxy"] = ref("Proxy")
    return {
        "DeployRequest": request,
        "Proxy": {**PROXY_SCHEMA, "default": {}},
        "State": {"enum": list(State)},
        "Event": {"enum": list(Event)},
        "DeploymentSummary": obj(list(SUMMARY_PROPERTIES), SUMMARY_PROPERTIES),
        "Accepted": obj(
            ["deployment", "links"],
            {
                "deployment": ref("DeploymentSummary"),
                "links": obj(["self"], {"self": {"type": "string", "description": "/deployments/<id>"}}),
            },
        ),
        "TimelineEvent": obj(
            ["date", "type", "component", "state", "meta-info", "details"],
            {
                "date": TIMESTAMP,
                "type": ref("Event"),
                "component": {"type": "string"},
                "state": ref("State"),
                "meta-info": obj(
                    ["deployment-id", "app", "version"],
                    {"deployment-id": {"type": "string"}, "app": {"type": "string"}, "version": {"type": "string"}},
                ),
                "details": {"type": "object"},
            },
        ),
        "Deployment": obj(
            [*SUMMARY_PROPERTIES, "sequence", "cluster", "spec", "request", "instances", "timeline"],
            {
                **SUMMARY_PROPERTIES,
                "sequence": {"type": "integer", "minimum": 1},
                "cluster": {"type": "string"},
                "request": {
                    **ref("DeployRequest"),
                    "description": "as accepted, every default filled in; encrypted values shown as ***",
                },
                "spec": {"type": "object", "description": "what the lifecycle read from the request"},
                "instances": {
                    "type": "object",
                    "description": "by node name: {host, address, port}; swarm: address of the task's node, "
                    "empty until it runs",
                },
                "previous": nullable({"type": "string", "description": "the deployment live when this one started"}),
                "wired": {"type": "boolean"},
                "revision": {"type": "string", "description": "the /yoda revision this deployment wrote"},
                "timeline": {"type": "array", "items": ref("TimelineEvent"), "description": "oldest first"},
            },
        ),
        "AppList": obj(
            ["apps"],
            {
                "apps": {
                    "type": "array",
                    "items": obj(
                        ["name", "live", "deployments", "latest"],
                        {
                            "name": {"type": "string"},
                            "live": nullable({"type": "string", "description": "the deployment serving traffic"}),
                            "deployments": {"type": "integer", "minimum": 0},
                            "latest": nullable(ref("DeploymentSummary")),
                        },
                    ),
                }
            },
        ),
        "App": obj(
            ["name", "live", "deployments", "schedule"],
            {
                "name": {"type": "string"},
                "live": nullable({"type": "string"}),
                "deployments": DEPLOYMENTS,
                "schedule": nullable(
                    {**ref("Schedule"), "description": "the live deployment's, when it is a scheduled job"}
                ),
                "rollout": nullable({**ref("Rollout"), "description": "the newest deployment's canary or preview"}),
                "traffic": {"type": "object", "description": "maintenance and pause of the app's hosts"},
            },
        ),
        "Rollout": obj(
            ["deployment", "version", "strategy", "phase", "step", "steps", "weight", "analysis", "samples"],
            {
                "deployment": {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN},
                "version": {"type": "string"},
                "strategy": {"enum": ["canary", "blue-green"]},
                "phase": {"enum": list(ROLLOUT_PHASES)},
                "step": nullable({"type": "integer", "description": "0-based; -1: the preview gate"}),
                "steps": {"type": "array", "items": {"type": "object"}},
                "weight": {"type": "integer", "minimum": 0, "maximum": 100, "description": "% to the new version"},
                "analysis": {"type": "array", "items": {"type": "object"}, "description": "the last verdict"},
                "requests": nullable({"type": "number", "description": "canary requests in the last window"}),
                "samples": {"type": "array", "items": {"type": "object"}, "description": "canary vs stable"},
                "preview": nullable({"type": "object"}),
                "reason": nullable({"type": "string"}),
            },
        ),
        "Control": obj(
            ["name", "deployment", "action"],
            {
                "name": {"type": "string"},
                "deployment": ref("DeploymentSummary"),
                "action": {"enum": ["promote", "abort"]},
            },
        ),
        "Schedule": obj(
            ["deployment", "schedule", "runner", "next", "runs"],
            {
                "deployment": {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN},
                "schedule": {"type": "string", "description": "the calendar event (systemd OnCalendar, UTC)"},
                "runner": {
                    "enum": ["deployer", "systemd timers (fleet)"],
                    "description": "who starts the runs; the deployer records only its own",
                },
                "next": nullable({**TIMESTAMP, "description": "the next scheduled time (null once not PROMOTED)"}),
                "runs": {"type": "array", "items": ref("Run"), "description": f"newest first, at most {MAX_RUNS}"},
            },
        ),
        "Run": obj(
            list(RUN_PROPERTIES),
            RUN_PROPERTIES,
        ),
        "Versions": obj(
            ["name", "versions"],
            {"name": {"type": "string"}, "versions": {"type": "object", "additionalProperties": DEPLOYMENTS}},
        ),
        "Version": obj(
            ["name", "version", "deployments"],
            {"name": {"type": "string"}, "version": {"type": "string"}, "deployments": DEPLOYMENTS},
        ),
        "SchemaList": obj(
            ["schemas"],
            {"schemas": {"type": "object", "additionalProperties": {"type": "string"}, "description": "name → URL"}},
        ),
    }


def traffic_paths() -> dict[str, Any]:
    """Maintenance, pause and resume (deployer/api_traffic.py): 200 once every live proxy applied it."""
    switch = obj(
        ["app", "hosts", "revision", "proxies"],
        {
            "app": {"type": "string", "pattern": NAME_PATTERN},
            "hosts": {"type": "array", "items": {"type": "string"}, "description": "the live version's hosts"},
            "maintenance": nullable(obj(["retry-after"], {"retry-after": {"type": "integer", "minimum": 1}})),
            "paused": nullable(obj(["max"], {"max": {"type": "number", "exclusiveMinimum": 0}})),
            "revision": {"type": "string", "description": "the /yoda revision every proxy acknowledged"},
            "proxies": {"type": "array", "items": {"type": "string"}, "description": "the proxy nodes that did"},
        },
    )
    done = ("applied by every live proxy", switch)

    def op(summary: str, body: dict | None) -> dict:
        errors = ("400", "401", "404", "409", "413", "415", "503") if body else ("401", "404", "409", "503")
        found = operation(
            summary + "; 409 without a live version that routes a host; 503 (with the state etcd "
            "holds in details) when a proxy did not apply it in time",
            {"200": done},
            *errors,
            body=body,
            write=True,
        )
        return openapi.retry_after(found, "503")

    return {
        "/apps/{name}/maintenance": {
            "parameters": [APP],
            "post": op(
                "Serve a 503 maintenance page with Retry-After on the app's hosts, or stop",
                api_traffic.MAINTENANCE_SCHEMA,
            ),
        },
        "/apps/{name}/pause": {
            "parameters": [APP],
            "post": optional_body(
                op(
                    "Hold the app's new requests at the proxies (not refused) until resumed or `max` passes",
                    api_traffic.PAUSE_SCHEMA,
                )
            ),
        },
        "/apps/{name}/resume": {
            "parameters": [APP],
            "post": op("Let the held and new requests through", None),
        },
    }


def secrets_paths() -> dict[str, Any]:
    """An environment's key ring and encryption of totem.yml values (deployer/api_secrets.py); answers
    hold tokens and key ids, never a plaintext; 403 for a token not valid in the environment."""
    env = path_param("env", "an environment (meta-info.env)", {"type": "string", "pattern": ENV_PATTERN})
    key_id = path_param("id", "a key id from `GET /secrets/{env}/keys`", {"type": "string", "pattern": KEY_ID_PATTERN})
    key = obj(
        ["id", "created", "primary"], {"id": {"type": "string"}, "created": TIMESTAMP, "primary": {"type": "boolean"}}
    )
    ring = obj(["env", "keys"], {"env": {"type": "string"}, "keys": {"type": "array", "items": key}})
    encrypted = obj(
        ["value", "encrypted", "key"],
        {
            "value": {"type": "string", "description": "`totem:<key id>:<Fernet token>`, for totem.yml"},
            "encrypted": {"const": True},
            "key": {"type": "string", "description": "the id of the key that encrypted it"},
            "env": {"type": "string"},
        },
    )
    reencrypted = obj(
        ["key", "values"],
        {
            "env": {"type": "string"},
            "key": {"type": "string"},
            "values": {"type": "array", "items": {"type": "string"}},
        },
    )
    rotated = obj(["primary", "keys"], {"env": {"type": "string"}, "primary": key, "keys": ring["properties"]["keys"]})
    retired = obj(
        ["retired", "keys"],
        {"env": {"type": "string"}, "retired": {"type": "string"}, "keys": ring["properties"]["keys"]},
    )
    body_errors = ("400", "401", "404", "413", "415", "503")
    return {
        "/secrets/{env}/encrypt": {
            "parameters": [env],
            "post": operation(
                "Encrypt a value with the environment's primary key (made on first use); 503 without a master key",
                {"200": ("the value to put in totem.yml", encrypted)},
                *body_errors,
                body=api_secrets.ENCRYPT_SCHEMA,
                write=True,
            ),
        },
        "/secrets/{env}/rotate": {
            "parameters": [env],
            "post": operation(
                "A new primary key (admin); older keys still decrypt until retired",
                {"201": ("the new primary and the ring", rotated)},
                "401",
                "404",
                "503",
                write=True,
            ),
        },
        "/secrets/{env}/reencrypt": {
            "parameters": [env],
            "post": operation(
                "The given tokens encrypted again with the primary key, in order; 400 when a key of the ring "
                "does not decrypt one",
                {"200": ("the new tokens", reencrypted)},
                *body_errors,
                body=api_secrets.REENCRYPT_SCHEMA,
                write=True,
            ),
        },
        "/secrets/{env}/keys": {
            "parameters": [env],
            "get": operation(
                "The ring's keys, newest (the primary) first: ids and dates only; needs a token",
                {"200": ("the keys", ring)},
                "401",
                "403",
                "404",
                "503",
            ),
        },
        "/secrets/{env}/keys/{id}": {
            "parameters": [env, key_id],
            "delete": operation(
                "Retire an old key (admin): the values it encrypted no longer decrypt; 409 for the primary",
                {"200": ("the key retired", retired)},
                "401",
                "404",
                "409",
                "503",
                write=True,
            ),
        },
    }


def _app_action(summary: str, answers: dict, body: dict) -> dict:
    """A write on an app with an optional JSON body (rollback, promote, abort): 409 when it does not apply."""
    return optional_body(
        operation(summary, answers, "400", "401", "404", "409", "413", "415", "503", body=body, write=True)
    )


def document(request: dict | None = None) -> dict:
    """The document; `request` is the deploy-request schema served (default: as a deployer with
    every setting at its default would serve it)."""
    if request is None:
        shared, own = Settings.from_env({}), DeployerSettings.from_env({})
        request = intake.schema_for(shared.env, shared.cluster, own.drain, shared.syslog_url)
    accepted = ("deployment accepted (NEW); `Location: /deployments/<id>`", ref("Accepted"))
    replayed = ("the Idempotency-Key was seen: the deployment it created", ref("Accepted"))
    queued = ("undeploy queued", UNDEPLOY)
    return openapi.document(
        "Totem deployer",
        description="Deploy requests in, deployments out. Write endpoints need `Authorization: Bearer "
        "<token>` (TOTEM_API_TOKEN or a token from `POST /tokens` on the orchestrator) with a role, repo scope "
        "and environment that allow the action: 401 without one, 403 otherwise. "
        "Bodies are strict JSON (no NaN or Infinity, "
        f"{MAX_DEPTH} levels at most, {api.MAX_BODY} bytes at most); a refused request writes nothing.",
        paths={
            "/apps": {
                "get": operation(
                    "Apps with their live and latest deployment", {"200": ("apps", ref("AppList"))}, "503"
                ),
                "post": operation(
                    "Request a deployment: only deployment.name, deployment.version and templates.app.args.image "
                    "are required, every other field has its schema default",
                    {"202": accepted, "200": replayed},
                    "400",
                    "401",
                    "413",
                    "415",
                    "503",
                    body=ref("DeployRequest"),
                    write=True,
                    parameters=[IDEMPOTENCY_KEY],
                ),
            },
            "/apps/{name}": {
                "parameters": [APP],
                "get": operation(
                    "An app's deployments, newest first, and its scheduled job's next and last runs when the live "
                    "deployment is one",
                    {"200": ("the app", ref("App"))},
                    "404",
                    "503",
                ),
                "delete": operation(
                    "Undeploy the app: routes first, wait for the proxies, then instances",
                    {"202": queued},
                    "401",
                    "404",
                    "503",
                    write=True,
                ),
            },
            "/apps/{name}/versions": {
                "parameters": [APP],
                "get": operation(
                    "The app's deployments by version", {"200": ("versions", ref("Versions"))}, "404", "503"
                ),
            },
            "/apps/{name}/versions/{version}": {
                "parameters": [APP, VERSION],
                "get": operation("One version's deployments", {"200": ("the version", ref("Version"))}, "404", "503"),
                "delete": operation(
                    "Remove a version no route points at (409 while one does)",
                    {"202": queued},
                    "401",
                    "404",
                    "409",
                    "503",
                    write=True,
                ),
            },
            "/apps/{name}/rollback": {
                "parameters": [APP],
                "post": _app_action(
                    "Redeploy the previous promoted version, or body.version; 409 while a deployment is in "
                    "progress, when there is no such version, or when its request no longer passes",
                    {"202": accepted},
                    api.ROLLBACK_SCHEMA,
                ),
            },
            "/apps/{name}/promote": {
                "parameters": [APP],
                "post": _app_action(
                    "End the rollout's current wait (a manual step, a step's pause, the preview gate), or with "
                    "`full` every remaining step; 409 when no rollout waits",
                    {"202": ("promote recorded; the worker moves on within a second", ref("Control"))},
                    api.PROMOTE_SCHEMA,
                ),
            },
            "/apps/{name}/abort": {
                "parameters": [APP],
                "post": _app_action(
                    "Stop the deployment in progress: routes back to the stable version, instances removed, "
                    "FAILED with the reason; 409 when none is in progress",
                    {"202": ("abort recorded", ref("Control"))},
                    api.ABORT_SCHEMA,
                ),
            },
            **openapi_logs.paths(),
            **openapi_delivery.paths(),
            **traffic_paths(),
            **secrets_paths(),
            "/deployments/{id}": {
                "parameters": [DEPLOYMENT_ID],
                "get": operation(
                    "A deployment with its timeline (encrypted values shown as ***)",
                    {"200": ("the deployment", ref("Deployment"))},
                    "404",
                    "503",
                ),
            },
            "/schemas": {"get": operation("The JSON Schemas served", {"200": ("names", ref("SchemaList"))})},
            "/schemas/{name}": {
                "parameters": [SCHEMA_NAME],
                "get": operation(
                    "A JSON Schema (2020-12), defaults included",
                    {"200": ("the schema", {"type": "object"})},
                    "404",
                ),
            },
            **service_paths("etcd, Redis and Docker"),
        },
        schemas=schemas(request),
    )


def _served() -> dict:
    return document(intake.request_schema(current_app.extensions["deployer"].ctx))


blueprint = openapi.openapi_blueprint(_served)
