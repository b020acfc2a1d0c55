"""Keep HAProxy in line with the wiring in etcd.

Watch events update a local copy of the keys. A change that only rewrites runtime state of
what is declared (a blue-green switch, endpoints within their slots, a new revision) is applied
at once through the incremental path (incremental.py); any other change waits for a short quiet
time (bursts are coalesced), then the wiring is parsed and planned: map and server-slot changes
go through the runtime API, anything new to declare through a checked, confirmed, hitless
reload. Once changes stop, a full re-plan confirms what the incremental path did. A failure
leaves the running proxy as it was, and is reported.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from totem.contracts import yoda
from totem.store import Event, Store, Watcher
from yoda_proxy import cache
from yoda_proxy.announce import Announcer
from yoda_proxy.certs import ensure_default
from yoda_proxy.grace import Grace, names
from yoda_proxy.haproxy import HAProxy, HAProxyError
from yoda_proxy.incremental import Patch, patch
from yoda_proxy.keytree import KeyTree
from yoda_proxy.model import Wiring
from yoda_proxy.parse import IGNORED, parse
from yoda_proxy.plan import Plan, backend_name, build, carry_over, fits, runtime_commands
from yoda_proxy.render import write_generation
from yoda_proxy.runtime import RuntimeAPI, RuntimeCommandError
from yoda_proxy.settings import ProxySettings
from yoda_proxy.slots import SlotTable
from yoda_proxy.status import Status

log = logging.getLogger("yoda_proxy.reconciler")
WATCH_EVERY = 0.1  # how often the loop checks that HAProxy runs (a dead worker takes its master along)
SUPERVISE_EVERY = 1.0  # announcements, etcd-back resync, wiring cache
RESTART_RETRY = 1.0  # a failed HAProxy start is retried this often
CONFIRM_AFTER = 1.0  # quiet seconds after an incremental apply before the full re-plan confirms it
CONFIRM_WITHIN = 10.0  # under a steady stream of changes, the full path takes one at the latest this late


class Reconciler:
    def __init__(self, store: Store, opts: ProxySettings, announcer: Announcer | None = None):
        self.store = store
        self.opts = opts
        self.work = opts.work_dir
        self.haproxy = HAProxy(opts.haproxy, self.work)
        self.runtime = RuntimeAPI(self.haproxy.stats_socket)
        self.announcer = announcer
        self.status = Status(opts.node)
        self.keys = KeyTree()
        self.changed: set[str] = set()  # entities touched since the last parse
        self.pending: set[str] = set()  # entities touched since the last apply (parse or incremental)
        self.pending_flat: set[str] = set()  # flat keys (revision, pages) touched since the last apply
        self.cache = self.work / "wiring.json"
        self._from_cache = self._full_parse = self._cache_dirty = False
        self._logged_errors: set[str] = set()
        self._logged_ignored: set[tuple[str, str]] = set()
        self.wiring: Wiring | None = None
        self.applied: Plan | None = None
        self.gen = 0
        self.gen_dir: Path | None = None
        self.default_cert = opts.default_cert or ensure_default(self.work / "default.pem")
        self.slots = SlotTable()
        self.grace = Grace(opts.endpoint_grace)
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._first_change = self._last_event = self._restart_at = 0.0
        self._in_step = False  # the last apply succeeded: `applied` is what `wiring` plans
        self._unconfirmed: tuple[float, float] | None = None  # (first, last) incremental apply since a full one
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="yoda-reconciler", daemon=True)
        self.watcher: Watcher | None = None

    # -- life cycle ----------------------------------------------------------------
    def start(self, ready_timeout: float = 5.0) -> Reconciler:
        self.work.mkdir(parents=True, exist_ok=True)
        adopted = self.haproxy.adopt()
        if not adopted:
            for old in self.work.glob("gen-*"):
                shutil.rmtree(old, ignore_errors=True)
        self.gen = max((int(p.name[4:]) for p in self.work.glob("gen-*") if p.name[4:].isdigit()), default=0)
        self.watcher = self.store.watch(self.opts.prefix, self._on_event, initial=True)
        self.status.etcd_connected = self.watcher.connected
        if self.watcher.wait_ready(ready_timeout):
            self.apply()
        elif adopted:
            log.warning("etcd not reachable: the running haproxy keeps its config until etcd answers")
        else:
            log.warning("etcd not reachable: starting from the last applied wiring in %s", self.cache)
            with self._lock:
                self.keys, self._from_cache = KeyTree.of(cache.load(self.cache)), True
            self.apply()
        self.status.ready = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self.watcher:
            self.watcher.stop()
        if self._thread.is_alive():
            self._thread.join(5)
        if self.announcer:
            self.announcer.stop()
        self._save_cache()
        self.haproxy.stop()

    # -- events --------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        key = yoda.relative(self.opts.prefix, event.key)
        if key is None or key.startswith(IGNORED):
            return
        with self._lock:
            if self._from_cache:  # etcd is back: its state replaces the cached one
                assert self.watcher is not None  # events come from it; _from_cache is set after start() has it
                self._replace_keys(self.watcher.snapshot)
            else:
                entity = self.keys.put(key, event.value or "") if event.type == "put" else self.keys.delete(key)
                if entity:
                    self.changed.add(entity)
                    self.pending.add(entity)
                else:
                    self.pending_flat.add(key)
            self._last_event = time.monotonic()
            if not self._changed.is_set():
                self._first_change = self._last_event
            self._changed.set()

    def _replace_keys(self, snapshot: dict[str, str]) -> None:
        """Start over from a full view of etcd (called with the lock held)."""
        relative = ((yoda.relative(self.opts.prefix, k), v) for k, v in snapshot.items())
        self.keys = KeyTree.of({k: v for k, v in relative if k is not None and not k.startswith(IGNORED)})
        self._from_cache, self._full_parse = False, True

    def _loop(self) -> None:
        supervised = time.monotonic()
        while not self._stopped.is_set():
            changed = self._changed.wait(WATCH_EVERY)
            self._restart_if_down()
            self._check_grace()
            if not changed:
                if self._unconfirmed and time.monotonic() - self._unconfirmed[1] >= CONFIRM_AFTER:
                    self.apply(confirm=True)
                if time.monotonic() - supervised >= SUPERVISE_EVERY:
                    supervised = time.monotonic()
                    self._supervise()
                continue
            self._changed.clear()
            overdue = self._unconfirmed and time.monotonic() - self._unconfirmed[0] >= CONFIRM_WITHIN
            if not overdue and self._apply_incremental():
                continue
            while not self._stopped.is_set():  # coalesce a burst: wait for a quiet moment
                now = time.monotonic()
                until = min(self._last_event + self.opts.debounce, self._first_change + self.opts.max_delay)
                if now >= until:
                    break
                self._stopped.wait(until - now)
            self._changed.clear()
            self.apply()

    def _supervise(self) -> None:
        if self.announcer:
            self.announcer.flush()
        if self._from_cache and self.watcher and self.watcher.connected.is_set():
            try:  # etcd is back but sent no event (nothing under the prefix)
                snapshot = dict(self.watcher.snapshot)
            except RuntimeError:  # changed while copying: events will do it
                snapshot = None
            if snapshot is not None:
                with self._lock:
                    self._replace_keys(snapshot)
                self.apply()
        self._save_cache()

    def _save_cache(self) -> None:
        if self._cache_dirty and not self._from_cache:
            with self._lock:
                keys = self.keys.items()
            cache.save(self.cache, keys)
            self._cache_dirty = False

    def _restart_if_down(self) -> None:
        """Start HAProxy again when it died: on 2.6 a killed worker takes its master along."""
        if self.haproxy.running() or self._stopped.is_set() or time.monotonic() < self._restart_at:
            return
        self._restart_at = time.monotonic() + RESTART_RETRY
        log.error("haproxy is not running (exit code %s); starting it again", self.haproxy.exit_code())
        self.status.haproxy_restarts += 1
        self.applied = None  # the maps and servers changed at runtime since the last render
        self.apply()

    def _check_grace(self) -> None:
        """Drop the endpoints in grace that HAProxy marks DOWN, or whose grace is over."""
        if not self.grace.held or self.applied is None:
            return
        servers = {}  # (backend, server) -> (upstream, node)
        for upstream, node in self.grace.held:
            backend = backend_name(upstream)
            servers[(backend, self.slots.server(backend, node))] = (upstream, node)
        try:
            up = self.runtime.servers_up({backend for backend, _ in servers})
        except (RuntimeCommandError, OSError) as exc:  # HAProxy restarting: ask on the next pass
            log.debug("cannot read server states: %s", exc)
            return
        down = [key for server, key in servers.items() if server not in up]
        if down:
            log.warning("gone from etcd and marked DOWN by HAProxy, dropped: %s", names(down))
            self.grace.drop(down)
        if down or self.grace.expired():
            self.apply()

    # -- apply ---------------------------------------------------------------------
    def _apply_incremental(self) -> bool:
        """Apply the pending change at once when incremental.py can (False: the full path must)."""
        started = time.monotonic()
        with self._lock:
            if not self._in_step or self._full_parse or self._from_cache:
                return False
            if self.wiring is None or self.applied is None or self.gen_dir is None:
                return False
            if not self.pending and not self.pending_flat:
                return True  # woken by an event the last apply already took along
            pending = (self.pending, self.pending_flat)
            change: Patch | None = patch(
                self.keys, self.wiring, self.applied, *pending, self.slots, self.grace, self.gen_dir
            )
            if change is None:
                return False
            self.pending, self.pending_flat = set(), set()
            self.wiring = change.wiring
        try:
            self._runtime(change.plan, change.commands)
        except (HAProxyError, RuntimeCommandError, OSError) as exc:
            self._failed(exc, started)
            return True
        self.applied = change.plan
        now = time.monotonic()
        self._unconfirmed = (self._unconfirmed[0] if self._unconfirmed else now, now)
        self._applied(change.wiring, started)
        return True

    def apply(self, confirm: bool = False) -> None:
        """Parse (only the entities that changed) and plan the whole wiring, and apply it. With
        `confirm`, after incremental applies: anything it still changes is reported."""
        started = time.monotonic()
        self._unconfirmed = None
        with self._lock:  # events wait while the (mostly incremental) parse runs
            changed, self.changed = (None if self._full_parse else self.changed), set()
            self.pending, self.pending_flat = set(), set()
            self._full_parse = False
            self.wiring = wiring = parse(self.keys, self.wiring, changed)
        plan, grown = build(self.grace.serve(wiring), self.slots)
        self.status.endpoints_in_grace, self.status.endpoints_held = len(self.grace.held), self.grace.total
        try:
            if self.applied is None or grown or not fits(self.applied, plan):
                if confirm:
                    log.warning("the full re-plan needs a reload the incremental path did not do")
                self._reload(plan)
                self.status.reloads += 1
            else:
                carry_over(self.applied, plan)
                assert self.gen_dir is not None
                commands = runtime_commands(self.applied, plan, self.gen_dir)
                if confirm and commands:
                    log.warning("the full re-plan changed what the incremental path applied: %s", commands[:5])
                self._runtime(plan, commands)
            self.applied = plan
        except (HAProxyError, RuntimeCommandError, OSError) as exc:
            self._failed(exc, started)
            return
        self._log_once(wiring)
        self._applied(wiring, started)

    def _failed(self, exc: Exception, started: float) -> None:
        self._in_step = False
        self.status.failed(f"apply failed, previous config kept: {exc}")
        self.status.last_apply_seconds = time.monotonic() - started
        log.error("apply failed, previous config kept: %s", exc)

    def _applied(self, wiring: Wiring, started: float) -> None:
        """HAProxy has it: report, and acknowledge the revision (after the change, never before)."""
        self._in_step = True
        self.status.applied(wiring, time.monotonic() - started)
        self._cache_dirty = True
        gc.freeze()  # the wiring is long-lived: keep the cyclic GC from rescanning it on every apply
        if self.announcer:  # bad entries are skipped, never a reason to hold back the acknowledgement
            self.announcer.acknowledge(wiring.revision, wiring.skipped())

    def _log_once(self, wiring: Wiring) -> None:
        """One warning per distinct error, and per ignored key and reason, while it lasts."""
        for error in sorted(set(wiring.errors) - self._logged_errors):
            log.warning("invalid wiring, skipped: %s", error)
        self._logged_errors = set(wiring.errors)
        ignored = set(wiring.ignored.items())
        for key, why in sorted(ignored - self._logged_ignored):
            log.warning("ignored key %s: %s", key, why)
        self._logged_ignored = ignored

    def _runtime(self, plan: Plan, commands: list[str]) -> None:
        if not commands:
            return
        try:
            self.runtime.run(commands)
            self.status.runtime_updates += 1
        except (RuntimeCommandError, OSError) as exc:
            log.warning("runtime update failed (%s); reloading instead", exc)
            self._reload(plan)
            self.status.reloads += 1

    def _reload(self, plan: Plan) -> None:
        self.gen += 1
        gen = self.work / f"gen-{self.gen}"
        shutil.rmtree(gen, ignore_errors=True)
        cfg = write_generation(plan, self.opts, self.work, gen, self.default_cert)
        ok, output = self.haproxy.check(cfg)
        if not ok:
            shutil.rmtree(gen, ignore_errors=True)
            raise HAProxyError("haproxy -c rejected the config: " + " | ".join(output.splitlines()[-5:]))
        previous = self.gen_dir
        self._point_config_at(cfg)
        self.runtime.close()  # its connection would talk to the old worker
        try:
            if self.haproxy.running():
                self.haproxy.reload()
            else:
                self.haproxy.start()
        except HAProxyError:
            if previous:
                self._point_config_at(previous / "haproxy.cfg")
            raise
        self.gen_dir = gen
        for old in self.work.glob("gen-*"):
            if old not in (gen, previous):
                shutil.rmtree(old, ignore_errors=True)

    def _point_config_at(self, cfg: Path) -> None:
        link = self.work / "haproxy.cfg.next"
        link.unlink(missing_ok=True)
        link.symlink_to(cfg)
        os.replace(link, self.work / "haproxy.cfg")
