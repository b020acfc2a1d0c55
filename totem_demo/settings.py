"""The demo's own addresses: its proxy and dashboard (the services' come from the shared settings).

Another demo run (the e2e tests, a benchmark) sets them to free ports, so it never touches the
user's demo serving on the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from totem.settings import EnvSettings, setting


@dataclass(frozen=True)
class DemoSettings(EnvSettings):
    proxy_http: str = setting("TOTEM_DEMO_PROXY_HTTP", "127.0.0.1:8080")
    proxy_https: str = setting("TOTEM_DEMO_PROXY_HTTPS", "127.0.0.1:8443")
    proxy_admin: str = setting("TOTEM_DEMO_PROXY_ADMIN", "127.0.0.1:8081")
    dashboard: str = setting("TOTEM_DEMO_DASHBOARD", "127.0.0.1:9500")
    discover_metrics: str = setting("TOTEM_DEMO_DISCOVER_METRICS", "127.0.0.1:9611")  # yoda-discover's /metrics

    def app_url(self, host: str) -> str:
        """The app's address as a browser reaches it: `host` (a .localhost name) on the proxy's port."""
        return f"http://{host}:{self.proxy_http.rsplit(':', 1)[1]}/"
