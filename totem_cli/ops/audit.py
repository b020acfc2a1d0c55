"""`totem audit`: who did what, from the orchestrator's audit trail (GET /audit); `--jsonl` exports it."""

from __future__ import annotations

import re
import sys
import time

from totem_cli.ops.output import command, emit_json, table

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a hook's sender never drives the terminal


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="the audit trail: who did what to which app, newest first")
    audit.add_argument("--app", help="an app name, owner/repo or owner/repo/ref")
    audit.add_argument("--actor", help="a token's name, bootstrap, or a hook's sender")
    audit.add_argument("--action", help="deploy, rollback, undeploy, promote, tokens, ...")
    audit.add_argument("--since", help="Unix seconds, ISO 8601, or a duration ago: 10m, 24h, 7d")
    audit.add_argument("--until", help="as --since")
    audit.add_argument("--limit", type=int, default=100, help="how many, the newest (1-1000)")
    output = audit.add_mutually_exclusive_group()
    output.add_argument("--jsonl", action="store_true", help="JSON lines, oldest first (the export)")
    output.add_argument("--json", action="store_true", help="print the records as JSON")
    audit.set_defaults(handler=_audit)


MAX_CELL = 60  # characters of a table cell


def target_text(target: dict) -> str:
    """The app (or owner/repo/ref), with its version or job; a token's name for the token actions."""
    git = "/".join(str(target[k]) for k in ("owner", "repo", "ref") if target.get(k))
    where = target.get("app") or git or (f"token:{target['token']}" if target.get("token") else "")
    extra = [f"{k} {target[k]}" for k in ("version", "job") if target.get(k)]
    return " ".join([str(where), *extra]).strip() or "-"


def rows(records: list[dict]) -> list[list[str]]:
    def clean(value) -> str:
        text = _CONTROL.sub("?", str(value))
        return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."  # --json has it whole

    return [
        [
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["time"])),
            clean(r["actor"]),
            clean(r["action"]),
            clean(target_text(r.get("target") or {})),
            f"{r['outcome']} {r['status']}" if r.get("status") else r["outcome"],
        ]
        for r in records
    ]


@command
def _audit(args, clients, settings) -> int:
    query = {k: getattr(args, k) for k in ("app", "actor", "action", "since", "until", "limit")}
    if args.jsonl:
        sys.stdout.write(clients.orchestrator.audit_export(**query))
        return 0
    records = clients.orchestrator.audit(**query)
    if args.json:
        emit_json(records)
        return 0
    print(table(rows(records), ["TIME (UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME"]))
    return 0
