"""Totem itself on the rig's Swarm: deploy/stack.yml (+ deploy/local-git.yml for the sample app's
file:// repositories) deployed with `docker stack deploy`, as an operator would (docs/cluster.md).

`deploy_totem` builds Totem's image here from the local debootstrap base (nothing pulled), pushes it
to the registry every host pulls from, creates the Swarm secrets (the rig's client certificate, and
secrets generated once into <cluster home>/swarm/secrets, 0600), deploys the stack through the
manager's TLS API, and waits until every service runs and answers. It runs beside the rig's own
sidekicks, so it has a yoda prefix, ports and a cluster name of its own (VARIABLES).
`remove_totem` removes the stack and everything `deploy_totem` and the sample app made.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import docker
import requests
from cryptography.fernet import Fernet

from deployer.engines import Access, connect
from totem.contracts.labels import CLUSTER, selector
from totem.settings import Settings
from totem.store import connect as connect_store
from totem.waiting import WaitTimeout, wait
from totem_cluster.rig import Cluster
from totem_demo import follow, layout, sample_repo
from totem_demo.environment import PROXY_VARIABLES
from totem_demo.layout import DemoHome
from totem_stack.images import REPO, push_by_content, totem_image
from yoda_proxy.certs import write_private

STACK = "totem"
STACK_FILES = (REPO / "deploy" / "stack.yml", REPO / "deploy" / "local-git.yml")
NAMESPACE = "com.docker.stack.namespace"  # the label `docker stack deploy` puts on what it makes
LOCAL_TAG = "totem-local/totem:swarm"
# Beside the rig's yoda-discover (/yoda) and yoda-proxy (8080/8443/8081) on the same hosts.
PORTS = {
    "ORCHESTRATOR_PORT": 19400,
    "DEPLOYER_PORT": 19000,
    "IMAGE_FACTORY_PORT": 19300,
    "PROXY_HTTP_PORT": 9080,
    "PROXY_HTTPS_PORT": 9443,
    "PROXY_ADMIN_PORT": 9081,
    "REDIS_PORT": 16379,
}
VARIABLES = {
    "YODA_BASE": "/yoda-swarm",
    "TOTEM_CLUSTER": "swarm",
    "TOTEM_DEPLOYER_PREFIX": "/totem-swarm/deployer",
    "TOTEM_DEPLOYER_PORTS": "30000-30999",
    "TOTEM_LOG_FORMAT": "kv",
    "TOTEM_API_WORKERS": "1",  # a small machine runs every host
}
GENERATED = {  # Swarm secret → how its value is made (once; kept under the cluster home)
    "totem_hook_secret": lambda: secrets.token_urlsafe(32),
    "totem_api_token": lambda: secrets.token_urlsafe(32),
    "totem_encryption_key": lambda: Fernet.generate_key().decode(),
}
CERTIFICATES = {"totem_docker_ca": "ca.pem", "totem_docker_cert": "cert.pem", "totem_docker_key": "key.pem"}
DIGEST = "totem.digest"  # label: which content a Swarm secret holds (secrets cannot be read back)
UP_TIMEOUT = 600.0  # the first deploy pulls Totem's image onto every host
GONE_TIMEOUT = 120.0
HELLO = "hello.localhost"


@dataclass(frozen=True)
class StackInfo:
    name: str
    image: str
    home: Path  # <cluster home>/swarm: generated secrets, socket links, the sample app's repositories
    edges: tuple[str, ...]  # edge hosts' addresses: one of each API and a proxy on each
    variables: dict[str, str] = field(repr=False)  # what the stack was deployed with (no secret)

    def url(self, port: str, edge: int = 0) -> str:
        return f"http://{self.edges[edge]}:{self.variables[port]}"

    def proxy(self, edge: int = 0) -> str:
        return f"{self.edges[edge]}:{self.variables['PROXY_HTTP_PORT']}"

    def secret(self, name: str) -> str:
        return (self.home / "secrets" / name).read_text()

    @property
    def git_root(self) -> Path:
        return self.home / "git"


def _say(out: TextIO | None, message: str) -> None:
    if out is not None:
        print(f"totem on swarm: {message}", file=out, flush=True)


def _manager(cluster: Cluster) -> docker.DockerClient:
    """The manager's API over TLS with the rig's client certificate, as an operator reaches it."""
    return connect(cluster.manager.docker_url, Access(certs=str(cluster.certs / "client")), timeout=60)


def _client_certs(cluster: Cluster) -> Path:
    return cluster.certs / "client" / cluster.manager.address  # any rig client certificate opens every engine


# -- what the stack needs before it is deployed ------------------------------------------------
def push_image(settings: Settings, registry: str, out: TextIO | None) -> str:
    """Totem's image built by the stack's engine, pushed under a tag of its content."""
    client = docker.DockerClient(base_url=settings.docker_host, timeout=600)
    try:
        totem_image(client, LOCAL_TAG)
        image = push_by_content(client, LOCAL_TAG, f"{registry}/totem/totem")
    finally:
        client.close()
    _say(out, f"image {image} pushed")
    return image


def _generated(home: Path) -> dict[str, bytes]:
    folder = home / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    values = {}
    for name, make in GENERATED.items():
        if not (folder / name).exists():
            write_private(folder / name, make())
        values[name] = (folder / name).read_bytes()
    return values


def ensure_secrets(manager: docker.DockerClient, cluster: Cluster, home: Path, out: TextIO | None) -> None:
    """Every Swarm secret the stack names, created (or replaced when its content changed)."""
    wanted = _generated(home)
    wanted.update({name: (_client_certs(cluster) / file).read_bytes() for name, file in CERTIFICATES.items()})
    existing = {s.name: s for s in manager.secrets.list()}
    for name, data in wanted.items():
        digest = hashlib.sha256(data).hexdigest()
        found = existing.get(name)
        if found is not None and (found.attrs["Spec"].get("Labels") or {}).get(DIGEST) == digest:
            continue
        if found is not None:  # refused while a service uses it: remove the stack first
            found.remove()
        manager.secrets.create(name=name, data=data, labels={DIGEST: digest})
        _say(out, f"secret {name} {'replaced' if found else 'created'}")


def socket_links(manager: docker.DockerClient, cluster: Cluster, home: Path) -> str:
    """DOCKER_SOCKET for the stack: every rig engine keeps its socket at a path of its own, so each
    node gets a link named after its Swarm node ID, which the bind mount's {{.Node.ID}} picks."""
    folder = home / "sockets"
    folder.mkdir(parents=True, exist_ok=True)
    sockets = {host.name: host.docker_socket.removeprefix("unix://") for host in cluster.hosts}
    for node in manager.nodes.list():
        name = (node.attrs["Spec"].get("Labels") or {}).get("totem.host")
        if name in sockets:
            link = folder / f"{node.id}.sock"
            link.unlink(missing_ok=True)
            link.symlink_to(sockets[name])
    return str(folder / "{{.Node.ID}}.sock")


