"""Host ports for instances: unique per Docker host, reserved in etcd, free on loopback hosts."""

from __future__ import annotations

import hashlib
import random
import socket

from totem.store import Store


def _free_locally(address: str, port: int) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((address, port))
        return True
    except OSError:
        return False


class Ports:
    def __init__(self, store: Store, root: str, low: int, high: int):
        self.store, self.root, self.low, self.high = store, root, low, high

    def _key(self, host: str, port: int) -> str:
        return f"{self.root}ports/{hashlib.sha256(host.encode()).hexdigest()[:16]}/{port}"

    def reserve(self, host: str, address: str, owner: str, attempts: int = 200) -> int:
        local = address.startswith("127.")
        for _ in range(attempts):
            port = random.randint(self.low, self.high)
            if local and not _free_locally(address, port):
                continue
            if self.store.create(self._key(host, port), owner):
                return port
        raise RuntimeError(f"no free port in {self.low}-{self.high} on {host}")

    def holder(self, host: str, port: int) -> str | None:
        """The instance `port` is reserved for on `host`, if any."""
        return self.store.get(self._key(host, port))

    def release(self, host: str, port: int, owner: str) -> None:
        self.store.delete(self._key(host, port), prev_value=owner)
