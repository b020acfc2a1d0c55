"""The root of yoda-discover's exceptions."""

from __future__ import annotations

from totem.errors import TotemError


class DiscoverError(TotemError):
    """A container cannot be registered; the message says why."""
