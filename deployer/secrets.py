"""Encrypted environment values (`{"value": <Fernet token>, "encrypted": true}`), decrypted only
when an instance is created, registered with the log redactor, never stored or returned."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from deployer.errors import DeployerError
from totem.logs import register_secret


class SecretError(DeployerError, ValueError):
    """An encrypted value cannot be decrypted; the message names the variable, never the value."""


def is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and value.get("encrypted") is True


def encrypt(key: str, plaintext: str) -> str:
    """For operators and tests: the value to put in totem.yml."""
    return Fernet(key.encode()).encrypt(plaintext.encode()).decode()


def decrypt_environment(environment: dict[str, Any], key: str | None) -> dict[str, str]:
    result: dict[str, str] = {}
    fernet = Fernet(key.encode()) if key else None
    for name, value in environment.items():
        if not is_encrypted(value):
            result[name] = str(value).lower() if isinstance(value, bool) else str(value)
            continue
        if fernet is None:
            raise SecretError(f"environment {name} is encrypted but TOTEM_ENCRYPTION_KEY is not set")
        try:
            plain = fernet.decrypt(str(value["value"]).encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretError(f"environment {name}: cannot decrypt with TOTEM_ENCRYPTION_KEY") from None
        register_secret(plain)
        result[name] = plain
    return result


def masked(environment: dict[str, Any]) -> dict[str, Any]:
    """The environment as the API shows it: encrypted values hidden."""
    return {k: ({"value": "***", "encrypted": True} if is_encrypted(v) else v) for k, v in environment.items()}
