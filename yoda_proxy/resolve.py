"""Endpoint host names (`localhost:8090`, `db.internal:5432`) to one IP address.

HAProxy's runtime API (`set server … addr`) only takes addresses, so names are resolved here,
when the upstream is parsed, and the answer is cached: an upstream re-parsed on every apply (one
with an error) does not ask DNS every time. The first IPv4 answer wins, as HAProxy's own
config-time resolution did in 2015; an IPv6-only name gets its first IPv6 address.
"""

from __future__ import annotations

import socket
import threading
import time

KEEP = 30.0  # seconds an answer is reused
KEEP_FAILED = 5.0  # seconds a failed lookup is remembered (a name that does not resolve yet)
_cache: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


def lookup(host: str) -> str | None:
    """The address of `host`, or None when it does not resolve."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(host)
    if hit and hit[0] > now:
        return hit[1]
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        answers = []
    ordered = sorted(answers, key=lambda a: a[0] != socket.AF_INET)
    ip = str(ordered[0][4][0]) if ordered else None
    with _lock:
        if len(_cache) > 10000:  # names come from etcd: never let the cache grow without bound
            _cache.clear()
        _cache[host] = (now + (KEEP if ip else KEEP_FAILED), ip)
    return ip
