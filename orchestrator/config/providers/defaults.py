"""Built-in defaults, at the root level of the hierarchy."""

from __future__ import annotations

from orchestrator.config.providers.base import Location, Provider

DEFAULTS_YAML = """\
# Totem's built-in defaults: the root of every app's configuration.
enabled: true  # TOTEM_APPS_ENABLED_BY_DEFAULT
hooks:
  builder:
    image-factory:
      enabled: true
  ci: {}
  scm: {}
deployers:
  __defaults__:
    enabled: false
    proxy: {}
    templates:
      app:
        args: {}
    deployment:
      name:
        value: "{{ owner | lower | replace_regex('[^a-z0-9]+', '-') }}-{{ repo | lower | replace_regex('[^a-z0-9]+', '-') }}-{{ ref | lower | replace_regex('[^a-z0-9]+', '-') }}"
      version:
        value: "{{ commit[:12] if commit else 'latest' }}"
      mode: blue-green
      nodes: 1
      check:
        min-nodes: 1
        port: null
        path: /
        timeout: 10s
        attempts: 10
      stop:
        timeout: 30s
        check-retries: 10
  default:  # dropped when another level names a deployer (orchestrator/config/merge.py)
    enabled: true  # its url: TOTEM_DEPLOYER_URL (orchestrator/config/normalize.py)
notifications:
  github:
    enabled: false
    level: success
  slack:
    enabled: false
    level: failed
  webhook:
    enabled: false
    level: success
environment: {}
security:
  profile: default
schedule: null
variables: {}
"""


def defaults_yaml(enabled_by_default: bool = True) -> str:
    """The built-in totem.yml; `enabled_by_default` (TOTEM_APPS_ENABLED_BY_DEFAULT) is the app's
    `enabled` when no level sets it."""
    if enabled_by_default:
        return DEFAULTS_YAML
    return DEFAULTS_YAML.replace("\nenabled: true ", "\nenabled: false ", 1)


class DefaultProvider(Provider):
    name = "default"
    builtin = True

    def __init__(self, enabled_by_default: bool = True):
        self.text = defaults_yaml(enabled_by_default)

    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        return self.text if not level and file_name == "totem.yml" else None
