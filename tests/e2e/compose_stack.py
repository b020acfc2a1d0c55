"""docker-compose.yml brought up with locally built images, on ports of its own, and taken down."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import docker
import pytest
import requests

from tests.e2e.stack_images import REPO, totem_image
from totem.contracts.labels import CLUSTER, selector
from totem.waiting import wait
from totem_demo.environment import PROXY_VARIABLES

# Below the ephemeral range, apart from the demo's: nothing else binds these.
PORTS = {
    "ETCD_PORT": 12379,
    "ETCD_PEER_PORT": 12380,
    "REDIS_PORT": 16379,
    "REGISTRY_PORT": 15000,
    "ORCHESTRATOR_PORT": 19400,
    "DEPLOYER_PORT": 19000,
    "IMAGE_FACTORY_PORT": 19300,
    "PROXY_HTTP_PORT": 18080,
    "PROXY_HTTPS_PORT": 18443,
    "PROXY_ADMIN_PORT": 18081,
}
UP_TIMEOUT = 180


def ensure_docker_compose() -> str:
    """docker-compose, installed from Debian's package when missing (as root)."""
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("docker-compose is missing: apt-get install docker-compose")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "docker-compose"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    return shutil.which("docker-compose") or pytest.fail("docker-compose did not install")


class ComposeStack:
    def __init__(self, workdir: Path):
        self.tag = uuid.uuid4().hex[:8]
        self.project = f"totem-e2e-{self.tag}"
        self.git_root = workdir / "git"
        self.git_root.mkdir(parents=True)
        self.secrets = {"TOTEM_HOOK_SECRET": secrets.token_urlsafe(32), "TOTEM_API_TOKEN": secrets.token_urlsafe(32)}
        self.compose = ensure_docker_compose()
        self.docker = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
        self.cluster = f"compose{self.tag}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{PORTS[name]}"

    @property
    def env(self) -> dict[str, str]:
        image, base = totem_image(self.docker)
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
        env.update({name: str(port) for name, port in PORTS.items()})
        env.update(self.secrets)
        env.update(
            {
                "TOTEM_IMAGE": image,
                "BASE_IMAGE": base,
                "ETCD_IMAGE": base,
                "REDIS_IMAGE": base,
                "REGISTRY_IMAGE": base,
                "REGISTRY_BIN": "docker-registry",
                "TOTEM_CLUSTER": self.cluster,
                "TOTEM_GIT_ROOT": str(self.git_root),
                "YODA_NODE": f"compose-{self.tag}",
                "TOTEM_GIT_URL_TEMPLATE": f"file://{self.git_root}/{{owner}}/{{repo}}.git",
                "TOTEM_DEPLOYER_PORTS": "31000-31999",
                "TOTEM_LOG_FORMAT": "kv",
            }
        )
        return env

    def _compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        argv = [self.compose, "--project-name", self.project, "--file", str(REPO / "docker-compose.yml"), *args]
        return subprocess.run(argv, cwd=REPO, env=self._env, capture_output=True, text=True, timeout=timeout)

    def up(self) -> None:
        self._env = self.env
        result = self._compose("up", "--detach", "--no-build")
        assert result.returncode == 0, result.stderr[-3000:]
        for name in ("ORCHESTRATOR_PORT", "DEPLOYER_PORT", "IMAGE_FACTORY_PORT"):
            wait(lambda name=name: self._answers(f"{self.url(name)}/health"), timeout=UP_TIMEOUT, interval=1)
        wait(lambda: self._answers(f"{self.url('PROXY_ADMIN_PORT')}/healthz"), timeout=UP_TIMEOUT, interval=1)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def logs(self) -> str:
        return self._compose("logs", "--no-color", "--tail", "40").stdout[-8000:]

    def down(self) -> None:
        if hasattr(self, "_env"):
            self._compose("down", "--volumes", "--remove-orphans", "--timeout", "10")
        for container in self.docker.containers.list(all=True, filters={"label": selector(CLUSTER, self.cluster)}):
            container.remove(force=True)
        registry = f"127.0.0.1:{PORTS['REGISTRY_PORT']}/"  # images the stack's image factory built
        for image in self.docker.images.list():
            for tag in image.tags:
                if tag.startswith(registry):
                    self.docker.images.remove(tag)
        self.docker.close()
