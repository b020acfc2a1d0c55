"""Build, tag and push an image with the Docker SDK, streaming output, within a deadline."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import docker
from docker.errors import APIError, DockerException
from requests.exceptions import RequestException
from urllib3.exceptions import HTTPError as Urllib3Error

from image_factory import image_labels
from image_factory.errors import ImageFactoryError
from image_factory.repo_config import BuildOptions
from totem.waiting import Deadline

LABEL_PREFIX = "totem.build."
_RUNNING_IN = re.compile(r"---> Running in ([0-9a-f]{12,64})")


class ImageError(ImageFactoryError, RuntimeError):
    """docker build, tag or push failed (or ran past its deadline)."""


def client(docker_host: str, timeout: float) -> docker.DockerClient:
    """A client whose reads give up after `timeout`: a silent build step cannot outlive its step."""
    return docker.DockerClient(base_url=docker_host, timeout=max(5, int(timeout)))


def _consume(
    stream: Iterable[dict], deadline: Deadline, what: str, say: Callable[[str], None], chunks: list[dict] | None = None
) -> list[dict]:
    """Log each chunk; raise on an error chunk or when the deadline passes (closing the stream)."""
    chunks = [] if chunks is None else chunks
    try:
        for chunk in stream:
            chunks.append(chunk)
            if "error" in chunk or "errorDetail" in chunk:
                raise ImageError(f"{what} failed: " + str(chunk.get("error") or chunk["errorDetail"]).strip())
            text = (chunk.get("stream") or _progress(chunk)).rstrip()
            if text:
                say(text)
            if deadline.expired:
                raise ImageError(f"{what} timed out")
    except (APIError, DockerException) as exc:
        raise ImageError(f"{what} failed: {exc}") from None
    except (RequestException, Urllib3Error, OSError):  # the daemon said nothing for the whole step timeout
        raise ImageError(f"{what} timed out") from None
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    return chunks


def _progress(chunk: dict) -> str:
    if "status" not in chunk or "progressDetail" in chunk and chunk.get("progress"):
        return ""
    return " ".join(str(chunk[k]) for k in ("id", "status") if chunk.get(k))


def build(
    api,
    options: BuildOptions,
    tags: tuple[str, ...],
    labels: dict[str, str],
    timeout: float,
    say: Callable[[str], None],
) -> str:
    """Build the image, label it, apply every tag; returns the image id.

    The build API turns each label into a step of its own (a container created and committed,
    every build, as the labels name the commit): the labels are set afterwards in one commit
    instead (image_labels.py), and only an image with no command takes the slow way."""
    deadline = Deadline(timeout)
    prefixed = {LABEL_PREFIX + k: v for k, v in labels.items()}
    image_id = _build(api, options, tags[0], {}, deadline, say)
    labelled = image_labels.commit(api, image_id, prefixed)
    if labelled is None:
        labelled = _build(api, options, tags[0], prefixed, deadline, say)
    tag_all(api, labelled, tags)
    return labelled


def _build(api, options: BuildOptions, tag: str, labels: dict[str, str], deadline: Deadline, say) -> str:
    stream = api.build(
        path=str(options.context),
        dockerfile=options.dockerfile,
        buildargs=options.args or None,
        target=options.target,
        tag=tag,
        labels=labels or None,
        network_mode="host",
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        timeout=max(1, int(deadline.remaining())),
    )
    chunks: list[dict] = []
    try:
        _consume(stream, deadline, "docker build", say, chunks)
    except ImageError:
        _stop_step_container(api, chunks)
        raise
    image_id = next(
        (c["aux"]["ID"] for c in reversed(chunks) if isinstance(c.get("aux"), dict) and "ID" in c["aux"]), None
    )
    if not image_id:
        raise ImageError("docker build produced no image")
    return image_id


def tag_all(api, image_id: str, tags: tuple[str, ...]) -> None:
    for tag in tags:
        repository, _, name = tag.rpartition(":")
        api.tag(image_id, repository, name, force=True)


def built_for_tree(api, owner: str, repo: str, tree: str) -> dict | None:
    """The newest local image the factory built for `owner/repo` from exactly this git tree (its
    `totem.build.tree` label), as the Docker API lists it; None when there is none."""
    wanted = [f"{LABEL_PREFIX}owner={owner}", f"{LABEL_PREFIX}repo={repo}", f"{LABEL_PREFIX}tree={tree}"]
    try:
        images = api.images(filters={"label": wanted})
    except (APIError, DockerException, RequestException, Urllib3Error, OSError) as exc:
        raise ImageError(f"looking for the image of tree {tree} failed: {exc}") from None
    return max(images, key=lambda i: i.get("Created", 0), default=None)


def _stop_step_container(api, chunks: list[dict]) -> None:
    """The daemon does not stop a RUN step when the client goes away: remove its container."""
    for chunk in reversed(chunks):
        match = _RUNNING_IN.search(chunk.get("stream") or "")
        if match:
            try:
                api.remove_container(match.group(1), force=True)
            except (APIError, DockerException, RequestException, Urllib3Error, OSError):
                pass  # already gone
            return


def push(api, tag: str, auth: dict | None, timeout: float, say: Callable[[str], None]) -> str | None:
    """Push one tag; returns the manifest digest the registry reported."""
    repository, _, name = tag.rpartition(":")
    stream = api.push(repository, tag=name, auth_config=auth, stream=True, decode=True)
    chunks = _consume(stream, Deadline(timeout), f"docker push {tag}", say)
    return next((c["aux"].get("Digest") for c in reversed(chunks) if isinstance(c.get("aux"), dict)), None)
