"""Fixtures for discovery and Route53 tests; a test module loads them with
`pytest_plugins = ["tests.images.fixtures"]`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import docker
import pytest

from tests.images import busybox_httpd
from totem.store import connect


@pytest.fixture(scope="module")
def docker_client():
    client = docker.DockerClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    busybox_httpd.build(client)
    yield client
    client.close()


@pytest.fixture
def yoda_store(settings):
    return connect(settings.etcd_url)


@pytest.fixture
def yoda_base(yoda_store, unique_prefix):
    """A yoda base no other test uses; deleted afterwards."""
    base = unique_prefix + "yoda"
    yield base
    yoda_store.delete_prefix(unique_prefix)


@pytest.fixture
def apps(docker_client):
    apps = busybox_httpd.Apps(docker_client, uuid.uuid4().hex[:12])
    yield apps
    apps.cleanup()


@pytest.fixture
def discover_cli(settings, yoda_base):
    """Start `yoda-discover MODE ...` against this test's etcd base; killed after the test."""
    processes = []

    def start(mode: str, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "yoda_discover", mode, *args, "--etcd", settings.etcd_url, "--base", yoda_base],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
