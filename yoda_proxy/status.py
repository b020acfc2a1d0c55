"""What this proxy has applied, and what went wrong: for /status and /metrics."""

from __future__ import annotations

import threading
import time

from yoda_proxy.model import Wiring


class Status:
    def __init__(self, node: str):
        self.node = node
        self.applied_revision: str | None = None
        self.wanted_revision: str | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.wiring = Wiring()  # the last applied (never changed afterwards): read when asked, not per apply
        self.reloads = 0
        self.runtime_updates = 0
        self.haproxy_restarts = 0  # HAProxy found dead and started again
        self.apply_failures = 0
        self.endpoints_in_grace = 0  # gone from etcd, kept while HAProxy reports them UP
        self.endpoints_held = 0  # endpoints that entered grace since the start
        self.applies = 0
        self.last_apply_seconds = 0.0
        self.last_applied_at: float | None = None
        self.etcd_connected: threading.Event | None = None  # the watch's connected flag
        self.ready = False  # the first apply (or adoption) is done
        self._lock = threading.Lock()

    def applied(self, wiring: Wiring, seconds: float) -> None:
        with self._lock:
            self.applies += 1
            self.wanted_revision = self.applied_revision = wiring.revision  # bad entries skipped, not blocking
            self.wiring = wiring
            self.last_apply_seconds = seconds
            self.last_applied_at = time.time()
            if wiring.errors:
                self._error(
                    f"invalid wiring skipped: {wiring.errors[0]}"
                    + (f" (and {len(wiring.errors) - 1} more)" if len(wiring.errors) > 1 else "")
                )

    @property
    def wiring_errors(self) -> list[str]:
        return list(self.wiring.errors)

    @property
    def skipped(self) -> dict[str, str]:
        """Entity key -> why the applied revision left it out."""
        return self.wiring.skipped()

    @property
    def ignored(self) -> dict[str, str]:
        """Key -> why yoda-proxy does not read it (2015 keys)."""
        return dict(self.wiring.ignored)

    @property
    def counts(self) -> dict[str, int]:
        return self.wiring.counts()

    def failed(self, message: str) -> None:
        with self._lock:
            self.apply_failures += 1
            self._error(message)

    def _error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = time.time()

    def as_json(self) -> dict:
        """Counts and revisions; never secrets."""
        with self._lock:
            return {
                "node": self.node,
                "ready": self.ready,
                "applied_revision": self.applied_revision,
                "wanted_revision": self.wanted_revision,
                "in_sync": not self.wiring_errors,
                "last_error": self.last_error,
                "last_error_at": self.last_error_at,
                "wiring_errors": self.wiring_errors,
                "skipped": self.skipped,
                "ignored": self.ignored,
                "counts": self.counts,
                "reloads": self.reloads,
                "runtime_updates": self.runtime_updates,
                "haproxy_restarts": self.haproxy_restarts,
                "apply_failures": self.apply_failures,
                "endpoints_in_grace": self.endpoints_in_grace,
                "endpoints_held_total": self.endpoints_held,
                "applies": self.applies,
                "last_apply_seconds": self.last_apply_seconds,
                "last_applied_at": self.last_applied_at,
                "etcd_connected": bool(self.etcd_connected and self.etcd_connected.is_set()),
            }

    def prometheus(self) -> str:
        data = self.as_json()
        lines = [
            "# TYPE yoda_proxy_reloads_total counter",
            f"yoda_proxy_reloads_total {data['reloads']}",
            "# TYPE yoda_proxy_runtime_updates_total counter",
            f"yoda_proxy_runtime_updates_total {data['runtime_updates']}",
            "# TYPE yoda_proxy_haproxy_restarts_total counter",
            f"yoda_proxy_haproxy_restarts_total {data['haproxy_restarts']}",
            "# TYPE yoda_proxy_apply_failures_total counter",
            f"yoda_proxy_apply_failures_total {data['apply_failures']}",
            "# TYPE yoda_proxy_endpoints_in_grace gauge",
            f"yoda_proxy_endpoints_in_grace {data['endpoints_in_grace']}",
            "# TYPE yoda_proxy_endpoints_held_total counter",
            f"yoda_proxy_endpoints_held_total {data['endpoints_held_total']}",
            "# TYPE yoda_proxy_applies_total counter",
            f"yoda_proxy_applies_total {data['applies']}",
            "# TYPE yoda_proxy_last_apply_seconds gauge",
            f"yoda_proxy_last_apply_seconds {data['last_apply_seconds']:.6f}",
            "# TYPE yoda_proxy_wiring_errors gauge",
            f"yoda_proxy_wiring_errors {len(data['wiring_errors'])}",
            "# TYPE yoda_proxy_ignored_keys gauge",
            f"yoda_proxy_ignored_keys {len(data['ignored'])}",
            "# TYPE yoda_proxy_etcd_connected gauge",
            f"yoda_proxy_etcd_connected {int(data['etcd_connected'])}",
        ]
        lines.append("# TYPE yoda_proxy_wiring gauge")
        lines += [f'yoda_proxy_wiring{{kind="{k}"}} {v}' for k, v in sorted(data["counts"].items())]
        return "\n".join(lines) + "\n"
