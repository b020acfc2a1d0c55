"""Prometheus for the stack and the tests: its config, and the targets files that keep it scraping
every yoda-proxy announced in etcd (`<YODA_BASE>/proxy-nodes/<node>/info`) and every Totem process
registered there (`<TOTEM_SERVICES_PREFIX>/<service>/<instance>`, totem/contracts/services.py).

`python -m totem_stack.prometheus TARGETS_FILE [SERVICES_FILE]` is the stack's `prometheus_targets`
service: it watches the proxy nodes (and the registrations) and rewrites TARGETS_FILE (and
SERVICES_FILE; Prometheus `file_sd` JSON) when they change, and at least every HEARTBEAT_S seconds
touches them, so a fresh file means the writer is alive (a clean stop dates it back).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from totem.contracts import services, yoda
from totem.store import Store, StoreError
from totem.waiting import Deadline

log = logging.getLogger("totem_stack.prometheus")
# Canary steps are judged every second: a scrape per second gives a rate over a few seconds.
INTERVAL = "1s"
RETENTION = "1d"
JOB = "yoda-proxy"
SERVICES_JOB = "totem"  # every Totem process's /metrics (docs/metrics.md)
SERVICES_INTERVAL = "5s"
HEARTBEAT_S = 5.0
STALE_S = 15.0  # a targets file older than this: its writer is not running
_WILDCARDS = {"", "0.0.0.0", "::"}


def render_config(
    targets_file: Path | None = None, targets: Sequence[str] = (), services_file: Path | None = None
) -> str:
    """prometheus.yml: one job scraping yoda-proxies' admin /metrics every second, found in
    `targets_file` (file_sd, kept by the writer) and/or given as `host:port` `targets`; with a
    `services_file` (file_sd of the registrations), a second job `totem` scraping every Totem process."""
    job: dict = {"job_name": JOB, "metrics_path": "/metrics", "scrape_interval": INTERVAL, "scrape_timeout": INTERVAL}
    if targets_file is not None:
        job["file_sd_configs"] = [{"files": [str(targets_file)], "refresh_interval": "5s"}]
    if targets:
        job["static_configs"] = [{"targets": list(targets)}]
    jobs = [job]
    if services_file is not None:
        jobs.append(
            {
                "job_name": SERVICES_JOB,
                "metrics_path": "/metrics",
                "scrape_interval": SERVICES_INTERVAL,
                "scrape_timeout": SERVICES_INTERVAL,
                "file_sd_configs": [{"files": [str(services_file)], "refresh_interval": "5s"}],
            }
        )
    config = {
        "global": {"scrape_interval": INTERVAL, "scrape_timeout": INTERVAL, "evaluation_interval": INTERVAL},
        "scrape_configs": jobs,
    }
    return yaml.safe_dump(config, sort_keys=False)


def argv(config: Path, data: Path, listen: str, retention: str = RETENTION) -> tuple[str, ...]:
    """A Prometheus on `listen` (host:port) with its TSDB in `data`, keeping `retention` of samples."""
    return (
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--storage.tsdb.retention.time={retention}",
        f"--web.listen-address={listen}",
    )


# -- the targets writer ----------------------------------------------------------------------------
def scrape_target(info: dict) -> str | None:
    """`host:port` of a proxy's admin endpoint from its announced info; None without an admin port.
    `admin_address` is announced when the admin listens elsewhere than `address`."""
    port = info.get("admin")
    host = str(info.get("admin_address") or info.get("address") or "")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        return None
    host = "127.0.0.1" if host in _WILDCARDS else host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def target_groups(keys: dict[str, str], base: str) -> list[dict]:
    """file_sd groups, one per proxy node (label `node`), from the keys under proxy-nodes/."""
    groups = []
    for key, value in sorted(keys.items()):
        parsed = yoda.parse_proxy_node_key(base, key)
        if not parsed or parsed[1] != yoda.INFO:
            continue
        try:
            info = json.loads(value)
        except ValueError:
            continue
        target = scrape_target(info) if isinstance(info, dict) else None
        if target:
            groups.append({"targets": [target], "labels": {"node": parsed[0]}})
    return groups


def service_groups(keys: dict[str, str], prefix: str) -> list[dict]:
    """file_sd groups, one per registered process (labels `service`, `instance_id`), from the keys
    under the services prefix."""
    groups = []
    for key, value in sorted(keys.items()):
        parsed = services.parse_service_key(prefix, key)
        registration = services.parse_registration(value) if parsed else None
        if parsed is None or registration is None:
            continue
        host, sep, port = str(registration["metrics"]).rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            continue
        host = "127.0.0.1" if host.strip("[]") in _WILDCARDS else host
        groups.append({"targets": [f"{host}:{port}"], "labels": {"service": parsed[0], "instance_id": parsed[1]}})
    return groups


def write_targets(path: Path, groups: list[dict]) -> bool:
    """Replace the file when `groups` differ from it (True), else only touch it."""
    text = json.dumps(groups, indent=1, sort_keys=True) + "\n"
    try:
        if path.read_text() == text:
            os.utime(path)  # a chmod event to Prometheus: not re-read
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(text)
    partial.replace(path)  # atomic: Prometheus never reads half a file
    return True


def targets_fresh(path: Path) -> bool:
    """The writer's health: it touched the targets file lately."""
    try:
        return time.time() - path.stat().st_mtime < STALE_S
    except OSError:
        return False


