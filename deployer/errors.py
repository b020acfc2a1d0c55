"""The root of the deployer's exceptions."""

from __future__ import annotations

from totem.errors import TotemError


class DeployerError(TotemError):
    """Something the deployer refuses or cannot do; the message says what."""
