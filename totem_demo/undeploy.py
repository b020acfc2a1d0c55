"""Taking the sample app down: undeploy every branch through the orchestrator, then forget the repos."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from typing import TextIO
from urllib.parse import quote

import docker
import requests

from totem.contracts.labels import APP, CLUSTER, selector
from totem.waiting import WaitTimeout, wait
from totem_demo import layout, secrets
from totem_demo.layout import DemoHome

WAIT = 90.0


def branches(home: DemoHome) -> list[str]:
    bare = home.bare_repo()
    if not bare.exists():
        return []
    out = subprocess.run(
        ["git", "--git-dir", str(bare), "for-each-ref", "--format=%(refname)", "refs/heads"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return [line.removeprefix("refs/heads/") for line in out.splitlines() if line]


def deployment_name(ref: str) -> str:
    """The deployer's app name for a branch (the built-in default `<owner>-<repo>-<ref>`, slugged)."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()) for part in (layout.OWNER, layout.REPO, ref))


def app_containers(settings, client, app: str | None = None) -> list:
    """Containers the deployer runs for the sample app (or one of its branches), on this cluster."""
    prefix = f"{layout.OWNER}-{layout.REPO}-"
    # the deployer may be removing some meanwhile: one gone between the list and its inspect is skipped
    found = client.containers.list(
        all=True, filters={"label": selector(CLUSTER, settings.cluster)}, ignore_removed=True
    )
    return [c for c in found if (c.labels.get(APP) == app if app else c.labels.get(APP, "").startswith(prefix))]


def _wait_gone(settings, client, app: str) -> None:
    """Give the deployer WAIT seconds to remove the app's containers; what is left is removed after."""
    with contextlib.suppress(WaitTimeout):
        wait(lambda: not app_containers(settings, client, app), WAIT, interval=0.5, what=f"{app} containers gone")


def undeploy_sample(settings, home: DemoHome, out: TextIO) -> None:
    """One branch at a time (each undeploy rewires the proxies), then whatever is left is removed."""
    token = secrets.load_or_create(home.secrets)["TOTEM_API_TOKEN"]
    try:
        client = docker.DockerClient(base_url=settings.docker_host, timeout=30)
    except docker.errors.DockerException as exc:
        out.write(f"  docker is not answering ({type(exc).__name__}): nothing to undeploy\n")
        return
    try:
        for ref in branches(home):
            url = f"{settings.orchestrator_url}/apps/{layout.OWNER}/{layout.REPO}/{quote(ref, safe='/')}"
            answer: int | str  # the status code, or why there is none
            try:
                answer = requests.delete(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code
            except requests.RequestException as exc:
                answer = f"orchestrator unreachable ({type(exc).__name__})"
            out.write(f"  {ref:<24} undeploy: {answer}\n")
            out.flush()
            if answer == 202:
                _wait_gone(settings, client, deployment_name(ref))
        for container in app_containers(settings, client):  # the deployer did not get to them
            with contextlib.suppress(docker.errors.NotFound):  # or it did, just now
                container.remove(force=True)
                out.write(f"  removed container {container.name}\n")
    finally:
        client.close()
    out.flush()


def remove_repos(home: DemoHome) -> None:
    """The local remote and work tree go; the secrets stay for the next run."""
    shutil.rmtree(home.bare_repo(), ignore_errors=True)
    shutil.rmtree(home.work_tree(), ignore_errors=True)
