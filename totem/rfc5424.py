"""RFC 5424 syslog messages, framed by octet counting (RFC 6587 §3.4.1) for TCP and TLS.

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="VALUE" ...] MSG

Header fields are printable US-ASCII without spaces (anything else becomes "_", an empty field
"-"), cut to the RFC's lengths; in a structured-data value `"`, `\\` and `]` are escaped with a
backslash (§6.3.3). The message is any octets: framing by length needs no escaping of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

FACILITY_DAEMON = 3
SEVERITY = {"stdout": 6, "stderr": 3}  # info, err: what Docker's own syslog driver uses
ENTERPRISE_ID = "totem@32473"  # 32473: the enterprise number RFC 5612 reserves for documentation
MAX_MESSAGE = 64 * 1024  # octets of one message; the collector accepts this much (rsyslog maxMessageSize)
_LIMITS = {"hostname": 255, "app": 48, "procid": 128, "msgid": 32}
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
_SD_NAME_BAD = re.compile(r'[^\x21-\x7e]|[= \]"]')


def header_field(value: str, limit: int) -> str:
    cleaned = _UNPRINTABLE.sub("_", value)[:limit]
    return cleaned or "-"


def sd_name(name: str) -> str:
    cleaned = _SD_NAME_BAD.sub("_", name)[:32]
    if not cleaned:
        raise ValueError("an SD-NAME cannot be empty")
    return cleaned


def sd_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(sd_id: str, params: Mapping[str, str]) -> str:
    """One SD-ELEMENT; empty values are left out (an absent label)."""
    pairs = "".join(f' {sd_name(k)}="{sd_value(v)}"' for k, v in params.items() if v)
    return f"[{sd_name(sd_id)}{pairs}]"


def timestamp(when: datetime) -> str:
    """RFC 3339 in UTC with microseconds, the finest TIME-SECFRAC allows."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message(
    text: bytes,
    *,
    stamp: str,
    hostname: str,
    app: str,
    sd: str = "-",
    severity: int = 6,
    facility: int = FACILITY_DAEMON,
    procid: str = "-",
    msgid: str = "-",
) -> bytes:
    """One message: the header (`stamp` from `timestamp`), the structured data `sd` (from
    `structured_data`) and `text` (its trailing line break dropped), at most MAX_MESSAGE octets."""
    head = " ".join(
        (
            f"<{facility * 8 + severity}>1",
            stamp,
            header_field(hostname, _LIMITS["hostname"]),
            header_field(app, _LIMITS["app"]),
            header_field(procid, _LIMITS["procid"]),
            header_field(msgid, _LIMITS["msgid"]),
            sd,
        )
    ).encode()
    body = text.rstrip(b"\r\n")
    whole = head + b" " + body if body else head
    return whole[:MAX_MESSAGE]


def frame(msg: bytes) -> bytes:
    """Octet-counting framing: `MSG-LEN SP SYSLOG-MSG`."""
    return str(len(msg)).encode() + b" " + msg
