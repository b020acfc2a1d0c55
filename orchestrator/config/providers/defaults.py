"""Built-in defaults, at the root level of the hierarchy."""

from __future__ import annotations

from orchestrator.config.providers.base import Location, Provider

DEFAULTS_YAML = """\
# Totem's built-in defaults: the root of every app's configuration.
enabled: true
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
        path: ""
        timeout: 10s
        attempts: 10
      stop:
        timeout: 30s
        check-retries: 10
  default:
    enabled: true
    url:
      value: "{{ deployer_url }}"
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


class DefaultProvider(Provider):
    name = "default"

    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        return DEFAULTS_YAML if not level and file_name == "totem.yml" else None
