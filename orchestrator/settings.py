"""Orchestrator settings beyond the shared ones (environment variables, documented in the README)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from totem.settings import SettingsError, env_float, env_int


@dataclass(frozen=True)
class OrchestratorSettings:
    redis_prefix: str = "totem:orchestrator"
    job_ttl: int = 2 * 24 * 3600  # jobs and their events expire after this many seconds
    freeze_ttl: int = 24 * 3600  # a deleted branch stays frozen this long
    travis_public_key: str | None = field(default=None, repr=False)  # PEM
    config_etcd_prefix: str = "/totem/config"
    config_s3_bucket: str = "totem-config"
    config_s3_prefix: str = "totem/config"
    repo_config_url: str | None = None  # e.g. file:///srv/configs/{owner}/{repo}/{commit}/totem.yml
    github_api_url: str = "https://api.github.com"
    github_token: str | None = field(default=None, repr=False)
    deploy_attempts: int = 6
    deploy_backoff: float = 1.0
    notify_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ=None) -> "OrchestratorSettings":
        env = os.environ if environ is None else environ
        return cls(
            redis_prefix=env.get("TOTEM_ORCHESTRATOR_PREFIX", cls.redis_prefix),
            job_ttl=env_int(env, "TOTEM_JOB_TTL", cls.job_ttl),
            freeze_ttl=env_int(env, "TOTEM_FREEZE_TTL", cls.freeze_ttl),
            travis_public_key=env.get("TOTEM_TRAVIS_PUBLIC_KEY") or None,
            config_etcd_prefix="/" + env.get("TOTEM_CONFIG_ETCD_PREFIX", cls.config_etcd_prefix).strip("/"),
            config_s3_bucket=env.get("TOTEM_CONFIG_S3_BUCKET", cls.config_s3_bucket),
            config_s3_prefix=env.get("TOTEM_CONFIG_S3_PREFIX", cls.config_s3_prefix).strip("/"),
            repo_config_url=env.get("TOTEM_REPO_CONFIG_URL") or None,
            github_api_url=env.get("TOTEM_GITHUB_API_URL", cls.github_api_url).rstrip("/"),
            github_token=env.get("TOTEM_GITHUB_TOKEN") or None,
            deploy_attempts=max(1, env_int(env, "TOTEM_DEPLOY_ATTEMPTS", cls.deploy_attempts)),
            deploy_backoff=env_float(env, "TOTEM_DEPLOY_BACKOFF", cls.deploy_backoff),
            notify_timeout=env_float(env, "TOTEM_NOTIFY_TIMEOUT", cls.notify_timeout),
        )

    def validate(self, provider_names: tuple[str, ...]) -> None:
        from orchestrator.config.providers import PROVIDERS

        unknown = [name for name in provider_names if name not in PROVIDERS]
        if unknown:
            raise SettingsError(f"TOTEM_CONFIG_PROVIDERS: unknown {', '.join(unknown)}; choose from {', '.join(PROVIDERS)}")
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
