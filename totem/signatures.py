"""HMAC signatures in GitHub's `<algo>=<hex>` header form, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac

ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


def sign(secret: str | bytes, body: bytes, algorithm: str = "sha256") -> str:
    """The header value for `body`: e.g. `sha256=3f1c...`."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, body, ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}"


def verify(secret: str | bytes | None, body: bytes, header: str | None, allow_sha1: bool = False) -> bool:
    """True only for a well-formed header whose HMAC of `body` matches."""
    if not secret or not header or "=" not in header:
        return False
    algorithm, _, _ = header.partition("=")
    algorithm = algorithm.strip().lower()
    if algorithm not in ALGORITHMS or (algorithm == "sha1" and not allow_sha1):
        return False
    expected = sign(secret, body, algorithm)
    return hmac.compare_digest(expected.encode(), header.strip().encode())
