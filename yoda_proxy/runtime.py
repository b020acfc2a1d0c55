"""HAProxy runtime API over a unix socket (the worker's stats socket or the master CLI)."""

from __future__ import annotations

import csv
import socket
from collections.abc import Iterable
from pathlib import Path

from yoda_proxy.errors import ProxyError

PROMPT = b"\n> "
OK_PREFIXES = ("IP changed", "no need to change", "port changed")
CHANGES = ("set ", "add ", "del ", "clear ", "enable ", "disable ")


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
    """A batch of commands on one interactive connection; each answer is checked."""

    def __init__(self, path: Path | str, timeout: float = 5.0):
        self.path = str(path)
        self.timeout = timeout

    def ask(self, command: str) -> str:
        return ask(self.path, command, self.timeout)

    def servers_up(self, backends: Iterable[str]) -> set[tuple[str, str]]:
        """(backend, server) of the servers of `backends` that HAProxy's health checks report UP."""
        answers = self.run([f"show stat {backend} 4 -1" for backend in sorted(backends)])  # 4: servers only
        return {server for answer in answers for server in up_servers(answer)}

    def run(self, commands: list[str]) -> list[str]:
        if not commands:
            return []
        answers = []
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(self.path)
            buffer = bytearray()
            self._exchange(sock, "prompt", buffer)
            for command in commands:
                if "\n" in command or ";" in command:
                    raise ValueError(f"runtime command may not contain ';' or newlines: {command!r}")
                answer = self._exchange(sock, command, buffer).strip()
                if command.startswith(CHANGES) and answer and not answer.startswith(OK_PREFIXES):
                    raise RuntimeCommandError(f"{command}: {answer}")
                answers.append(answer)
            sock.sendall(b"quit\n")
        return answers

    @staticmethod
    def _exchange(sock: socket.socket, command: str, buffer: bytearray) -> str:
        sock.sendall(command.encode() + b"\n")
        while PROMPT not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("HAProxy closed the runtime connection")
            buffer.extend(chunk)
        end = buffer.index(PROMPT)
        answer = bytes(buffer[:end]).decode(errors="replace")
        del buffer[: end + len(PROMPT)]
        return answer
