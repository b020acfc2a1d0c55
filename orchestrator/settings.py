"""Orchestrator settings beyond the shared ones (environment variables, documented in the README)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from totem.settings import EnvSettings, SettingsError, key_prefix, setting


def boolean_word(raw: str) -> bool | None:
    """A 2015 boolean word (true/yes/y/1/on, false/no/n/0/off/none); blank: the default."""
    from orchestrator.config.convert import boolean

    if not raw.strip():
        return None
    try:
        return boolean(raw)
    except ValueError:
        raise ValueError("must be true/yes/y/1/on or false/no/n/0/off/none") from None


@dataclass(frozen=True)
class OrchestratorSettings(EnvSettings):
    redis_prefix: str = setting("TOTEM_ORCHESTRATOR_PREFIX", "totem:orchestrator")
    job_ttl: int = setting("TOTEM_JOB_TTL", 2 * 24 * 3600)  # jobs and their events expire after this many seconds
    freeze_ttl: int = setting("TOTEM_FREEZE_TTL", 24 * 3600)  # a deleted branch stays frozen this long
    travis_public_key: str | None = setting("TOTEM_TRAVIS_PUBLIC_KEY", None, secret=True)  # PEM
    config_etcd_prefix: str = setting("TOTEM_CONFIG_ETCD_PREFIX", "/totem/config", parse=key_prefix)
    config_s3_bucket: str = setting("TOTEM_CONFIG_S3_BUCKET", "totem-config")
    config_s3_prefix: str = setting("TOTEM_CONFIG_S3_PREFIX", "totem/config", parse=lambda raw: raw.strip("/"))
    # e.g. file:///srv/configs/{owner}/{repo}/{commit}/totem.yml
    repo_config_url: str | None = setting("TOTEM_REPO_CONFIG_URL", None)
    deploy_attempts: int = setting("TOTEM_DEPLOY_ATTEMPTS", 30, floor=1)  # ~2 min: outlasts a deployer restart
    deploy_backoff: float = setting("TOTEM_DEPLOY_BACKOFF", 1.0)
    # a SCHEDULED job still without its builder hook after `hook_grace` s asks the image factory; one
    # still missing a required hook after `hook_deadline` s fails; checked every `hook_check_interval` s
    hook_grace: float = setting("TOTEM_HOOK_GRACE", 60.0, minimum=0)
    hook_deadline: float = setting("TOTEM_HOOK_DEADLINE", 1800.0, minimum=0)
    hook_check_interval: float = setting("TOTEM_HOOK_CHECK_INTERVAL", 30.0, minimum=0.1)
    # jobs awaiting approval past their deadline are failed (approval_expired) every this many s
    approval_check_interval: float = setting("TOTEM_APPROVAL_CHECK_INTERVAL", 15.0, minimum=0.1)
    notify_timeout: float = setting("TOTEM_NOTIFY_TIMEOUT", 10.0)
    # an app whose configuration sets no `enabled` deploys (the built-in defaults' `enabled`)
    apps_enabled_by_default: bool = setting("TOTEM_APPS_ENABLED_BY_DEFAULT", True, parse=boolean_word)

    def validate(self, provider_names: tuple[str, ...]) -> None:
        """Refuse unknown config providers and a Travis key that is not PEM (at process entry points)."""
        from orchestrator.config.providers import PROVIDERS

        unknown = [name for name in provider_names if name not in PROVIDERS]
        if unknown:
            raise SettingsError(
                f"TOTEM_CONFIG_PROVIDERS: unknown {', '.join(unknown)}; choose from {', '.join(PROVIDERS)}"
            )
        if self.travis_public_key:
            from cryptography.hazmat.primitives import serialization

            try:
                serialization.load_pem_public_key(self.travis_public_key.encode())
            except ValueError:
                raise SettingsError("TOTEM_TRAVIS_PUBLIC_KEY is not a PEM public key") from None


def options_or_exit(provider_names: tuple[str, ...]) -> OrchestratorSettings:
    """Orchestrator settings for a process entry point: one line and exit 2 when unusable."""
    try:
        options = OrchestratorSettings.from_env()
        options.validate(provider_names)
        return options
    except SettingsError as exc:
        print(f"orchestrator: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
