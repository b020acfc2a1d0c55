"""A private image factory environment: own Redis prefix and queue, work dir, git root, hook receiver."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest
import redis
import requests
from flask import Flask

from image_factory.app import create_app
from totem.settings import Settings

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


class FactoryEnvironment:
    def __init__(self, root: Path, hook_url: str, hook_secret: str):
        tag = uuid.uuid4().hex[:10]
        self.root = root
        self.git_root = root / "git"
        self.owner = f"if-test-{tag}"
        self.prefix = f"totem-test:image_factory:{tag}"
        self.queue = f"image_factory_test_{tag}"
        self.api_token = f"token-{uuid.uuid4().hex}"
        self.registry_password = f"registry-pw-{uuid.uuid4().hex}"
        self.hook_secret = hook_secret
        self.env = {
            **os.environ,
            "TOTEM_HOOK_SECRET": hook_secret,
            "TOTEM_API_TOKEN": self.api_token,
            "TOTEM_INSECURE_DEV": "0",
            "TOTEM_ORCHESTRATOR_URL": hook_url,
            "TOTEM_GIT_URL_TEMPLATE": f"file://{self.git_root}/{{owner}}/{{repo}}.git",
            "TOTEM_IMAGE_FACTORY_PREFIX": self.prefix,
            "TOTEM_IMAGE_FACTORY_QUEUE": self.queue,
            "TOTEM_IMAGE_FACTORY_WORKDIR": str(root / "work"),
            "TOTEM_REGISTRY_USERNAME": "builder",
            "TOTEM_REGISTRY_PASSWORD": self.registry_password,
            "TOTEM_HOOK_ATTEMPTS": "3",
            "TOTEM_HOOK_BACKOFF": "0.1",
            "TOTEM_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "TOTEM_CHECKOUT_TIMEOUT": "60",
            "TOTEM_BUILD_TIMEOUT": "120",
            "TOTEM_PUSH_TIMEOUT": "120",
        }
        self.env.pop("TOTEM_BUILD_LOG_BUCKET", None)

    @property
    def registry(self) -> str:
        return self.env.get("TOTEM_REGISTRY", "127.0.0.1:5000")

    def delivery_id(self) -> str:
        """A GitHub delivery id that cleanup() can find again."""
        return f"{self.owner}-{uuid.uuid4()}"

    def manifest(self, image: str) -> requests.Response:
        """GET the manifest of `<registry>/<name>:<tag>` back from the registry API."""
        name, _, tag = image.split("/", 1)[1].rpartition(":")
        return requests.get(
            f"http://{self.registry}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=10
        )

    def cleanup(self, redis_client, images: bool = True) -> None:
        """Remove this environment's Redis keys and (with `images`) local images and registry manifests."""
        for key in redis_client.scan_iter(match=f"{self.prefix}:*", count=500):
            redis_client.delete(key)
        redis_client.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        self._forget_unacked(redis_client)
        for key in redis_client.scan_iter(match=f"totem:image_factory:delivery:{self.owner}-*", count=500):
            redis_client.delete(key)
        if not images:
            return
        client = docker.DockerClient(base_url=self.env.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=60)
        try:
            for image in client.api.images(filters={"label": f"totem.build.owner={self.owner}"}):
                tags = [t for t in image.get("RepoTags") or [] if "<none>" not in t]
                for tag in tags:
                    self._delete_manifest(tag)
                try:
                    client.api.remove_image(image["Id"], force=True)
                except docker.errors.APIError:
                    pass
        finally:
            client.close()

    def _forget_unacked(self, redis_client) -> None:
        """Tasks a killed worker left unacknowledged in kombu's shared `unacked` hash: only this
        queue's entries go (else the broker would restore them into the queue an hour later)."""
        for tag, raw in redis_client.hscan_iter("unacked", count=500):
            if json.loads(raw)[2] == self.queue:  # [message, exchange, routing key]
                redis_client.hdel("unacked", tag)
                redis_client.zrem("unacked_index", tag)

    def _delete_manifest(self, image: str) -> None:
        try:
            response = self.manifest(image)
            digest = response.headers.get("Docker-Content-Digest")
            if response.ok and digest:
                name = image.split("/", 1)[1].rpartition(":")[0]
                requests.delete(f"http://{self.registry}/v2/{name}/manifests/{digest}", timeout=10)
        except requests.RequestException:
            pass


@contextmanager
def factory_app(root: Path, images: bool = True) -> Iterator[tuple[FactoryEnvironment, Flask, list[str]]]:
    """(env, app, queued): an image factory app in an environment of its own (its variables set while
    it is used; no orchestrator listens), its queue a list of the build ids sent. Its Redis keys, and
    with `images` its images and registry manifests, are removed after."""
    env = FactoryEnvironment(root, "http://127.0.0.1:9", f"secret-{uuid.uuid4().hex}")
    settings = Settings.from_env(env.env)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.env.items():
            patch.setenv(name, value)
        queued: list[str] = []
        try:
            yield env, create_app(settings, enqueue=queued.append), queued
        finally:
            env.cleanup(client, images=images)
            client.close()
