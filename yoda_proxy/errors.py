"""The root of yoda-proxy's exceptions."""

from __future__ import annotations

from totem.errors import TotemError


class ProxyError(TotemError):
    """The wiring or HAProxy refused something; the message says what."""
