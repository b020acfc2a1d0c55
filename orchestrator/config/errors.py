"""A config that cannot be used: the message names the first key path, `errors` lists them all."""

from __future__ import annotations

from orchestrator.errors import OrchestratorError


class ConfigError(OrchestratorError):
    def __init__(self, message: str, errors: list[dict] | None = None, stage: str = "load"):
        super().__init__(message)
        self.message = message
        self.errors = errors or [{"path": "", "message": message}]
        self.stage = stage  # load | schema-raw | evaluate | schema

    def as_dict(self) -> dict:
        return {"code": "invalid_config", "stage": self.stage, "message": self.message, "errors": self.errors}


def key_path(parts: tuple | list) -> str:
    """("deployers", "east", "url") → "deployers.east.url"; the root is "(root)"."""
    return ".".join(str(p) for p in parts) or "(root)"


def raise_if_any(problems: list[dict], stage: str) -> None:
    """Raise one ConfigError for every {"path", "message"} found (in the order found)."""
    if problems:
        first = problems[0]
        raise ConfigError(f"{first['path']}: {first['message']}", problems, stage)
