"""An environment's key ring: Fernet data keys, newest (the primary) first, each sealed by the master
key (TOTEM_ENCRYPTION_KEY) in the deployer's store.

<prefix>/secrets/<env>/keys   {"keys": [{"id", "created", "sealed"}]}   (one document, updated atomically)

New values are encrypted with the primary, as `totem:<key id>:<Fernet token>` (the prefix tells a
ring's value from one encrypted with the master key directly, the format before rings, which still
decrypts); any key of the ring decrypts, the id only says which made it. Retiring a key makes the values
it encrypted undecryptable: rotate and re-encrypt them first. The ring is shared by every cluster of
the prefix, so one encrypted totem.yml value works on each cluster of its environment."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from deployer.errors import DeployerError
from deployer.records import now
from totem.store import Store

ENV_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
KEY_ID_PATTERN = r"^k[0-9a-f]{12}$"
RING_PREFIX = "totem:"
ENV_NAME = re.compile(ENV_PATTERN)


class KeyRingError(DeployerError, ValueError):
    """The ring cannot do what was asked (no master key, unknown or primary key); never names a value."""


class UnknownKey(KeyRingError):
    pass


class PrimaryKey(KeyRingError):
    pass


class UndecryptableValue(KeyRingError):
    pass


def wrap(key_id: str, token: str) -> str:
    return f"{RING_PREFIX}{key_id}:{token}"


def unwrap(value: str) -> tuple[str | None, str]:
    """(key id, Fernet token) of a ring's value; (None, value) of the master key's."""
    if not value.startswith(RING_PREFIX):
        return None, value
    key_id, _, token = value[len(RING_PREFIX) :].partition(":")
    return key_id, token


@dataclass(frozen=True)
class DataKey:
    id: str
    created: str
    key: bytes  # the Fernet key, unsealed (never stored or shown)

    def shown(self, primary: bool) -> dict:
        return {"id": self.id, "created": self.created, "primary": primary}


class KeyRing:
    def __init__(self, store: Store, prefix: str, env: str, master: str | None):
        if not ENV_NAME.fullmatch(env):
            raise KeyRingError(f"not an environment name: {env[:80]!r}")
        if not master:
            raise KeyRingError("TOTEM_ENCRYPTION_KEY is not set: the deployer has no master key")
        self.store = store
        self.env = env
        self.path = f"{prefix.rstrip('/')}/secrets/{env}/keys"
        self.master = Fernet(master.encode())

    # -- the stored ring ---------------------------------------------------------
    def _parse(self, raw: str | None) -> list[dict]:
        return json.loads(raw)["keys"] if raw else []

    def keys(self) -> list[DataKey]:
        """Newest first; the first is the primary."""
        try:
            return [
                DataKey(k["id"], k["created"], self.master.decrypt(k["sealed"].encode()))
                for k in self._parse(self.store.get(self.path))
            ]
        except InvalidToken:
            raise KeyRingError(f"the keys of {self.env} are not sealed by this TOTEM_ENCRYPTION_KEY") from None

    def listed(self) -> list[dict]:
        return [k.shown(i == 0) for i, k in enumerate(self.keys())]

    def _add(self, only_if_empty: bool) -> DataKey:
        fresh = DataKey("k" + secrets.token_hex(6), now(), Fernet.generate_key())
        sealed = {"id": fresh.id, "created": fresh.created, "sealed": self.master.encrypt(fresh.key).decode()}

        def change(raw: str | None) -> tuple[str | None, bool]:
            ring = self._parse(raw)
            if ring and only_if_empty:
                return None, False  # another request made the first key meanwhile
            return json.dumps({"keys": [sealed, *ring]}), True

        return fresh if self.store.update(self.path, change) else self.keys()[0]

    def primary(self) -> DataKey:
        """The primary key, the ring's first made when it has none."""
        found = self.keys()
        return found[0] if found else self._add(only_if_empty=True)

    def rotate(self) -> DataKey:
        """A new primary; older keys still decrypt until retired."""
        return self._add(only_if_empty=False)

    def retire(self, key_id: str) -> None:
        def change(raw: str | None) -> tuple[str | None, None]:
            ring = self._parse(raw)
            ids = [k["id"] for k in ring]
            if key_id not in ids:
                raise UnknownKey(f"{self.env} has no key {key_id[:40]!r}")
            if ids[0] == key_id:
                raise PrimaryKey(f"{key_id} is the primary key of {self.env}: rotate first")
            return json.dumps({"keys": [k for k in ring if k["id"] != key_id]}), None

        self.store.update(self.path, change)

    # -- values ------------------------------------------------------------------
    def _fernet(self, keys: list[DataKey]) -> MultiFernet:
        return MultiFernet([*(Fernet(k.key) for k in keys), self.master])

    def encrypt(self, plaintext: str) -> tuple[str, str]:
        """(value, key id) with the primary key."""
        key = self.primary()
        return wrap(key.id, Fernet(key.key).encrypt(plaintext.encode()).decode()), key.id

    def decrypt(self, value: str) -> str:
        try:
            return self._fernet(self.keys()).decrypt(unwrap(value)[1].encode()).decode()
        except (InvalidToken, ValueError, UnicodeDecodeError):
            raise UndecryptableValue(f"no key of {self.env} decrypts it") from None

    def reencrypt(self, values: list[str]) -> tuple[list[str], str]:
        """The same values encrypted with the primary key (never decrypted to the caller), and its id."""
        primary = self.primary()
        rest = [k for k in self.keys() if k.id != primary.id]
        fernet = self._fernet([primary, *rest])
        found = []
        for index, value in enumerate(values):
            try:
                found.append(wrap(primary.id, fernet.rotate(unwrap(value)[1].encode()).decode()))
            except (InvalidToken, ValueError):
                raise UndecryptableValue(f"values[{index}]: no key of {self.env} decrypts it") from None
        return found, primary.id


def ring_for(ctx, env: str | None) -> KeyRing:
    """The ring of `env` (default: the deployer's TOTEM_ENV) in this deployer's store."""
    return KeyRing(ctx.store, ctx.options.prefix, env or ctx.settings.env, ctx.options.encryption_key)
