"""The environment every demo process runs with: the shared settings plus the demo's own."""

from __future__ import annotations

import os

from totem_demo.layout import DemoHome
from totem_stack.services import DEFAULT_AWS_ENDPOINT

# Values a local demo wants unless the user set them: short drains, readable logs.
DEMO_DEFAULTS = {
    "TOTEM_DEPLOYER_DRAIN": "3",
    "TOTEM_DEPLOYER_CHECK_INTERVAL": "0.5",
    "TOTEM_DEPLOYER_DISCOVER_TIMEOUT": "30",
    "TOTEM_LOG_FORMAT": "kv",
    "TOTEM_HOOK_BACKOFF": "0.5",
    "TOTEM_DEPLOY_BACKOFF": "0.5",
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Outgoing calls stay on this machine; a proxy setting would send them elsewhere.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def service_environment(home: DemoHome, secrets: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in PROXY_VARIABLES}
    for name, value in DEMO_DEFAULTS.items():
        env.setdefault(name, value)
    env.update(secrets)
    env["TOTEM_HOME"] = str(home.stack.root)
    env["TOTEM_GIT_URL_TEMPLATE"] = home.git_url_template
    env.setdefault("AWS_ENDPOINT_URL", DEFAULT_AWS_ENDPOINT)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,.localhost"
    return env
