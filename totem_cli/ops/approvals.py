"""`totem approve JOB [--comment]` and `totem reject JOB [--reason]`: decide a job awaiting approval
(docs/approvals.md; `totem jobs --state AWAITING_APPROVAL` lists them). The CLI's token must be one
the job's policy names."""

from __future__ import annotations

import time

from totem_cli.ops.output import command, emit_json


def register(subparsers) -> None:
    approve = subparsers.add_parser("approve", help="approve a job awaiting approval: it deploys")
    approve.add_argument("job", help="job id (totem jobs --state AWAITING_APPROVAL)")
    approve.add_argument("--comment", help="why, for the audit trail")
    approve.set_defaults(handler=_approve)
    reject = subparsers.add_parser("reject", help="reject a job awaiting approval: it fails, never deploys")
    reject.add_argument("job", help="job id (totem jobs --state AWAITING_APPROVAL)")
    reject.add_argument("--reason", help="why, for the audit trail and the notification")
    reject.set_defaults(handler=_reject)
    for parser in (approve, reject):
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _show(answer: dict, json: bool) -> int:
    if json:
        emit_json(answer)
        return 0
    decision = (answer.get("approval") or {}).get("decision") or {}
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(decision.get("at") or time.time()))
    outcome = "approved: it deploys now" if answer["state"] != "FAILED" else answer["error"]["message"]
    print(f"job {answer['id']} {outcome} ({decision.get('by', '?')}, {when} UTC)")
    return 0


@command
def _approve(args, clients, settings) -> int:
    return _show(clients.orchestrator.approve(args.job, args.comment), args.json)


@command
def _reject(args, clients, settings) -> int:
    return _show(clients.orchestrator.reject(args.job, args.reason), args.json)
