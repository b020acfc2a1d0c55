"""Config providers: one adapter per source behind `Provider`, registered by name.

TOTEM_CONFIG_PROVIDERS orders them; at the same level an earlier provider wins.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.config.providers.base import Provider

Factory = Callable[[object], Provider]  # Runtime → Provider


def _etcd(rt) -> Provider:
    from orchestrator.config.providers.etcd import EtcdProvider

    return EtcdProvider(rt.store, rt.options.config_etcd_prefix)


def _s3(rt) -> Provider:
    from orchestrator.config.providers.s3 import S3Provider

    return S3Provider(rt.options.config_s3_bucket, rt.options.config_s3_prefix, rt.settings.aws_endpoint_url)


def _repo(rt) -> Provider:
    from orchestrator.config.providers.repo import RepoProvider

    return RepoProvider(rt.options.repo_config_url, rt.settings.git_url_template)


def _default(rt) -> Provider:
    from orchestrator.config.providers.defaults import DefaultProvider

    return DefaultProvider(rt.options.apps_enabled_by_default)


PROVIDERS: dict[str, Factory] = {"etcd": _etcd, "s3": _s3, "repo": _repo, "default": _default}


def build(rt, names: tuple[str, ...]) -> list[Provider]:
    unknown = [name for name in names if name not in PROVIDERS]
    if unknown:
        raise ValueError(f"unknown config provider(s) {unknown}; choose from {sorted(PROVIDERS)}")
    return [PROVIDERS[name](rt) for name in names]
