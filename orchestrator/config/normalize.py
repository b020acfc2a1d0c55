"""What 2015 accepted and the deploy request spells differently, made uniform.

Before the schema check: `environment: {VAR: {}}` is the empty string (2015's normalize_config),
`url: null` or `''` is no url. After evaluation: deployment names are made DNS-safe (lowercase; runs of
characters outside [a-z0-9-] become `-`; `-` trimmed at both ends: `My_App` → `my-app`), an enabled
deployer without a url gets TOTEM_DEPLOYER_URL, and a disabled one's empty url is dropped.
"""

from __future__ import annotations

import copy
import re
from typing import Any


def dns_name(name: str) -> str:
    """`Shop_API.v2` → `shop-api-v2`; the name unchanged when nothing would be left (the schema says why)."""
    safe = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return safe or name


def _deployers(config: dict) -> list[dict]:
    deployers = config.get("deployers")
    return [d for d in deployers.values() if isinstance(d, dict)] if isinstance(deployers, dict) else []


def _names(config: dict) -> None:
    for deployer in _deployers(config):
        deployment = deployer.get("deployment")
        if isinstance(deployment, dict) and isinstance(deployment.get("name"), str):
            deployment["name"] = dns_name(deployment["name"])


def before(config: dict) -> dict:
    """The merged config (with `__defaults__` applied) ready for the schema check (a copy)."""
    config = copy.deepcopy(config)
    environment = config.get("environment")
    if isinstance(environment, dict):
        config["environment"] = {k: "" if v == {} else v for k, v in environment.items()}
    for deployer in _deployers(config):
        if deployer.get("url", "x") in (None, ""):  # written empty: no url of its own
            del deployer["url"]
    _names(config)  # plain names now, so the schema check sees what the deploy request will carry
    return config


def after(config: dict, deployer_url: str) -> dict:
    """The evaluated config (changed in place and returned)."""
    _names(config)
    for deployer in _deployers(config):
        url: Any = deployer.get("url")
        if deployer.get("enabled") is True and url is None:
            deployer["url"] = deployer_url
        elif deployer.get("enabled") is not True and url in (None, ""):
            deployer.pop("url", None)
    return config