def stack_variables(cluster: Cluster, image: str, socket: str, git_root: Path) -> dict[str, str]:
    manager = cluster.manager.address
    return {
        **{name: str(port) for name, port in PORTS.items()},
        **VARIABLES,
        "TOTEM_IMAGE": image,
        "REDIS_IMAGE": image,  # Debian's redis-server is in Totem's local base
        "TOTEM_ETCD_URL": cluster.etcd_url,
        "TOTEM_REDIS_URL": f"redis://{manager}:{PORTS['REDIS_PORT']}/0",
        "TOTEM_SWARM_HOST": cluster.manager.docker_url,
        "TOTEM_REGISTRY": cluster.registry,
        "DOCKER_SOCKET": socket,
        "TOTEM_GIT_ROOT": str(git_root),
    }


def docker_cli(cluster: Cluster, args: list[str], variables: dict[str, str], timeout: float = 300) -> str:
    """The docker CLI against the manager over TLS, the stack's variables in its environment."""
    binary = shutil.which("docker") or "docker"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_") and k not in PROXY_VARIABLES}
    env.update(variables)
    env.update(
        DOCKER_HOST=cluster.manager.docker_url, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(_client_certs(cluster))
    )
    result = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:2])} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


# -- waiting -----------------------------------------------------------------------------------
def _services(manager: docker.DockerClient, stack: str) -> list:
    return manager.services.list(filters={"label": f"{NAMESPACE}={stack}"})


