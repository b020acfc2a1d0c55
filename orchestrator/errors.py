"""The root of the orchestrator's exceptions."""

from __future__ import annotations

from totem.errors import TotemError


class OrchestratorError(TotemError):
    """A job cannot go on as asked (unusable config, unreachable provider, invalid request)."""
