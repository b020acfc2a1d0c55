"""totem.yml: providers, hierarchy and merge, sandboxed evaluation, JSON Schema validation."""

from orchestrator.config.errors import ConfigError
from orchestrator.config.loader import Location, load_config

__all__ = ["ConfigError", "Location", "load_config"]
