"""`totem rollback <app> [--to VERSION]` and `totem undeploy <app> [--version V]`, waiting for the outcome."""

from __future__ import annotations

import contextlib

from deployer.states import State
from totem.waiting import WaitTimeout, wait
from totem_cli.ops import progress
from totem_cli.ops.output import FAILED, command, emit_json
from totem_client import ServiceError


def register(subparsers) -> None:
    rollback = subparsers.add_parser("rollback", help="redeploy the previous promoted version (or --to VERSION)")
    rollback.add_argument("app")
    rollback.add_argument("--to", metavar="VERSION", help="the version to go back to")
    rollback.set_defaults(handler=_rollback)
    undeploy = subparsers.add_parser("undeploy", help="remove an app (routes, then instances) or one version")
    undeploy.add_argument("app")
    undeploy.add_argument("--version", help="only this version (refused while it serves traffic)")
    undeploy.set_defaults(handler=_undeploy)
    for parser in (rollback, undeploy):
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
        parser.add_argument("--no-wait", action="store_true", help="return once the request is accepted")
        parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS")


@command
def _rollback(args, clients, settings) -> int:
    accepted = clients.deployer.rollback(args.app, args.to)
    progress.say(args.json, f"rollback of {args.app} to {accepted['version']}: deployment {accepted['id']}")
    return progress.settle(clients.deployer, accepted, args, State.PROMOTED)


def _remaining(clients, app: str, version: str | None) -> list[dict]:
    try:
        deployments = clients.deployer.app(app)["deployments"]
    except ServiceError as exc:
        if exc.status == 404:
            return []
        raise
    return [
        d
        for d in deployments
        if d["state"] not in (State.DECOMMISSIONED, State.FAILED) and (version is None or d["version"] == version)
    ]


@command
def _undeploy(args, clients, settings) -> int:
    quiet = args.json
    clients.deployer.undeploy(args.app, args.version)
    what = f"{args.app} {args.version}" if args.version else args.app
    progress.say(quiet, f"undeploy of {what} accepted")
    left = []
    if not args.no_wait:

        def gone() -> bool:
            nonlocal left
            left = _remaining(clients, args.app, args.version)
            return not left

        with contextlib.suppress(WaitTimeout):
            wait(gone, args.timeout, interval=0.5, what=f"{what} removed")
        still = ", ".join(d["id"] for d in left)
        progress.say(quiet, f"{what}: " + (f"still running: {still}" if left else "removed"))
    if quiet:
        emit_json({"ok": not left, "app": args.app, "version": args.version, "remaining": [d["id"] for d in left]})
    return FAILED if left else 0
