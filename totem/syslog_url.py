"""Where an instance's log lines go: `tcp://HOST:PORT` (RFC 5424 over TCP, RFC 6587 octet
counting) or `tls://HOST:PORT` (the same inside TLS, RFC 5425). An empty text means no shipping.

The host is an IPv4 or IPv6 literal (`[::1]`) or a DNS name; nothing else may appear (no user,
path, query or fragment). The same text travels as a container label and is rendered into fleet
logger units, so it is checked strictly everywhere it enters.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from totem.errors import TotemError

SCHEMES = ("tcp", "tls")
# what JSON Schema checks before `parse` does (a quick, anchored shape; parse has the last word)
PATTERN = r"^((tcp|tls)://[A-Za-z0-9.:\[\]-]{1,255}:[0-9]{1,5})?$"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_URL = re.compile(
    r"^(?P<scheme>[a-z]+)://(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>[0-9]{1,5})$"
)


class SyslogUrlError(TotemError, ValueError):
    """Not a usable syslog destination."""


@dataclass(frozen=True)
class Destination:
    scheme: str  # tcp or tls
    host: str  # without brackets
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "tls"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse(url: str) -> Destination:
    """The destination `url` names; SyslogUrlError saying what is wrong otherwise."""
    match = _URL.fullmatch(url)  # fullmatch: a trailing line break is refused too
    if match is None:
        raise SyslogUrlError("must look like tcp://HOST:PORT or tls://HOST:PORT")
    if match["scheme"] not in SCHEMES:
        raise SyslogUrlError(f"scheme must be tcp or tls, not {match['scheme']}")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise SyslogUrlError("port must be 1-65535")
    if match["ip6"] is not None:
        try:
            host = str(ipaddress.IPv6Address(match["ip6"]))
        except ValueError:
            raise SyslogUrlError("the bracketed host must be an IPv6 address") from None
    else:
        host = match["host"]
        if not _NAME.fullmatch(host):
            raise SyslogUrlError("host must be an IP address or a DNS name")
    return Destination(match["scheme"], host, port)


def optional(url: str) -> Destination | None:
    """None for an empty (or blank) text: shipping is off."""
    return parse(url.strip()) if url.strip() else None


def setting(raw: str) -> str:
    """TOTEM_SYSLOG_URL's converter: the normalised URL, or "" (off)."""
    found = optional(raw)
    return "" if found is None else str(found)
