"""The root of the image factory's exceptions."""

from __future__ import annotations

from totem.errors import TotemError


class ImageFactoryError(TotemError):
    """A build (or its report) could not be done; the message says which part and why."""
