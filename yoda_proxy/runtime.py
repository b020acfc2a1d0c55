"""HAProxy runtime API over a unix socket (the worker's stats socket or the master CLI)."""

from __future__ import annotations

import contextlib
import csv
import select
import socket
import threading
from collections.abc import Iterable
from pathlib import Path

from yoda_proxy.errors import ProxyError

PROMPT = b"\n> "
OK_PREFIXES = ("IP changed", "no need to change", "port changed")
CHANGES = ("set ", "add ", "del ", "clear ", "enable ", "disable ")
WINDOW = 64  # commands sent before reading their answers: neither side's buffers fill up


class RuntimeCommandError(ProxyError):
    """HAProxy refused a runtime command; the message holds its answer."""


def ask(path: Path | str, command: str, timeout: float = 5.0) -> str:
    """Send one command and return the whole answer (the server closes the connection)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def up_servers(stat: str) -> set[tuple[str, str]]:
    """(backend, server) of the servers a `show stat` answer reports UP ("UP", or "UP 1/2" going down)."""
    lines = stat.strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        return set()  # not a stat table ("No such proxy.")
    rows = csv.DictReader([lines[0][2:], *lines[1:]])
    return {(row["pxname"], row["svname"]) for row in rows if (row.get("status") or "").startswith("UP")}


class RuntimeAPI:
    """Commands on one interactive connection, kept open between batches: connecting and entering
    prompt mode cost about as much as a `set map` itself. Commands are pipelined (a window at a
    time) and each answer is checked. HAProxy closes an idle connection after `stats timeout`, and
    after a reload the old one belongs to the old worker: `close()` then, the next batch reconnects."""

    def __init__(self, path: Path | str, timeout: float = 5.0):
        self.path = str(path)
        self.timeout = timeout
        self.connections = 0  # opened so far
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def ask(self, command: str) -> str:
        return ask(self.path, command, self.timeout)

    def servers_up(self, backends: Iterable[str]) -> set[tuple[str, str]]:
        """(backend, server) of the servers of `backends` that HAProxy's health checks report UP."""
        answers = self.run([f"show stat {backend} 4 -1" for backend in sorted(backends)])  # 4: servers only
        return {server for answer in answers for server in up_servers(answer)}

    def run(self, commands: list[str]) -> list[str]:
        if not commands:
            return []
        for command in commands:
            if "\n" in command or ";" in command:
                raise ValueError(f"runtime command may not contain ';' or newlines: {command!r}")
        with self._lock:
            answers = self._send(commands)
        for command, answer in zip(commands, answers, strict=True):
            if command.startswith(CHANGES) and answer and not answer.startswith(OK_PREFIXES):
                raise RuntimeCommandError(f"{command}: {answer}")
        return answers

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _send(self, commands: list[str]) -> list[str]:
        reused = self._sock is not None and self._alive(self._sock)
        if not reused:
            self._drop()
        answers: list[str] = []
        try:
            sock = self._connected()
            for start in range(0, len(commands), WINDOW):
                window = commands[start : start + WINDOW]
                sock.sendall("".join(c + "\n" for c in window).encode())
                answers += [self._answer(sock) for _ in window]
            return answers
        except OSError:
            self._drop()
            if reused and not answers:  # closed under us before answering anything: once more, afresh
                return self._send(commands)
            raise

    def _connected(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                self._sock, self._buffer = sock, bytearray()
                self.connections += 1
                sock.sendall(b"prompt\n")
                self._answer(sock)
            except OSError:
                self._drop()
                sock.close()
                raise
        return self._sock

    @staticmethod
    def _alive(sock: socket.socket) -> bool:
        """Nothing to read between batches: a readable socket was closed by HAProxy (or is out of step)."""
        try:  # (recv on a socket with a timeout would wait for data first)
            return not select.select([sock], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def _drop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock, self._buffer = None, bytearray()

    def _answer(self, sock: socket.socket) -> str:
        buffer = self._buffer
        while PROMPT not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("HAProxy closed the runtime connection")
            buffer.extend(chunk)
        end = buffer.index(PROMPT)
        answer = bytes(buffer[:end]).decode(errors="replace").strip()
        del buffer[: end + len(PROMPT)]
        return answer
