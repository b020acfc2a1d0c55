"""Ships one stream (stdout or stderr) of one container: follows its Docker log from the cursor,
sends each line to the collector as an RFC 5424 message carrying the instance's labels, and moves
the cursor past each line the collector took.

When a send fails the Docker stream is closed and the follower waits for the collector, then
reads again from the cursor: the lines printed meanwhile are in the container's log file (the
buffer, deployer/log_buffer.py) and go out in order. The container itself never waits on any of it.
It ends when the container stops (after its last line) or the shipper stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from docker.errors import NotFound

from totem import rfc5424
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, NODE, VERSION
from totem.waiting import pause
from yoda_discover.errors import DiscoverError
from yoda_discover.log_cursor import Cursors, is_stamp, seconds
from yoda_discover.syslog_sender import Sender

log = logging.getLogger("yoda_discover.logs")
SINCE_MARGIN = 0.001  # s: `since` is a float; read a little earlier and skip what the cursor passed
# the labels that travel in the structured data, by parameter name
SD_LABELS = {"app": APP, "version": VERSION, "node": NODE, "deployment": DEPLOYMENT, "cluster": CLUSTER}


class Undelivered(DiscoverError):  # noqa: N818  (flow control inside this module, never raised out of it)
    """The collector did not take a line: read again from the cursor once it is back."""


class Follower:
    def __init__(
        self,
        client: Any,
        container_id: str,
        labels: Mapping[str, str],
        stream: str,
        sender: Sender,
        cursors: Cursors,
        hostname: str,
        stopped: threading.Event,
    ):
        self.client = client
        self.container_id = container_id
        self.stream = stream
        self.sender = sender
        self.cursors = cursors
        self.stopped = stopped
        self.app = labels.get(APP, "")
        self.hostname = hostname
        params = {name: labels.get(label, "") for name, label in SD_LABELS.items()}
        self.sd = rfc5424.structured_data(rfc5424.ENTERPRISE_ID, {**params, "host": hostname, "stream": stream})
        self.node = labels.get(NODE, "")
        self.severity = rfc5424.SEVERITY[stream]
        self._docker_stream: Any = None
        self._thread = threading.Thread(target=self._run, name=f"ship-{container_id[:12]}-{stream}", daemon=True)

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> Follower:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close_stream(self) -> None:
        stream = self._docker_stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # a broken stream may fail to close; it is closed either way
                pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.1
        try:
            while not self.stopped.is_set():
                if not self.sender.wait_ready(self.stopped):
                    return
                try:
                    self._follow()
                    backoff = 0.1
                except Undelivered:
                    continue
                except NotFound:
                    return  # the container is gone
                except Exception as exc:
                    if self.stopped.is_set():
                        return
                    why = (self.node, self.stream, exc, backoff)
                    log.warning("%s %s: reading its log failed (%s); again in %.1fs", *why)
                    pause(backoff, self.stopped)
                    backoff = min(backoff * 2, 2.0)
                    continue
                if not self._running():
                    return  # every line it printed was sent
        finally:
            self.close_stream()
            self.cursors.write(self.container_id, self.stream)

    def _running(self) -> bool:
        try:
            state = self.client.api.inspect_container(self.container_id)["State"]
        except NotFound:
            return False
        return bool(state.get("Running")) or bool(state.get("Restarting"))

    # -- shipping ----------------------------------------------------------------------------------
    def _follow(self) -> None:
        cursor = self.cursors.get(self.container_id, self.stream)
        since = max(seconds(cursor) - SINCE_MARGIN, 0.0) if cursor else 0.0
        self._docker_stream = self.client.api.logs(
            self.container_id,
            stdout=self.stream == "stdout",
            stderr=self.stream == "stderr",
            stream=True,
            follow=True,
            timestamps=True,
            since=since or None,
        )
        try:
            last = cursor
            for chunk in self._docker_stream:  # one frame per log entry: "<timestamp> <line>\n"
                for line in chunk.split(b"\n"):
                    stamp, _, text = line.partition(b" ")
                    if not is_stamp(stamp):
                        if not line or not last:
                            continue
                        stamp, text = last.encode(), line  # a frame holding a line break of its own
                    elif stamp.decode() <= cursor:
                        continue  # sent before (`since` reads from a little earlier)
                    self._send(stamp.decode(), text)
                    last = stamp.decode()
        finally:
            self.close_stream()
            self._docker_stream = None

    def _send(self, stamp: str, text: bytes) -> None:
        msg = rfc5424.message(
            text,
            stamp=stamp[:26] + "Z",  # microseconds: RFC 5424's finest
            hostname=self.hostname,
            app=self.app,
            procid=self.node,
            sd=self.sd,
            severity=self.severity,
        )
        if not self.sender.send(rfc5424.frame(msg)):
            raise Undelivered()
        self.cursors.advance(self.container_id, self.stream, stamp)
