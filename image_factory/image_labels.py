"""Every build label set in one commit of the built image (the build API's `labels` add one step per
label — a container created and committed each — and they never come from the cache)."""

from __future__ import annotations

from docker.errors import APIError, DockerException
from requests.exceptions import RequestException
from urllib3.exceptions import HTTPError as Urllib3Error

from image_factory.errors import ImageFactoryError


class LabelError(ImageFactoryError, RuntimeError):
    """The labels could not be set on the built image."""


def commit(api, image_id: str, labels: dict[str, str]) -> str | None:
    """A new image: `image_id` with `labels` added to its config, and nothing else changed (its
    command, entrypoint, environment, ports, user, directory and health check are passed back as
    they were). None for an image with neither command nor entrypoint: a container made from it
    would need one, and the commit would keep it."""
    try:
        config = dict(api.inspect_image(image_id)["Config"] or {})
        if not config.get("Cmd") and not config.get("Entrypoint"):
            return None
        config["Labels"] = {**(config.get("Labels") or {}), **labels}
        # created, never started: a container is what the engine commits an image from
        container = api.create_container(image_id, host_config=api.create_host_config(network_mode="none"))
        try:
            return api.commit(container["Id"], conf=config)["Id"]
        finally:
            api.remove_container(container["Id"], force=True)
    except (APIError, DockerException, RequestException, Urllib3Error, OSError) as exc:
        raise LabelError(f"labelling the image failed: {exc}") from None
