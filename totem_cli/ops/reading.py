"""`totem apps`, `totem app <name>`, `totem jobs`, `totem builds`, and a build's log for `totem logs
<build-id> [--follow]` (parsed in totem_cli/ops/logs.py with an app's logs)."""

from __future__ import annotations

import re
import sys

from image_factory.states import BuildStatus
from totem_cli.ops.output import FAILED, command, emit_json, table
from totem_dashboard import gather

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a job's output never drives the terminal


def register(subparsers) -> None:
    apps = subparsers.add_parser("apps", help="apps with their live version, state, hosts and health")
    for name in ("owner", "repo", "ref"):
        apps.add_argument(f"--{name}", default="", help=f"only apps of this {name}")
    apps.add_argument("--search", default="", help="substring of the name, owner, repo, branch or version")
    apps.set_defaults(handler=_apps)
    app = subparsers.add_parser("app", help="one app: versions, instances, proxy wiring")
    app.add_argument("name")
    app.set_defaults(handler=_app)
    jobs = subparsers.add_parser("jobs", help="orchestrator jobs, newest first")
    for name in ("owner", "repo", "ref", "state"):
        jobs.add_argument(f"--{name}")
    jobs.add_argument("--limit", type=int, default=20)
    jobs.set_defaults(handler=_jobs)
    builds = subparsers.add_parser("builds", help="image factory builds, newest first")
    for name in ("owner", "repo", "ref", "status"):
        builds.add_argument(f"--{name}")
    builds.add_argument("--limit", type=int, default=20)
    builds.set_defaults(handler=_builds)
    for parser in (apps, app, jobs, builds):
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


@command
def _apps(args, clients, settings) -> int:
    rows = gather.app_rows(clients, args.search, args.owner, args.repo, args.ref)
    if args.json:
        emit_json(rows)
        return 0
    print(
        table(
            [
                [
                    r["name"],
                    r["version"] if r["live"] else "-",
                    r["state"],
                    ",".join(r["hosts"]),
                    f"{r['health']['healthy']}/{r['health']['instances']}",
                    f"{r['owner']}/{r['repo']}",
                    r["ref"],
                    r["last_deploy"],
                ]
                for r in rows
            ],
            ["APP", "LIVE", "STATE", "HOSTS", "HEALTHY", "REPO", "REF", "LAST DEPLOY"],
        )
    )
    return 0


@command
def _app(args, clients, settings) -> int:
    page = gather.app_page(clients, args.name)
    if args.json:
        emit_json(
            {k: page[k] for k in ("name", "deployments", "instances", "wiring", "health", "versions")}
            | {
                "live": (page["live"] or {}).get("id"),
                "live_version": (page["live"] or {}).get("version"),
                "phases": [vars(p) | {"duration": p.duration} for p in page["phases"]],
                "schedule": page["app"].get("schedule"),
            }
        )
        return 0
    live = page["live"] or {}
    print(f"{page['name']}: live {live.get('version', '-')} ({live.get('id', 'nothing live')})")
    print("\nDEPLOYMENTS")
    print(
        table(
            [[d["id"], d["version"], d["state"], d["mode"], d["updated"]] for d in page["deployments"]],
            ["ID", "VERSION", "STATE", "MODE", "UPDATED"],
        )
    )
    print("\nINSTANCES")
    print(table([[i["node"], i["endpoint"], i["check"]] for i in page["instances"]], ["NODE", "ENDPOINT", "CHECK"]))
    print("\nWIRING")
    print(
        table(
            [
                [w["host"], w["path"], w["upstream"], ",".join(w["allowed"]) or "public", ",".join(w["denied"])]
                for w in page["wiring"]
            ],
            ["HOST", "PATH", "UPSTREAM", "ALLOWED", "DENIED"],
        )
    )
    schedule = page["app"].get("schedule")
    if schedule:
        _print_schedule(schedule)
    return 0


def _print_schedule(schedule: dict) -> None:
    """A scheduled job: its calendar event, next run and last runs with their exit codes."""
    print(f"\nSCHEDULE {schedule['schedule']} (UTC), next run {schedule['next'] or '-'}, run by {schedule['runner']}")
    rows = [
        [
            r["scheduled"],
            r["status"],
            "-" if r["exit_code"] is None else r["exit_code"],
            r["host"] or "-",
            r["finished"] or "-",
            _CONTROL.sub("?", r["reason"] or (r["output"].strip().splitlines() or [""])[-1])[:60],
        ]
        for r in schedule["runs"]
    ]
    print(table(rows, ["SCHEDULED", "STATUS", "EXIT", "HOST", "FINISHED", "LAST LINE / REASON"]))


@command
def _jobs(args, clients, settings) -> int:
    answer = clients.orchestrator.jobs(args.owner, args.repo, args.ref, args.state, limit=args.limit)
    if args.json:
        emit_json(answer["jobs"])
        return 0
    print(
        table(
            [
                [j["id"], f"{j['owner']}/{j['repo']}", j["ref"], (j["commit"] or "")[:12], j["state"]]
                for j in answer["jobs"]
            ],
            ["JOB", "REPO", "REF", "COMMIT", "STATE"],
        )
    )
    return 0


@command
def _builds(args, clients, settings) -> int:
    answer = clients.image_factory.builds(args.owner, args.repo, args.ref, None, args.status, limit=args.limit)
    if args.json:
        emit_json(answer["builds"])
        return 0
    print(
        table(
            [
                [
                    b["id"],
                    f"{b['owner']}/{b['repo']}",
                    b["ref"],
                    (b["commit"] or "")[:12],
                    b["status"],
                    b.get("image") or "",
                ]
                for b in answer["builds"]
            ],
            ["BUILD", "REPO", "REF", "COMMIT", "STATUS", "IMAGE"],
        )
    )
    return 0


@command
def logs(args, clients, settings) -> int:
    """A build's log (args.build_id, args.follow, args.json)."""
    factory = clients.image_factory
    if not args.follow:
        text = factory.log(args.build_id)
        status = factory.build(args.build_id)["status"]
        if args.json:
            emit_json({"build": args.build_id, "status": status, "log": text})
        else:
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        return 0 if status != BuildStatus.FAILED else FAILED
    status = "unknown"
    lines = []
    for event, data in factory.follow_log(args.build_id):
        if event == "end":
            status = data
        elif args.json:
            lines.append(data)
        else:
            print(data, flush=True)
    if args.json:
        emit_json({"build": args.build_id, "status": status, "log": "\n".join(lines)})
    else:
        print(f"-- build {status}", file=sys.stderr)
    return 0 if status == BuildStatus.SUCCEEDED else FAILED
