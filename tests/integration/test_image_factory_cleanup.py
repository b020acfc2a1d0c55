"""The periodic cleanup keeps the newest N factory images per repository (real Docker) and build dirs."""

from __future__ import annotations

import os
import time
import uuid

import docker
import pytest

from image_factory.cleanup import prune_build_dirs, prune_images
from image_factory.docker_image import LABEL_PREFIX


@pytest.fixture
def api():
    client = docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=60)
    owner = f"if-cleanup-{uuid.uuid4().hex[:10]}"
    yield client, owner
    for image in client.images(filters={"label": f"{LABEL_PREFIX}owner={owner}"}):
        client.remove_image(image["Id"], force=True)
    client.close()


def build_image(client, tmp_path, owner: str, repo: str, n: int) -> str:
    context = tmp_path / f"{repo}-{n}"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM scratch\nLABEL serial={n}\n")
    labels = {f"{LABEL_PREFIX}owner": owner, f"{LABEL_PREFIX}repo": repo}
    list(
        client.build(
            path=str(context), labels=labels, tag=f"{owner}-{repo}:{n}", rm=True, decode=True, network_mode="host"
        )
    )
    time.sleep(1.1)  # image creation times have one-second resolution: keep them ordered
    return client.inspect_image(f"{owner}-{repo}:{n}")["Id"]


def test_only_the_newest_images_per_repository_are_kept(api, tmp_path):
    client, owner = api
    first = [build_image(client, tmp_path, owner, "one", n) for n in range(3)]
    second = [build_image(client, tmp_path, owner, "two", n) for n in range(1)]

    removed = prune_images(client, keep=1, owner=owner)

    assert sorted(removed) == sorted(first[:2])
    left = {i["Id"] for i in client.images(filters={"label": f"{LABEL_PREFIX}owner={owner}"})}
    assert left == {first[2], second[0]}


def test_only_the_newest_build_dirs_are_kept_and_active_ones_never_go(tmp_path):
    repo_dir = tmp_path / "builds" / "acme" / "hello"
    dirs = []
    for n in range(4):
        path = repo_dir / f"b{n}"
        path.mkdir(parents=True)
        os.utime(path, (1000 + n, 1000 + n))
        dirs.append(path)

    removed = prune_build_dirs(tmp_path / "builds", keep=1, active={"b0"})

    assert sorted(removed) == [dirs[1], dirs[2]]
    assert sorted(p.name for p in repo_dir.iterdir()) == ["b0", "b3"]
