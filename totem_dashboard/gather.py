"""What the pages show, assembled from the services' APIs (the deployer, orchestrator and image factory)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from deployer.states import ACTIVE, State
from totem_client import Clients, ServiceError
from totem_dashboard import rollout_chart, timeline
from totem_dashboard.times import epoch


def git_of(record: dict) -> dict:
    return ((record.get("request") or {}).get("meta-info") or {}).get("git") or {}


def hosts_of(record: dict) -> list[str]:
    wiring = (record.get("spec") or {}).get("wiring") or {}
    return sorted(wiring)


def health_of(record: dict) -> dict:
    """Instances placed, and how many passed the deployer's HTTP check (all, when it ran none)."""
    instances = record.get("instances") or {}
    checked: dict = {}
    skipped = False  # check.path "" or check.port 0: the deployer ran no HTTP check
    for event in record.get("timeline") or []:
        if event.get("type") == "CHECK_PASSED":
            details = event.get("details") or {}
            checked, skipped = details.get("checked") or {}, "skipped" in details
    state = record.get("state")
    healthy = (len(instances) if skipped else len(checked)) if state == State.PROMOTED else 0
    return {
        "instances": len(instances),
        "healthy": healthy,
        "ok": state == State.PROMOTED and healthy >= len(instances) > 0,
    }


def app_row(clients: Clients, app: dict) -> dict:
    shown_id = app.get("live") or (app.get("latest") or {}).get("id")
    try:
        record = clients.deployer.deployment(shown_id) if shown_id else {}
    except ServiceError:
        record = {}
    latest = app.get("latest") or {}
    git = git_of(record)
    return {
        "name": app["name"],
        "live": bool(app.get("live")),
        "version": record.get("version") or "",
        "state": record.get("state") or latest.get("state") or "",
        "hosts": hosts_of(record),
        "health": health_of(record),
        "last_deploy": latest.get("updated") or "",
        "owner": git.get("owner", ""),
        "repo": git.get("repo", ""),
        "ref": git.get("ref", ""),
        "latest_state": latest.get("state") or "",
    }


def app_rows(clients: Clients, query: str = "", owner: str = "", repo: str = "", ref: str = "") -> list[dict]:
    apps = clients.deployer.apps()
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda a: app_row(clients, a), apps))
    wanted = {"owner": owner, "repo": repo, "ref": ref}
    query = query.strip().lower()
    return [
        r
        for r in rows
        if all(not v or r[k] == v for k, v in wanted.items())
        and (not query or query in " ".join([r["name"], r["owner"], r["repo"], r["ref"], r["version"]]).lower())
    ]


def _optional(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ServiceError:
        return None


def app_page(clients: Clients, name: str) -> dict:
    app = clients.deployer.app(name)
    summaries = app.get("deployments") or []
    current = clients.deployer.deployment(summaries[0]["id"]) if summaries else {}
    live = (
        current
        if current.get("id") == app.get("live")
        else (_optional(clients.deployer.deployment, app["live"]) if app.get("live") else None)
    )
    job_id = ((current.get("request") or {}).get("meta-info") or {}).get("job-id")
    job = _optional(clients.orchestrator.job, job_id) if job_id else None
    git = git_of(current)
    build = None
    if git.get("commit"):
        found = (
            _optional(
                clients.image_factory.builds,
                owner=git.get("owner"),
                repo=git.get("repo"),
                commit=git["commit"],
                limit=1,
            )
            or {}
        )
        build = (found.get("builds") or [None])[0]
    events = [dict(e, source="deployer") for e in current.get("timeline") or []]
    events += [dict(e, source="orchestrator") for e in (job or {}).get("events") or []]
    events.sort(key=lambda e: epoch(e.get("date")) or 0, reverse=True)
    versions = []
    for summary in summaries:
        if summary["version"] not in versions:
            versions.append(summary["version"])
    return {
        "name": name,
        "app": app,
        "deployments": summaries,
        "current": current,
        "live": live,
        "job": job,
        "build": build,
        "git": git,
        "phases": timeline.phases(current, job, build) if current else [],
        "events": events[:40],
        "versions": versions,
        "wiring": wiring_of(live or current),
        "instances": instances_of(live or current),
        "health": health_of(live or current or {}),
        "rollout": app.get("rollout"),
        "preview_hosts": preview_hosts(app.get("rollout")),
        "traffic": app.get("traffic") or {},
        "charts": rollout_chart.charts((app.get("rollout") or {}).get("samples")),
        "in_progress": any(d.get("state") in ACTIVE for d in summaries),
    }


def preview_hosts(rollout: dict | None) -> list[str]:
    """The rollout's preview host names: `preview` is {"host": h} or {"hosts": [h, ...]}."""
    preview = (rollout or {}).get("preview") or {}
    hosts = preview.get("hosts") or ([preview["host"]] if preview.get("host") else [])
    return [str(h) for h in hosts]


def wiring_of(record: dict | None) -> list[dict]:
    wiring = ((record or {}).get("spec") or {}).get("wiring") or {}
    rows = []
    for host, entry in sorted(wiring.items()):
        for loc_id, loc in sorted((entry.get("locations") or {}).items()):
            rows.append(
                {
                    "host": host,
                    "aliases": entry.get("aliases") or [],
                    "location": loc_id,
                    "path": loc.get("path", "/"),
                    "force_ssl": bool(loc.get("force-ssl")),
                    "allowed": loc.get("allowed") or [],
                    "denied": loc.get("denied") or [],
                    "upstream": (record or {}).get("upstream", ""),
                }
            )
    return rows


def instances_of(record: dict | None) -> list[dict]:
    record = record or {}
    discovered: dict[str, str] = {}  # node -> "ip:port"
    checked: dict[str, int] = {}  # node -> HTTP status of the check
    for event in record.get("timeline") or []:
        details = event.get("details") or {}
        if event.get("type") == "NODES_DISCOVERED":
            discovered = details.get("endpoints") or {}
        elif event.get("type") == "CHECK_PASSED":
            checked = details.get("checked") or {}
    path = (record.get("spec") or {}).get("check_path", "/")
    rows = []
    for node, where in sorted((record.get("instances") or {}).items()):
        endpoint = discovered.get(node) or f"{where.get('address', '?')}:{where.get('port', '?')}"
        status = checked.get(node)
        rows.append(
            {
                "node": node,
                "endpoint": endpoint,
                "host": where.get("host", ""),
                "check": f"GET {path} → {status}" if status else "not checked",
                "healthy": bool(status) and record.get("state") == State.PROMOTED,
            }
        )
    return rows
