"""Encrypted environment values (`{"value": <Fernet token>, "encrypted": true}`), decrypted only
when an instance is created, registered with the log redactor, never stored or returned.

`decrypt_environment` decrypts what the master key (TOTEM_ENCRYPTION_KEY) encrypted directly and
keeps the values of an environment's key ring (`totem:<key id>:<token>`, deployer/secret_keys.py)
sealed: the scheduler opens them with the ring of the deployment's environment (`open_sealed`, by
deployer/secret_files.py), which it alone knows from the record. A malformed value fails at once."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from deployer.errors import DeployerError
from deployer.secret_keys import KeyRing, KeyRingError, unwrap
from totem.logs import register_secret

FERNET_VERSION = 0x80
FERNET_MIN_BYTES = 1 + 8 + 16 + 16 + 32  # version, time, IV, one AES block, HMAC


class SecretError(DeployerError, ValueError):
    """An encrypted value cannot be decrypted; the message names the variable, never the value."""


class Environment(dict[str, str]):
    """The decrypted environment; `encrypted`: the names that were encrypted (delivered as files),
    `sealed`: {name: token} still to open with the environment's key ring."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.encrypted: set[str] = set()
        self.sealed: dict[str, str] = {}


def is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and value.get("encrypted") is True


def encrypt(key: str, plaintext: str) -> str:
    """For operators and tests: a value encrypted with the master key itself."""
    return Fernet(key.encode()).encrypt(plaintext.encode()).decode()


def well_formed(token: str) -> bool:
    """A Fernet token's shape (version byte, length), whichever key made it."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return False
    return len(raw) >= FERNET_MIN_BYTES and raw[0] == FERNET_VERSION and (len(raw) - 57) % 16 == 0


def decrypt_environment(environment: dict[str, Any], key: str | None) -> Environment:
    result = Environment()
    fernet = Fernet(key.encode()) if key else None
    for name, value in environment.items():
        if not is_encrypted(value):
            result[name] = str(value).lower() if isinstance(value, bool) else str(value)
            continue
        if fernet is None:
            raise SecretError(f"environment {name} is encrypted but TOTEM_ENCRYPTION_KEY is not set")
        sealed = str(value["value"])
        result.encrypted.add(name)
        key_id, token = unwrap(sealed)
        if key_id is not None:
            if not well_formed(token):
                raise SecretError(f"environment {name}: not an encrypted value")
            result.sealed[name] = sealed  # a ring key's: opened by the scheduler
            continue
        try:
            plain = fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretError(f"environment {name}: cannot decrypt with TOTEM_ENCRYPTION_KEY") from None
        register_secret(plain)
        result[name] = plain
    return result


def open_sealed(environment: dict[str, str], ring: KeyRing | None) -> None:
    """Decrypt the values `environment` still holds sealed, in place, with `ring`."""
    sealed = getattr(environment, "sealed", {})
    for name in sorted(sealed):
        if ring is None:
            raise SecretError(f"environment {name}: cannot decrypt with TOTEM_ENCRYPTION_KEY")
        try:
            plain = ring.decrypt(sealed[name])
        except KeyRingError as exc:
            raise SecretError(f"environment {name}: {exc}") from None
        register_secret(plain)
        environment[name] = plain
        del sealed[name]


def masked(environment: dict[str, Any]) -> dict[str, Any]:
    """The environment as the API shows it: encrypted values hidden."""
    return {k: ({"value": "***", "encrypted": True} if is_encrypted(v) else v) for k, v in environment.items()}
