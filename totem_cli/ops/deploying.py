"""`totem deploy <owner>/<repo> --ref REF [--commit SHA] [--image IMAGE]`: build (or take an image),
let the orchestrator gate and request the deployment, then follow it to PROMOTED or FAILED."""

from __future__ import annotations

import argparse
import contextlib
import subprocess

from deployer.states import State as DeploymentState
from image_factory.states import FINISHED as BUILD_DONE
from image_factory.states import BuildStatus
from orchestrator.states import FINAL as JOB_DONE
from orchestrator.states import State as JobState
from totem.contracts.hook import HookStatus
from totem.git_names import validate_git
from totem.waiting import Deadline, WaitTimeout, wait
from totem_cli.ops import progress
from totem_cli.ops.output import CONFIG, FAILED, command, emit_json
from totem_client import ServiceError


def _owner_repo(value: str) -> tuple[str, str]:
    owner, _, repo = value.partition("/")
    if not owner or not repo or "/" in repo:
        raise argparse.ArgumentTypeError("expected OWNER/REPO")
    return owner, repo


def register(subparsers) -> None:
    deploy = subparsers.add_parser("deploy", help="build and deploy a commit (or deploy an existing image)")
    deploy.add_argument("repository", type=_owner_repo, metavar="OWNER/REPO")
    deploy.add_argument("--ref", required=True, help="branch or tag")
    deploy.add_argument("--commit", help="40-hex commit (default: the ref's head, from TOTEM_GIT_URL_TEMPLATE)")
    deploy.add_argument("--image", help="deploy this image: skip the build (needs TOTEM_HOOK_SECRET)")
    deploy.add_argument("--json", action="store_true", help="print the outcome as JSON")
    deploy.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS")
    deploy.set_defaults(handler=_deploy)


def resolve_commit(url_template: str, owner: str, repo: str, ref: str) -> str:
    url = url_template.format(owner=owner, repo=repo)
    found = subprocess.run(["git", "ls-remote", "--", url, ref], capture_output=True, text=True, timeout=60)
    for line in found.stdout.splitlines():
        sha, _, name = line.partition("\t")
        if name in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
            return sha
    raise ServiceError("git", 404, "unknown_ref", f"{ref} not found in {url}")


def _wait(fetch, done, timeout: float, what: str, interval: float = 0.5):
    """The first fetched value that is `done`, or the last one fetched when `timeout` passes."""
    last = None

    def settled() -> bool:
        nonlocal last
        last = fetch()
        return done(last)

    with contextlib.suppress(WaitTimeout):
        wait(settled, timeout, interval, what=what)
    return last


def _build(clients, git: dict, quiet: bool, timeout: float) -> dict:
    build = clients.image_factory.create_build(git["owner"], git["repo"], git["ref"], git["commit"])
    progress.say(quiet, f"build {build['id']}: {build['status']}")
    seen = set()

    def fetch():
        record = clients.image_factory.build(build["id"])
        for step in record.get("steps") or []:
            if step.get("name") not in seen and step.get("duration_s") is not None:
                seen.add(step["name"])
                progress.say(quiet, f"  ✓ build {step['name']}" + (f": {step['error']}" if step.get("error") else ""))
        return record

    return _wait(fetch, lambda b: b["status"] in BUILD_DONE, timeout, f"build {build['id']} done")


def _job(clients, git: dict, job_id: str | None, quiet: bool, timeout: float) -> dict | None:
    def fetch():
        if job_id:
            return clients.orchestrator.job(job_id)
        jobs = clients.orchestrator.jobs(git["owner"], git["repo"], git["ref"], limit=20)["jobs"]
        found = next((j for j in jobs if j["commit"] == git["commit"]), None)
        return clients.orchestrator.job(found["id"]) if found else None

    job = _wait(fetch, lambda j: j is not None and j["state"] in JOB_DONE, timeout, "the orchestrator's job done")
    if job:
        error = f" ({job['error']['message']})" if job.get("error") else ""
        progress.say(quiet, f"job {job['id']}: {job['state']}{error}")
    return job


def _deployment_ids(job: dict) -> list[str]:
    results = ((job.get("deploy") or {}).get("deployers") or {}).values()
    return [
        r["response"]["deployment"]["id"]
        for r in results
        if r.get("ok") and isinstance(r.get("response"), dict) and "deployment" in r["response"]
    ]


@command
def _deploy(args, clients, settings) -> int:
    quiet = args.json
    owner, repo = args.repository
    commit = args.commit or resolve_commit(settings.git_url_template, owner, repo, args.ref)
    git = validate_git({"owner": owner, "repo": repo, "ref": args.ref, "commit": commit})
    deadline = Deadline(args.timeout)
    outcome: dict = {"git": git, "build": None, "job": None, "deployments": []}
    job_id = None
    if args.image and not settings.hook_secret:
        progress.warn("totem deploy: --image sends a signed hook: set TOTEM_HOOK_SECRET")
        return CONFIG
    if args.image:
        hook = {
            "git": git,
            "type": "builder",
            "name": "image-factory",
            "status": HookStatus.SUCCESS,
            "result": {"image": args.image},
            "force-deploy": True,
        }
        job_id = (clients.orchestrator.send_hook(hook, settings.hook_secret).get("job") or {}).get("id")
        progress.say(quiet, f"image {args.image} sent to the orchestrator (job {job_id})")
    else:
        build = _build(clients, git, quiet, args.timeout)
        outcome["build"] = {k: build.get(k) for k in ("id", "status", "image", "error")}
        if build["status"] != BuildStatus.SUCCEEDED:
            return _finish(quiet, outcome, False, f"build {build['status']}: {build.get('error') or ''}")
    job = _job(clients, git, job_id, quiet, max(1.0, deadline.remaining()))
    outcome["job"] = {k: (job or {}).get(k) for k in ("id", "state", "error")}
    if not job or job["state"] != JobState.COMPLETE:
        return _finish(quiet, outcome, False, f"job {(job or {}).get('state', 'not found')}")
    ok = True
    for deployment_id in _deployment_ids(job):
        progress.say(quiet, f"deployment {deployment_id}")
        record = progress.follow(clients.deployer, deployment_id, max(1.0, deadline.remaining()), quiet)
        outcome["deployments"].append({k: record.get(k) for k in ("id", "version", "state", "error")})
        ok = ok and record.get("state") == DeploymentState.PROMOTED
    return _finish(quiet, outcome, ok and bool(outcome["deployments"]), "promoted" if ok else "not promoted")


def _finish(quiet: bool, outcome: dict, ok: bool, summary: str) -> int:
    if quiet:
        emit_json({"ok": ok, **outcome})
    else:
        progress.say(False, f"{'deployed' if ok else 'not deployed'}: {summary}")
    return 0 if ok else FAILED
