"""Maintenance and pausing of an app's traffic at the proxies: `hosts/<host>/maintenance` (a 503
maintenance page with Retry-After) and `hosts/<host>/pause` (requests held, not refused, up to a
longest hold) on every host of the app's live deployment, applied by the proxies without a reload.

These are host-level switches: on a host shared with another app, they cover that app's routes too.
They sit beside the app's locations and aliases, which `wiring.apply` owns, so a redeploy keeps them;
they go with the host's last route (`wiring._drop_unrouted_settings`). A call returns once every
live proxy has applied it; when one does not in time, the keys stay written (they are the state),
and `NotApplied` says which proxies lag.
"""

from __future__ import annotations

from deployer import wiring
from deployer.errors import DeployerError
from deployer.gating import GateFailed
from deployer.records import Record
from totem.contracts import yoda as layout

DEFAULT_RETRY_AFTER = 30
DEFAULT_PAUSE = 30.0


class TrafficError(DeployerError):
    """The app's traffic cannot be switched; the message says why."""


class UnknownApp(TrafficError):
    """No deployment of this app was ever recorded."""


class NoLiveVersion(TrafficError):
    """No live version, or a live version that routes no host: nothing to switch."""


class NotApplied(TrafficError):
    """Written to etcd, not acknowledged by every live proxy in time: the lagging ones apply it
    when they catch up. `state` is what etcd holds now."""

    def __init__(self, message: str, revision: str, state: dict):
        super().__init__(message)
        self.revision, self.state = revision, state


def live_record(ctx, app: str) -> Record:
    if not ctx.records.for_app(app):
        raise UnknownApp(f"no app named {app!r}")
    record = ctx.records.get(ctx.records.live(app) or "")
    if record is None:
        raise NoLiveVersion(f"{app} has no live version")
    if not record["spec"]["wiring"]:
        raise NoLiveVersion(f"{app}'s live version {record['id']} routes no host")
    return record


def hosts_of(record: Record) -> list[str]:
    return sorted(record["spec"]["wiring"])


def set_maintenance(ctx, app: str, on: bool, retry_after: int = DEFAULT_RETRY_AFTER) -> dict:
    """Serve (or stop serving) the maintenance page on the app's hosts."""
    if on and not 1 <= retry_after <= layout.MAX_RETRY_AFTER:
        raise ValueError(f"retry-after must be from 1 to {layout.MAX_RETRY_AFTER} seconds")
    hosts = hosts_of(live_record(ctx, app))
    result = _switch(ctx, app, hosts, layout.MAINTENANCE, str(retry_after) if on else None)
    return {**result, "maintenance": {"retry-after": retry_after} if on else None}


def set_paused(ctx, app: str, on: bool, max_seconds: float = DEFAULT_PAUSE) -> dict:
    """Hold the app's new requests at the proxies (up to `max_seconds` each), or let them go."""
    held = round(float(max_seconds), 3)
    if on and not 0 < held <= layout.MAX_PAUSE:
        raise ValueError(f"max must be above 0 and at most {layout.MAX_PAUSE} seconds")
    hosts = hosts_of(live_record(ctx, app))
    result = _switch(ctx, app, hosts, layout.PAUSE, _seconds_text(held) if on else None)
    return {**result, "paused": {"max": _number(held)} if on else None}


def state(ctx, app: str) -> dict:
    """{"maintenance": {"retry-after": n} | None, "paused": {"max": seconds} | None} of the app's live
    hosts (the first host that has one, in name order; both None without a live version)."""
    record = ctx.records.get(ctx.records.live(app) or "")
    return _state(ctx, hosts_of(record) if record else [])


def _state(ctx, hosts: list[str]) -> dict:
    found: dict[str, str] = {}
    for host in hosts:
        for field in layout.HOST_FLAGS:
            value = ctx.store.get(layout.host_setting_key(ctx.yoda, host, field))
            if value is not None:
                found.setdefault(field, value)
    maintenance, pause = _positive(found.get(layout.MAINTENANCE)), _positive(found.get(layout.PAUSE))
    return {
        "maintenance": {"retry-after": _number(maintenance)} if maintenance else None,
        "paused": {"max": _number(pause)} if pause else None,
    }


def _switch(ctx, app: str, hosts: list[str], field: str, value: str | None) -> dict:
    """Write (or remove) `field` on every host, bump the revision and wait for every live proxy."""
    keys = [layout.host_setting_key(ctx.yoda, host, field) for host in hosts]
    for key in keys:
        if value is None:
            ctx.store.delete(key)
        elif ctx.store.get(key) != value:
            ctx.store.put(key, value)
    revision = wiring.bump_revision(ctx.store, ctx.yoda, f"{app}-{field}")
    try:
        proxies = wiring.wait_applied(ctx.store, ctx.yoda, revision, ctx.options.ack_timeout, lambda: None)
        skipped = wiring.skipped(ctx.store, ctx.yoda, keys)
        if skipped:
            raise GateFailed(f"proxies applied wiring revision {revision} but skipped {'; '.join(skipped[:5])}")
    except GateFailed as exc:
        now = _state(ctx, hosts)
        raise NotApplied(f"{exc}; etcd holds {field} {'on' if value else 'off'} for {app}", revision, now) from None
    return {"app": app, "hosts": hosts, "revision": revision, "proxies": proxies}


def _seconds_text(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _positive(value: str | None) -> float | None:
    """The number a switch holds; None when absent or unreadable (the proxies skip such a value too)."""
    try:
        number = float(value) if value is not None else 0.0
    except ValueError:
        return None
    return number if number > 0 else None


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value
