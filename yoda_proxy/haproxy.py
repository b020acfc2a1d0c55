"""Run HAProxy in master-worker mode: check configs, start, hitless reload, stop.

The master is our child process. A reload is sent on the master CLI; HAProxy 2.6
answers nothing there, so the reload is confirmed from `show proc` (the master's
reload counter moves, no failed reload, a new worker) and from the stats socket
answering with the new worker's pid. Reloads are serialized by the caller.

On HAProxy 2.6 a worker's death ends its master too (`master-worker
no-exit-on-failure` is lost when the master re-executes itself in wait mode), so the
caller starts HAProxy again. To keep the listening sockets open meanwhile, this
process holds copies of the worker's TCP listeners (taken with `_getsocks` on the
stats socket, `expose-fd listeners`) and hands them to the next master with `-x`,
as an old worker would on a reload: new connections wait in the kernel's backlog
instead of being refused.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from totem.waiting import WaitAborted, WaitTimeout, wait
from yoda_proxy.errors import ProxyError
from yoda_proxy.runtime import ask

log = logging.getLogger("yoda_proxy.haproxy")
MASTER_LINE = re.compile(r"^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]", re.M)
SECRET_ENV = {"YODA_ADMIN_PASSWORD"}  # HAProxy does not need it: keep it out of its environment
WORKERS = re.compile(r"# workers\n(.*?)(?:\n#|\Z)", re.S)
MAX_FDS = 253  # HAProxy sends at most this many sockets per message


class HAProxyError(ProxyError):
    """HAProxy refused a config or did not confirm a start or reload."""


@dataclass(frozen=True)
class ProcState:
    master: int
    reloads: int
    failed: int
    workers: tuple[int, ...]


def parse_show_proc(text: str) -> ProcState:
    master = MASTER_LINE.search(text)
    if not master:
        raise HAProxyError(f"unexpected 'show proc' answer: {text[:200]!r}")
    block = WORKERS.search(text)
    workers = tuple(
        int(line.split()[0])
        for line in (block.group(1) if block else "").splitlines()
        if line.strip() and line.split()[0].isdigit()
    )
    return ProcState(int(master.group(1)), int(master.group(2)), int(master.group(3)), workers)


class HAProxy:
    def __init__(self, binary: str, work: Path, timeout: float = 15.0):
        self.binary = binary
        self.work = work
        self.timeout = timeout
        self.cfg = work / "haproxy.cfg"
        self.master_socket = work / "master.sock"
        self.stats_socket = work / "admin.sock"
        self.process: subprocess.Popen | None = None
        self.held: list[socket.socket] = []  # copies of the worker's TCP listening sockets
        self.adopted: int | None = None  # master pid left running by a previous yoda-proxy
        self.reloads = 0

    def check(self, cfg: Path) -> tuple[bool, str]:
        result = subprocess.run([self.binary, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=60)
        output = (result.stdout + result.stderr).strip()
        return result.returncode == 0, output

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.adopted is not None and alive(self.adopted)

    def adopt(self) -> bool:
        """Take over a master a crashed yoda-proxy left serving (same work dir)."""
        try:
            state = self.proc_state()
        except (OSError, HAProxyError):
            return False
        pidfile = self.work / "haproxy.pid"
        if not state.workers or not pidfile.exists() or pidfile.read_text().split()[:1] != [str(state.master)]:
            return False
        self.adopted = state.master
        log.info("adopted running haproxy master %s", state.master)
        self.take_listeners()
        return True

    def take_listeners(self) -> None:
        """Hold copies of the current worker's TCP listening sockets (replacing older copies)."""
        try:
            taken = [sock for sock in get_sockets(self.stats_socket, self.timeout) if sock.family != socket.AF_UNIX]
        except OSError as exc:
            log.warning("cannot take haproxy's listening sockets (%s); a dead worker will refuse connections", exc)
            return
        self.release_listeners()
        self.held = taken

    def release_listeners(self) -> None:
        for sock in self.held:
            sock.close()
        self.held = []

    def start(self) -> None:
        for stale in (self.master_socket, self.stats_socket):
            stale.unlink(missing_ok=True)
        handover = self.work / "listeners.sock"
        try:
            with handing_over(handover, self.held, self.timeout) as given:
                self._spawn(["-x", str(handover)] if given else [])
                state = self._wait_started()
        except HAProxyError:
            self.release_listeners()  # nothing will accept on them: let clients be refused, not wait
            raise
        log.info("haproxy started (master %s, worker %s)", state.master, state.workers[0])
        self.take_listeners()

    def _spawn(self, extra: list[str]) -> None:
        logfile = open(self.work / "haproxy.log", "ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "-W",
                "-S",
                f"{self.master_socket},mode,600",
                *extra,
                "-f",
                str(self.cfg),
                "-p",
                str(self.work / "haproxy.pid"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=logfile,
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k not in SECRET_ENV},
        )
        logfile.close()

    def _wait_started(self) -> ProcState:
        assert self.process is not None

        def serving() -> ProcState | None:
            state = self.proc_state()
            return state if state.workers and self.worker_pid() in state.workers else None

        try:  # until its sockets answer, asking fails: not started yet
            return wait(
                serving,
                self.timeout,
                0.02,
                abort=lambda: not self.running(),
                what="haproxy to start",
                ignoring=(OSError, HAProxyError),
            )
        except WaitAborted:
            tail = (self.work / "haproxy.log").read_text(errors="replace").strip().splitlines()[-2:]
            raise HAProxyError(
                f"haproxy exited at start (code {self.process.returncode}): " + " | ".join(tail)
            ) from None
        except WaitTimeout:
            raise HAProxyError("haproxy did not start in time") from None

    def proc_state(self) -> ProcState:
        return parse_show_proc(ask(self.master_socket, "show proc", self.timeout))

    def worker_pid(self) -> int:
        info = ask(self.stats_socket, "show info", self.timeout)
        match = re.search(r"^Pid:\s*(\d+)", info, re.M)
        if not match:
            raise HAProxyError("no Pid in 'show info'")
        return int(match.group(1))

    def reload(self) -> None:
        before = self.proc_state()
        answer = ask(self.master_socket, "reload", self.timeout)
        if "Success=0" in answer:  # newer HAProxy versions answer; 2.6 says nothing
            raise HAProxyError("haproxy refused the reload: " + answer.strip()[-300:])

        def confirmed() -> bool:
            state = self.proc_state()
            if state.failed > before.failed:
                raise HAProxyError("haproxy reports a failed reload; see haproxy.log")
            if state.reloads > before.reloads and state.workers:
                new = state.workers[0]
                return new not in before.workers and self.worker_pid() == new
            return False

        try:  # OSError: the master re-executes itself; its socket comes back
            wait(confirmed, self.timeout, 0.005, what="haproxy to confirm the reload", ignoring=(OSError,))
        except WaitTimeout:
            raise HAProxyError("haproxy did not confirm the reload in time") from None
        self.reloads += 1
        self.take_listeners()

    def stop(self, grace: float = 5.0) -> None:
        self.release_listeners()  # first: a stopping worker's clients are refused, not kept waiting
        pid = self.process.pid if self.process else self.adopted
        if pid is not None and self.running():
            for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGKILL):  # soft stop first
                os.killpg(pid, sig)
                if self._wait_exit(pid, grace):
                    break
        self.process = self.adopted = None

    def exit_code(self) -> int | None:
        return self.process.returncode if self.process else None

    def _wait_exit(self, pid: int, grace: float) -> bool:
        if self.process is not None:
            try:
                self.process.wait(grace)
                return True
            except subprocess.TimeoutExpired:
                return False
        try:
            return wait(lambda: not alive(pid), grace, 0.05, what=f"haproxy {pid} to exit")
        except WaitTimeout:
            return False


