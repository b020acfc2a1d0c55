"""Docker clients for `ssh://` engines, without paramiko (the SDK's own ssh transport imports it even
to shell out): each connection runs `ssh [-p PORT] -- [user@]host docker system dial-stdio`, what
the Docker CLI runs, with its stdin and stdout on one end of a socket pair; HTTP goes over the
other end, so timeouts are the socket's own. ssh's keys, known hosts and options come from its
config (~/.ssh/config); BatchMode keeps it from ever prompting."""

from __future__ import annotations

import socket
import subprocess
from urllib.parse import urlsplit

import docker
import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool

BASE = "http+docker://dial-stdio"  # the client's base URL: requests picks this adapter by its prefix
UNUSED = "unix:///run/totem-dial-stdio-unused.sock"  # what the client is first made with, never used
CONNECT_TIMEOUT = 5  # seconds ssh may take to connect


def ssh_argv(url: str) -> list[str]:
    parts = urlsplit(url)
    target = f"{parts.username}@{parts.hostname}" if parts.username else str(parts.hostname)
    port = ["-p", str(parts.port)] if parts.port else []
    options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    return ["ssh", *options, *port, "--", target, "docker", "system", "dial-stdio"]


class _Connection(urllib3.connection.HTTPConnection):
    def __init__(self, argv: list[str], timeout):
        super().__init__("localhost", timeout=timeout)
        self.argv, self.timeout = argv, timeout
        self.process: subprocess.Popen | None = None

    def connect(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                self.argv,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        ours.settimeout(self.timeout)
        self.sock = ours

    def close(self) -> None:
        super().close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class _Pool(urllib3.connectionpool.HTTPConnectionPool):
    def __init__(self, argv: list[str], timeout: float, maxsize: int):
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self.argv, self.seconds = argv, timeout

    def _new_conn(self) -> _Connection:
        return _Connection(self.argv, self.seconds)


class DialStdioAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, argv: list[str], timeout: float, maxsize: int = 10):
        self.pool = _Pool(argv, timeout, maxsize)
        super().__init__()

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        return self.pool

    def request_url(self, request, proxies) -> str:
        return request.path_url

    def close(self) -> None:
        super().close()
        self.pool.close()


def client(argv: list[str], timeout: float) -> docker.DockerClient:
    """A client whose connections are `argv` (dial-stdio); it asks the engine its API version."""
    adapter = DialStdioAdapter(argv, timeout)
    asking = requests.Session()  # not closed: closing it would close the adapter the client keeps
    asking.mount(BASE, adapter)
    try:
        answer = asking.get(f"{BASE}/version", timeout=timeout)
        answer.raise_for_status()
    except BaseException:
        adapter.close()  # and the ssh process with it
        raise
    made = docker.DockerClient(base_url=UNUSED, version=answer.json()["ApiVersion"], timeout=timeout)
    made.api.mount(BASE, adapter)
    made.api.base_url = BASE
    return made
