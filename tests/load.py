"""Load through a proxy while something happens: requests without pause, counted, with the time of
every failure (for "seconds from the fault to the last failure"). Used by tests and `bench/`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import requests

STALL_S = 1.0  # an answer slower than this counts towards the outage (healthy answers take milliseconds)


class Load(threading.Thread):
    """GET `url` with `Host: host` in a loop, over one keep-alive connection, or alternately over a
    fresh connection too with `fresh_connections` (a new connection is what a listener refuses)."""

    def __init__(
        self,
        url: str,
        host: str,
        fresh_connections: bool = False,
        ok: Callable[[requests.Response], bool] = lambda response: response.status_code == 200,
        timeout: float = 5,
    ):
        super().__init__(daemon=True)
        self.url, self.host, self.fresh, self.ok, self.timeout = url, host, fresh_connections, ok, timeout
        self.stopped = threading.Event()
        self.sent = 0
        self.failures: list[tuple[float, str]] = []  # (time.monotonic(), what went wrong)
        self.stalls: list[float] = []  # when answers that took longer than STALL_S came (held, not refused)
        self.bodies: Counter[str] = Counter()  # what the successful answers said
        self.last: str | None = None

    def run(self) -> None:
        with requests.Session() as session:  # closed at the end, so no connection outlives the load
            self._loop(session)

    def _loop(self, session: requests.Session) -> None:
        while not self.stopped.is_set():
            client = requests if self.fresh and self.sent % 2 else session
            started = time.monotonic()
            try:
                response = client.get(self.url, headers={"Host": self.host}, timeout=self.timeout)
                failure = None if self.ok(response) else f"HTTP {response.status_code}"
                body = response.text.strip()
            except requests.RequestException as exc:
                failure, body = type(exc).__name__, ""
            self.sent += 1
            if time.monotonic() - started > STALL_S:
                self.stalls.append(time.monotonic())
            if failure:
                self.failures.append((time.monotonic(), failure))
            else:
                self.bodies[body] += 1
                self.last = body

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.finish()

    def finish(self) -> None:
        self.stopped.set()
        self.join(self.timeout * 2)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def errors(self) -> Counter[str]:
        return Counter(what for _when, what in self.failures)

    def recovered_after(self, fault_at: float) -> float:
        """Seconds from `fault_at` (time.monotonic()) to the last failed or stalled answer; 0 when none
        came after it. A stall counts: a request held for seconds is an outage the client waited out."""
        after = [when for when, _what in self.failures if when >= fault_at] + [w for w in self.stalls if w >= fault_at]
        return round(max(after) - fault_at, 2) if after else 0.0

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Until `count` more requests went out (the load is really running)."""
        target, deadline = self.sent + count, time.monotonic() + timeout
        while self.sent < target and time.monotonic() < deadline:
            time.sleep(0.05)

    def summary(self) -> str:
        return f"sent {self.sent}, failed {self.failed} {dict(self.errors())}"