def get_sockets(path: Path, timeout: float) -> list[socket.socket]:
    """The listening sockets of the worker behind stats socket `path` (`_getsocks`, as `-x` asks)."""
    fds: list[int] = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(b"_getsocks\n")
            header = conn.recv(4, socket.MSG_WAITALL)
            if len(header) != 4:
                raise ConnectionError("haproxy refused _getsocks")
            (count,) = struct.unpack("=i", header)
            while len(fds) < count:
                data, batch, _flags, _addr = socket.recv_fds(conn, 65536, MAX_FDS)
                fds += batch
                if not data and not batch:
                    raise ConnectionError(f"haproxy sent {len(fds)} of {count} sockets")
                if batch and len(fds) < count:
                    conn.sendall(struct.pack("=i", len(fds)))  # HAProxy waits for this between batches
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    for fd in fds:
        os.set_inheritable(fd, False)  # received descriptors are inheritable: keep them out of children
    return [socket.socket(fileno=fd) for fd in fds]


@contextmanager
def handing_over(path: Path, sockets: list[socket.socket], timeout: float) -> Iterator[bool]:
    """While HAProxy starts: answer its `-x` (one `_getsocks`) with `sockets`, on a unix socket at `path`."""
    if not sockets:
        yield False
        return
    path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        server.settimeout(timeout)
        thread = threading.Thread(target=answer_getsocks, args=(server, sockets, timeout), daemon=True)
        thread.start()
        try:
            yield True
        finally:
            with suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept() when HAProxy never asked
            thread.join(timeout)
            path.unlink(missing_ok=True)


def answer_getsocks(server: socket.socket, sockets: list[socket.socket], timeout: float) -> None:
    """Send `sockets` as a worker answers `_getsocks` (HAProxy 2.6's cli.c)."""
    try:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(timeout)
            request = b""
            while not request.endswith(b"\n"):
                chunk = conn.recv(64)
                if not chunk:
                    return
                request += chunk
            conn.sendall(struct.pack("=i", len(sockets)))
            info = b"\0\0\0\0\0\0" * len(sockets)  # per socket: no namespace, no interface, 32 unused bits
            socket.send_fds(conn, [info], [sock.fileno() for sock in sockets])
    except OSError as exc:  # HAProxy failed before asking, or hung up
        log.debug("listening sockets not handed over: %s", exc)


def alive(pid: int) -> bool:
    """Running: a zombie counts as dead (an adopted master's parent is gone, and whoever inherited
    it may reap it late)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}
