"""etcd v3 adapter (the default), over etcd's JSON gateway through etcd3gw."""

from __future__ import annotations

import base64
import builtins
import json
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from etcd3gw import exceptions as gw_errors
from etcd3gw.client import Etcd3Client

from totem.store.base import Event, Lease, Store, members
from totem.store.errors import Compacted, StoreUnavailable, translating

if TYPE_CHECKING:
    from totem.store.watch import Watcher


def _encode(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _decode(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def _range_end(prefix: str) -> str:
    """The first key after every key starting with `prefix` (etcd's range_end), base64."""
    raw = bytearray(prefix.encode("utf-8"))
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return base64.b64encode(b"\0").decode("ascii")
    raw[-1] += 1
    return base64.b64encode(bytes(raw)).decode("ascii")


_UNAVAILABLE = (
    gw_errors.ConnectionFailedError,
    gw_errors.ConnectionTimeoutError,
    gw_errors.InternalServerError,
    requests.RequestException,
)


CONNECT_TIMEOUT = 2.0  # seconds to reach a member before trying the next one
_translated = translating(_UNAVAILABLE, (gw_errors.Etcd3Exception,))


class Etcd3Lease(Lease):
    def __init__(self, store: Etcd3Store, ttl: int):
        super().__init__(ttl)
        self.store = store
        self.id = int(store._post("/lease/grant", {"TTL": ttl, "ID": 0})["ID"])

    @_translated
    def refresh(self) -> bool:
        result = self.store._post("/lease/keepalive", {"ID": self.id})
        return int(result.get("result", {}).get("TTL", -1)) > 0

    @_translated
    def revoke(self) -> None:
        self.stop()
        try:
            self.store._post("/kv/lease/revoke", {"ID": self.id})
        except gw_errors.Etcd3Exception as exc:
            if "not found" not in (exc.detail_text or "").lower():  # already expired is fine
                raise


def _unsent(exc: Exception) -> bool:
    """The request never reached a member (refused, unreachable, connect timeout): safe to send elsewhere."""
    return isinstance(exc, gw_errors.ConnectionFailedError) or "ConnectTimeout" in str(exc)


class Etcd3Store(Store):
    """One or several members; requests stick to one and move to the next when it cannot be reached."""

    def __init__(self, url: str = "etcd://127.0.0.1:2379", timeout: float = 5.0):
        self.url = url
        protocol = "https" if urlsplit(url).scheme in {"https", "etcds"} else "http"
        self.clients = [
            Etcd3Client(
                host=host,
                port=port,
                protocol=protocol,
                timeout=(CONNECT_TIMEOUT, timeout),  # type: ignore[arg-type]  # requests takes (connect, read)
                api_path="/v3/",
            )
            for host, port in members(url)
        ]
        self._current = 0

    @property
    def client(self) -> Etcd3Client:
        return self.clients[self._current % len(self.clients)]

    def _failed(self, client: Etcd3Client) -> None:
        if self.client is client:  # another thread may have moved on already
            self._current += 1

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(len(self.clients)):
            client = self.client
            try:
                return client.post(client.get_url(path), json=payload)
            except (gw_errors.ConnectionFailedError, gw_errors.ConnectionTimeoutError) as exc:
                if not _unsent(exc) or attempt == len(self.clients) - 1:
                    raise
                self._failed(client)
        raise AssertionError("unreachable")

    def _put_op(self, key: str, value: str, lease: Lease | None) -> dict[str, Any]:
        op: dict[str, Any] = {"key": _encode(key), "value": _encode(value)}
        if lease is not None:
            op["lease"] = lease.id  # type: ignore[attr-defined]
        return op

    def _txn(self, compare: dict[str, Any], success: dict[str, Any]) -> bool:
        result = self._post("/kv/txn", {"compare": [compare], "success": [success], "failure": []})
        return bool(result.get("succeeded", False))

    @_translated
    def get(self, key: str) -> str | None:
        kvs = self._post("/kv/range", {"key": _encode(key)}).get("kvs", [])
        return _decode(kvs[0]["value"]) if kvs and "value" in kvs[0] else ("" if kvs else None)

    @_translated
    def put(self, key: str, value: str, lease: Lease | None = None) -> None:
        self._post("/kv/put", self._put_op(key, value, lease))

    @_translated
    def create(self, key: str, value: str, lease: Lease | None = None) -> bool:
        compare = {"key": _encode(key), "result": "EQUAL", "target": "CREATE", "create_revision": 0}
        return self._txn(compare, {"request_put": self._put_op(key, value, lease)})

    @_translated
    def cas(self, key: str, value: str, prev_value: str, lease: Lease | None = None) -> bool:
        compare = {"key": _encode(key), "result": "EQUAL", "target": "VALUE", "value": _encode(prev_value)}
        return self._txn(compare, {"request_put": self._put_op(key, value, lease)})

    @_translated
    def delete(self, key: str, prev_value: str | None = None) -> bool:
        if prev_value is None:
            return int(self._post("/kv/deleterange", {"key": _encode(key)}).get("deleted", 0)) > 0
        compare = {"key": _encode(key), "result": "EQUAL", "target": "VALUE", "value": _encode(prev_value)}
        return self._txn(compare, {"request_delete_range": {"key": _encode(key)}})

    @_translated
    def delete_prefix(self, prefix: str) -> None:
        self._post("/kv/deleterange", {"key": _encode(prefix), "range_end": _range_end(prefix)})

    def list(self, prefix: str) -> dict[str, str]:
        return self.snapshot(prefix)[0]

    @_translated
    def snapshot(self, prefix: str) -> tuple[dict[str, str], int]:
        result = self._post("/kv/range", {"key": _encode(prefix), "range_end": _range_end(prefix)})
        items = {_decode(kv["key"]): _decode(kv.get("value", "")) for kv in result.get("kvs", [])}
        return items, int(result["header"]["revision"])

    @_translated
    def lease(self, ttl: int) -> Lease:
        return Etcd3Lease(self, ttl)

    def ping(self) -> bool:
        for client in self.clients:
            try:
                if client.session.get(client.base_url + "/health", timeout=2).ok:
                    return True
            except requests.RequestException:
                pass
        return False

    def stream(self, prefix: str, revision: int, ctx: Watcher) -> Iterator[tuple[int, builtins.list[Event]]]:
        request: dict[str, dict[str, str | int | bool]] = {
            "create_request": {
                "key": _encode(prefix),
                "range_end": _range_end(prefix),
                "start_revision": revision,
                "progress_notify": True,
            }
        }
        client = self.client
        try:
            response = requests.post(client.get_url("/watch"), json=request, stream=True, timeout=(3, 60))
        except requests.RequestException as exc:
            self._failed(client)  # the watcher's next attempt goes to the next member
            raise StoreUnavailable(f"etcd watch failed: {exc}") from None
        unregister = ctx.on_stop(lambda: _interrupt(response))
        try:
            for message in _json_lines(response, ctx.stopped):
                yield _watch_batch(message)
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if ctx.stopped.is_set():
                return
            if "Read timed out" in str(exc):
                return  # idle: the caller resumes from the last revision
            self._failed(client)
            raise StoreUnavailable(f"etcd watch interrupted: {exc}") from None
        except (AttributeError, ValueError):  # the stream was closed under us
            if not ctx.stopped.is_set():
                raise StoreUnavailable("etcd watch stream closed") from None
        finally:
            unregister()
            response.close()
        if not ctx.stopped.is_set():
            self._failed(client)
            raise StoreUnavailable("etcd closed the watch stream")


def _interrupt(response: requests.Response) -> None:
    """Unblock a thread reading the stream: shut the socket down (closing it would block)."""
    try:
        sock = socket.fromfd(response.raw.fileno(), socket.AF_INET, socket.SOCK_STREAM)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    except (OSError, ValueError, AttributeError):
        pass


def _json_lines(response: requests.Response, stopped: threading.Event) -> Iterator[dict[str, Any]]:
    if response.status_code != 200:
        raise StoreUnavailable(f"etcd watch answered {response.status_code}")
    buffer = b""
    for chunk in response.iter_content(chunk_size=None):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)
        if stopped.is_set():
            return


def _watch_batch(message: dict[str, Any]) -> tuple[int, list[Event]]:
    if "error" in message:
        raise StoreUnavailable(f"etcd watch error: {message['error']}")
    result = message.get("result", {})
    if int(result.get("compact_revision", 0) or 0) > 0:
        raise Compacted(f"compacted at {result['compact_revision']}")
    if result.get("canceled"):
        raise StoreUnavailable(f"etcd cancelled the watch: {result.get('cancel_reason', '')}")
    events = []
    for raw in result.get("events", []):
        kv = raw["kv"]
        kind = "delete" if raw.get("type") == "DELETE" else "put"
        value = _decode(kv["value"]) if kind == "put" and "value" in kv else ("" if kind == "put" else None)
        events.append(Event(kind, _decode(kv["key"]), value, int(kv.get("mod_revision", 0))))
    revision = int(result.get("header", {}).get("revision", 0))
    if events:
        revision = max(revision, max(e.revision for e in events))
    return revision, events