Feed = tuple[str, Callable[[dict[str, str]], list[dict]], Path]  # (etcd prefix, keys → groups, file)


def keep_targets(
    store: Store,
    base: str,
    path: Path,
    stop: threading.Event,
    heartbeat: float = HEARTBEAT_S,
    services_prefix: str | None = None,
    services_path: Path | None = None,
) -> None:
    """Keep `path` in step with the proxy nodes under `base` (and `services_path` with the
    registrations under `services_prefix`) until `stop` is set."""
    feeds: list[Feed] = [(yoda.proxy_nodes_prefix(base), lambda keys: target_groups(keys, base), path)]
    if services_prefix is not None and services_path is not None:
        start = services.services_prefix(services_prefix)
        feeds.append((start, lambda keys: service_groups(keys, services_prefix), services_path))
    keep_files(store, feeds, stop, heartbeat)


def keep_files(store: Store, feeds: Sequence[Feed], stop: threading.Event, heartbeat: float = HEARTBEAT_S) -> None:
    """Keep each feed's file in step with the keys under its prefix until `stop` is set. While etcd
    is away the last known targets stay (Prometheus keeps scraping them)."""
    changed = threading.Event()
    watchers = [store.watch(prefix, lambda _event: changed.set()) for prefix, _, _ in feeds]
    try:
        while not stop.is_set():
            changed.clear()
            for prefix, to_groups, path in feeds:
                try:
                    groups = to_groups(store.list(prefix))
                except StoreError as exc:
                    log.warning("cannot read %s (%s); keeping the last targets", prefix, exc)
                    groups = None
                if groups is not None and write_targets(path, groups):
                    log.info("scrape targets: %s", ", ".join(g["targets"][0] for g in groups) or "none")
                elif groups is None and path.exists():
                    os.utime(path)
            beat = Deadline(heartbeat)
            while not (changed.wait(min(0.2, beat.remaining())) or stop.is_set() or beat.expired):
                pass  # woken by a change, a stop, or the heartbeat
    finally:
        for watcher in watchers:
            watcher.stop()
        for _, _, path in feeds:
            if path.exists():
                os.utime(path, (0, 0))  # stale at once: `status` shows the writer down, targets stay


def main(args: list[str]) -> int:
    from totem import logs
    from totem.settings import MetricsSettings, SettingsError, load_or_exit
    from totem.store import connect

    if len(args) not in (1, 2):
        print("usage: python -m totem_stack.prometheus TARGETS_FILE [SERVICES_FILE]", file=sys.stderr)
        return 2
    settings = load_or_exit("prometheus-targets")
    try:
        prefix = MetricsSettings.from_env().services_prefix
    except SettingsError as exc:
        print(f"prometheus-targets: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.bootstrap("prometheus-targets", settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    services_path = Path(args[1]) if len(args) == 2 else None
    store = connect(settings.etcd_url)
    keep_targets(store, settings.yoda_base, Path(args[0]), stop, HEARTBEAT_S, prefix, services_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
