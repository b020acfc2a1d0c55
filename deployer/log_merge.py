"""Merging instance logs in time order: the backlog read whole and sorted, then (following) live
lines through a short reorder window.

Following keeps one reader thread per running instance (deployer/log_sources.py). Each reads from
just after the last line it saw, so a reader that reconnects (a quiet instance's read times out
every IDLE seconds) neither loses nor repeats a line. Lines wait WINDOW seconds after they arrive
before they are sent, so a line of one instance stamped before a line of another that arrived
first still goes out first. The instances are listed again every RESCAN seconds: an instance
started meanwhile (a new deployment) joins the stream.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from deployer.log_sources import Entry, Source, read

log = logging.getLogger("deployer.logs")
WINDOW = 0.25  # seconds a live line waits for earlier-stamped lines of other instances
IDLE = 10.0  # seconds a reader waits on a quiet instance before it reads again
RESCAN = 5.0  # seconds between listings of the app's instances while following
PARALLEL = 16  # backlogs read at once
Key = tuple[str, str]  # (node, host): a stray copy of an instance on another host is its own source


def key_of(source: Source) -> Key:
    return source.node, source.host


def backlog(ctx, found: list[Source], since_ns: int | None, tail: int) -> tuple[list[Entry], dict[Key, int]]:
    """Every source's last `tail` lines from `since_ns`, merged in time order; and the time of the
    last line read from each source."""

    def whole(source: Source) -> list[tuple[int, Entry]]:
        return list(read(ctx, source, since_ns, tail, follow=False))

    with ThreadPoolExecutor(max_workers=max(1, min(len(found), PARALLEL)), thread_name_prefix="logs") as pool:
        read_all = list(pool.map(whole, found))
    last: dict[Key, int] = {}
    for source, lines in zip(found, read_all, strict=True):
        if lines:
            last[key_of(source)] = lines[-1][0]
    merged = sorted(itertools.chain.from_iterable(read_all), key=lambda pair: (pair[0], pair[1]["instance"]))
    return [entry for _, entry in merged], last


class Live:
    """Reader threads feeding one queue; `lines()` yields batches of entries in time order."""

    def __init__(self, ctx, listing: Callable[[], list[Source]], last: dict[Key, int], start_ns: int):
        self.ctx, self.listing, self.start_ns = ctx, listing, start_ns
        self.last = dict(last)  # by source: the time of the last line handed on (ns)
        self.arrived: queue.Queue[tuple[int, Entry]] = queue.Queue()
        self.readers: dict[Key, threading.Thread] = {}
        self.stopped = threading.Event()

    def attach(self, found: list[Source]) -> None:
        for source in found:
            reader = self.readers.get(key_of(source))
            if (reader is not None and reader.is_alive()) or not source.running:
                continue
            reader = threading.Thread(target=self._read, args=(source,), name="logs-follow", daemon=True)
            self.readers[key_of(source)] = reader
            reader.start()

    def _read(self, source: Source) -> None:
        key = key_of(source)
        quiet = True
        while quiet and not self.stopped.is_set():
            since = self.last.get(key, self.start_ns - 1) + 1  # Docker's `since` includes the instant given
            lines = read(self.ctx, source, since, "all", follow=True, idle=IDLE)
            try:
                while not self.stopped.is_set():
                    ns, entry = next(lines)
                    if ns > self.last.get(key, 0):
                        self.last[key] = ns
                        self.arrived.put((ns, entry))
            except StopIteration as ended:
                quiet = bool(ended.value)  # else it ended (stopped, removed, host gone): the next listing decides
            finally:
                lines.close()

    def stop(self) -> None:
        self.stopped.set()

    def lines(self, tick: float = 1.0) -> Iterator[list[Entry]]:
        """Batches of entries in time order (empty batches every `tick` seconds at least, so the
        caller can send keep-alives and see the time); new instances attached every RESCAN s."""
        pending: list[tuple[int, int, float, Entry]] = []  # (time, arrival order, arrived at, entry)
        order = itertools.count()
        listed = time.monotonic()
        while not self.stopped.is_set():
            wait = min(tick, WINDOW) if pending else tick
            try:
                ns, entry = self.arrived.get(timeout=wait)
                heapq.heappush(pending, (ns, next(order), time.monotonic(), entry))
                while True:
                    ns, entry = self.arrived.get_nowait()
                    heapq.heappush(pending, (ns, next(order), time.monotonic(), entry))
            except queue.Empty:
                pass
            now = time.monotonic()
            batch = []
            while pending and pending[0][2] <= now - WINDOW:
                batch.append(heapq.heappop(pending)[3])
            yield batch
            if now - listed >= RESCAN:
                listed = now
                try:
                    self.attach(self.listing())
                except Exception:  # a listing that fails (etcd, an engine) is tried again at the next one
                    log.warning("listing the instances to follow failed", exc_info=True)