def pending_services(manager: docker.DockerClient, stack: str) -> list[str]:
    """One line per service not fully running yet ("name running/wanted: last error")."""
    found = []
    services = _services(manager, stack)
    for service in services:
        tasks = service.tasks(filters={"desired-state": "running"})
        running = sum(task["Status"]["State"] == "running" for task in tasks)
        wanted = max(len(tasks), service.attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 1))
        if running < wanted:
            errors = [task["Status"].get("Err") for task in service.tasks() if task["Status"].get("Err")]
            found.append(f"{service.name} {running}/{wanted}" + (f": {errors[-1]}" if errors else ""))
    return found if services else ["no services yet"]


def _answers(url: str) -> bool:
    try:
        with requests.Session() as session:
            session.trust_env = False  # straight to the rig's address, never through a proxy
            return session.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def wait_ready(manager: docker.DockerClient, info: StackInfo, timeout: float, out: TextIO | None) -> None:
    """Every service's tasks running (healthy, for those with a health check) and, on every edge
    host, each API's /health and the proxy's /healthz answering 200."""
    checks = [(port, "/health") for port in ("ORCHESTRATOR_PORT", "DEPLOYER_PORT", "IMAGE_FACTORY_PORT")]
    checks.append(("PROXY_ADMIN_PORT", "/healthz"))
    shown: list[list[str]] = [[]]

    def ready() -> bool:
        pending = pending_services(manager, info.name)
        pending += [
            f"{info.url(port, edge)}{path}"
            for edge in range(len(info.edges))
            for port, path in checks
            if not pending and not _answers(f"{info.url(port, edge)}{path}")
        ]
        if pending and pending != shown[0]:
            _say(out, "waiting for " + "; ".join(pending))
        shown[0] = pending
        return not pending

    try:
        wait(ready, timeout, 2.0, what=f"stack {info.name} running and answering")
    except WaitTimeout:
        raise RuntimeError(f"stack {info.name} not ready after {timeout:.0f}s: {'; '.join(shown[0])}") from None


# -- deploy and remove -------------------------------------------------------------------------
def deploy_totem(cluster: Cluster, settings: Settings, out: TextIO | None = sys.stdout) -> StackInfo:
    home = cluster.home / "swarm"
    (home / "git").mkdir(parents=True, exist_ok=True)
    image = push_image(settings, cluster.registry, out)
    manager = _manager(cluster)
    try:
        ensure_secrets(manager, cluster, home, out)
        variables = stack_variables(cluster, image, socket_links(manager, cluster, home), home / "git")
        files = [part for path in STACK_FILES for part in ("--compose-file", str(path))]
        printed = docker_cli(cluster, ["stack", "deploy", *files, "--prune", STACK], variables)
        for line in printed.splitlines():
            _say(out, line)
        edges = tuple(host.address for host in cluster.edges)
        info = StackInfo(STACK, image, home, edges, variables)
        wait_ready(manager, info, UP_TIMEOUT, out)
    finally:
        manager.close()
    _say(out, f"ready: APIs and proxy on {', '.join(edges)} (proxy :{PORTS['PROXY_HTTP_PORT']})")
    return info


