"""A prefix watch that never silently stops.

It keeps a local copy of the prefix. After a connection loss or a compaction it
re-reads the prefix and delivers the difference as events, so a consumer sees
every change even if it happened while etcd was away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from totem.store.errors import Compacted, StoreError
from totem.waiting import pause

if TYPE_CHECKING:
    from totem.store.base import Event, Store

log = logging.getLogger("totem.store.watch")


class Watcher:
    def __init__(
        self,
        store: Store,
        prefix: str,
        callback: Callable[[Event], None],
        initial: bool = False,
        max_backoff: float = 5.0,
    ):
        self.store = store
        self.prefix = prefix
        self.callback = callback
        self.initial = initial
        self.max_backoff = max_backoff
        self.snapshot: dict[str, str] = {}
        self.revision = 0
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.last_error: str | None = None
        self.resyncs = 0
        self._stoppers: list[Callable[[], None]] = []
        self._thread = threading.Thread(target=self._run, name=f"watch {prefix}", daemon=True)

    # -- life cycle ------------------------------------------------------------
    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self.stopped.set()
        for stopper in list(self._stoppers):
            try:
                stopper()
            except Exception:  # closing a dead connection may fail; it is closed either way
                pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def on_stop(self, stopper: Callable[[], None]) -> Callable[[], None]:
        """Adapters register how to interrupt a blocking read; returns an unregister."""
        self._stoppers.append(stopper)
        return lambda: self._stoppers.remove(stopper) if stopper in self._stoppers else None

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout)

    # -- loop --------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.1
        must_resync = True
        first = True
        while not self.stopped.is_set():
            try:
                if must_resync:
                    self._resync(emit=self.initial or not first)
                    first = False
                    must_resync = False
                self.connected.set()
                for revision, events in self.store.stream(self.prefix, self.revision + 1, self):
                    for event in events:
                        self._apply(event)
                    self.revision = max(self.revision, revision)
                    backoff = 0.1
            except Compacted:
                log.info("watch %s: history compacted at %s, resyncing", self.prefix, self.revision)
                must_resync = True
            except StoreError as exc:
                self._lost(str(exc))
                must_resync = True
                pause(backoff, self.stopped)
                backoff = min(backoff * 2, self.max_backoff)
            except Exception as exc:  # a bug must not end the watch: log, back off, resync
                log.exception("watch %s: unexpected error", self.prefix)
                self._lost(repr(exc))
                must_resync = True
                pause(backoff, self.stopped)
                backoff = min(backoff * 2, self.max_backoff)

    def _lost(self, error: str) -> None:
        if self.connected.is_set() or self.last_error != error:
            log.warning("watch %s: connection lost (%s), will resync", self.prefix, error)
        self.connected.clear()
        self.last_error = error

    def _resync(self, emit: bool) -> None:
        from totem.store.base import Event

        fresh, revision = self.store.snapshot(self.prefix)
        old, self.snapshot = self.snapshot, dict(fresh)
        self.revision = revision
        self.resyncs += 1
        if not emit:
            return
        for key in sorted(old.keys() - fresh.keys()):
            self._deliver(Event("delete", key, None, revision))
        for key in sorted(fresh):
            if old.get(key) != fresh[key]:
                self._deliver(Event("put", key, fresh[key], revision))

    def _apply(self, event: Event) -> None:
        from totem.store.base import Event

        if event.type == "put":
            self.snapshot[event.key] = event.value or ""
            self._deliver(event)
            return
        # a deleted directory (v2) takes every key below it along
        below = [k for k in self.snapshot if k.startswith(event.key.rstrip("/") + "/")]
        for key in sorted(below):
            del self.snapshot[key]
            self._deliver(Event("delete", key, None, event.revision))
        if event.key in self.snapshot or not below:
            self.snapshot.pop(event.key, None)
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        try:
            self.callback(event)
        except Exception:
            log.exception("watch %s: callback failed for %s %s", self.prefix, event.type, event.key)
