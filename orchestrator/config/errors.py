"""A config that cannot be used: the message names the first key path, `errors` lists them all."""

from __future__ import annotations

from orchestrator.errors import OrchestratorError


class ConfigError(OrchestratorError):
    def __init__(self, message: str, errors: list[dict] | None = None, stage: str = "load"):
        super().__init__(message)
        self.message = message
        self.errors = errors or [{"path": "", "message": message}]
        self.stage = stage  # load | schema | evaluate

    def as_dict(self) -> dict:
        return {"code": "invalid_config", "stage": self.stage, "message": self.message, "errors": self.errors}