def _engines(cluster: Cluster) -> Iterator[docker.DockerClient]:
    """Each host's engine over TLS, skipping a host that does not answer."""
    access = Access(certs=str(cluster.certs / "client"))
    for host in cluster.hosts:
        try:
            client = connect(host.docker_url, access, timeout=30)
        except docker.errors.DockerException:
            continue
        try:
            yield client
        finally:
            client.close()


def _remove_volumes(engine: docker.DockerClient) -> None:
    """The stack's volumes on one engine, once its containers (which leave asynchronously) are gone."""
    mine = {"label": f"{NAMESPACE}={STACK}"}

    def gone() -> bool:  # one list call: containers.list() inspects each, racing their removal
        return not engine.api.containers(all=True, filters=mine)

    wait(gone, GONE_TIMEOUT, 1.0, what=f"the {STACK} stack's containers gone")
    for volume in engine.volumes.list(filters=mine):
        volume.remove(force=True)


def remove_totem(cluster: Cluster, out: TextIO | None = sys.stdout) -> None:
    """The stack, the apps its deployer made, its volumes, secrets, keys in etcd and local files."""
    manager = _manager(cluster)
    try:
        if _services(manager, STACK):
            docker_cli(cluster, ["stack", "rm", STACK], {})
        for service in manager.services.list(filters={"label": selector(CLUSTER, VARIABLES["TOTEM_CLUSTER"])}):
            service.remove()
        for engine in _engines(cluster):
            _remove_volumes(engine)
        for secret in manager.secrets.list():
            if secret.name in GENERATED or secret.name in CERTIFICATES:
                secret.remove()
    finally:
        manager.close()
    store = connect_store(cluster.etcd_url)
    for prefix in (VARIABLES["YODA_BASE"], VARIABLES["TOTEM_DEPLOYER_PREFIX"]):
        store.delete_prefix(prefix + "/")
    shutil.rmtree(cluster.home / "swarm", ignore_errors=True)
    _say(out, f"stack {STACK} removed")


# -- the sample app through it -----------------------------------------------------------------
def client_settings(info: StackInfo) -> Settings:
    """Settings of a client of the stack (the pusher, the follower): the first edge host's APIs."""
    return Settings.from_env(
        {
            "TOTEM_HOME": str(info.home),
            "TOTEM_ORCHESTRATOR_URL": info.url("ORCHESTRATOR_PORT"),
            "TOTEM_DEPLOYER_URL": info.url("DEPLOYER_PORT"),
            "TOTEM_IMAGE_FACTORY_URL": info.url("IMAGE_FACTORY_PORT"),
        }
    )


def deploy_sample_app(info: StackInfo, version: str, timeout: float = 300.0) -> follow.Outcome:
    """Push examples/hello (VERSION = `version`) to its local remote, whose hook sends the signed
    GitHub pushes and the CI report, and follow it until hello.localhost answers behind the stack's
    proxy on the first edge host."""
    settings = client_settings(info)
    home = DemoHome.of(settings)
    names = {"TOTEM_HOOK_SECRET": "totem_hook_secret", "TOTEM_API_TOKEN": "totem_api_token"}
    write_private(home.secrets, "".join(f"{name}={info.secret(secret)}\n" for name, secret in names.items()))
    bare = sample_repo.ensure_remote(home, settings, layout.OWNER, layout.REPO)
    work = sample_repo.ensure_work_tree(home, bare, layout.REPO, sample_repo.example_dir())
    sample_repo.sync(work, sample_repo.example_dir(), {"VERSION": f"{version}\n"})
    commit = sample_repo.commit_all(work, version) or sample_repo.head(work) or ""
    sample_repo.push(work, layout.BRANCH)
    follower = follow.Follower(settings, layout.OWNER, layout.REPO, layout.BRANCH, commit, proxy=info.proxy())
    return follower.wait(HELLO, f"hello from {version}", timeout)
