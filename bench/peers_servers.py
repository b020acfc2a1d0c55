"""The processes bench/peers.py compares: the blue and green backends and the three proxies.

Every proxy serves one host, `bench.localhost`, on a free loopback port, and `switch(color)` issues
the change that points it at the other backend, the way that proxy's users make it:

- yoda-proxy: one etcd put of the location's `upstream` key (a runtime API update, no reload);
- nginx: docker-gen's loop for nginx-proxy — render conf.d/default.conf from the wiring with a
  template like nginx-proxy's (upstream block with `keepalive`, server block with `proxy_pass`),
  then `nginx -s reload`;
- HAProxy: consul-template's classic recipe — render haproxy.cfg, then start a new process that
  takes over from the old one: `haproxy -f haproxy.cfg -p haproxy.pid -D -sf $(cat haproxy.pid)`
  (the old process stops listening and finishes its connections).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from totem.contracts import yoda
from totem.net import free_port
from totem.waiting import WaitTimeout, wait
from yoda_proxy.testing import ProxyProcess

HOST = "bench.localhost"
COLORS = ("blue", "green")
NGINX = "/usr/sbin/nginx"
HAPROXY = "/usr/sbin/haproxy"


class Missing(RuntimeError):
    """A program the benchmark needs is not installed."""


def require(binary: str, package: str) -> str:
    found = shutil.which(binary) or shutil.which(Path(binary).name)
    if not found:
        raise Missing(
            f"{Path(binary).name} not found: install the Debian package {package} (apt-get install {package})"
        )
    return found


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int, needle: str) -> bool:
    """`pid` runs and its command line names `needle` (so a reused pid is never signalled)."""
    try:
        return needle in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


class _Nginx:
    """An nginx master we start in the foreground (`daemon off`) with its own prefix, pid file and logs."""

    def __init__(self, name: str):
        self.binary = require(NGINX, "nginx-light")
        self.dir = Path(tempfile.mkdtemp(prefix=f"peers-{name}-"))
        (self.dir / "conf.d").mkdir()
        (self.dir / "logs").mkdir()
        self.conf = self.dir / "nginx.conf"
        self.process: subprocess.Popen | None = None

    def argv(self, *extra: str) -> list[str]:
        return [self.binary, "-p", f"{self.dir}/", "-c", str(self.conf), "-e", str(self.dir / "logs/error.log"), *extra]

    def main_conf(self, workers: str) -> str:
        # the official nginx image's nginx.conf (nginx-proxy's base), with paths kept inside the prefix
        user = "user root;\n" if os.geteuid() == 0 else ""  # else root's workers would run as nobody
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi"))
        temp += "".join(f"    {kind}_temp_path {self.dir}/{kind};\n" for kind in ("uwsgi", "scgi"))
        return (
            f"{user}worker_processes {workers};\ndaemon off;\npid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/logs/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    default_type application/octet-stream;\n    access_log off;\n    sendfile on;\n"
            f"    keepalive_timeout 65;\n{temp}    include {self.dir}/conf.d/*.conf;\n}}\n"
        )

    def start(self, workers: str, port: int) -> None:
        self.conf.write_text(self.main_conf(workers))
        self.process = subprocess.Popen(self.argv(), stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait(lambda: _listening(port), 10, 0.01, what=f"nginx listening on {port}")
        except WaitTimeout as timeout:
            log = (self.dir / "logs/error.log").read_text(errors="replace")[-600:].strip()
            raise RuntimeError(f"{timeout}; nginx's error log ends: {log}") from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown: the master stops its workers
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Backends:
    """Blue and green app instances: one small nginx answering {"name": "<color>"} on one port per color.

    Static nginx rather than yoda_proxy.testing.Backend (a Python ThreadingHTTPServer, a few thousand
    requests/s under the GIL): the backends must not be what limits wrk."""

    def __init__(self) -> None:
        self.ports = {color: free_port() for color in COLORS}
        self.nginx = _Nginx("backends")

    def start(self) -> Backends:
        servers = "".join(
            f"server {{ listen 127.0.0.1:{port} backlog=4096; keepalive_requests 100000;\n"
            f'  location / {{ default_type application/json; return 200 \'{{"name": "{color}"}}\'; }} }}\n'
            for color, port in self.ports.items()
        )
        (self.nginx.dir / "conf.d/backends.conf").write_text(servers)
        self.nginx.start("1", self.ports["green"])
        return self

    def address(self, color: str) -> str:
        return f"127.0.0.1:{self.ports[color]}"

    def stop(self) -> None:
        self.nginx.stop()


class YodaPeer:
    label = "yoda-proxy"

    def __init__(self, store, backends: Backends):
        self.store, self.backends = store, backends
        self.proxy = ProxyProcess(etcd_url=store.url)
        self.port = self.proxy.http
        self.upstreams = {c: yoda.upstream_name("bench", f"v{i + 1}", backends.ports[c]) for i, c in enumerate(COLORS)}

    def start(self, color: str) -> None:
        base = self.proxy.base
        self.store.put(yoda.location_key(base, HOST, "root", yoda.PATH), "/")
        self.store.put(yoda.location_key(base, HOST, "root", yoda.UPSTREAM), self.upstreams[color])
        for c, upstream in self.upstreams.items():
            self.store.put(yoda.endpoint_key(base, upstream, "n1"), self.backends.address(c))
        revision = uuid.uuid4().hex
        self.store.put(yoda.revision_key(base), revision)
        applied = yoda.proxy_node_key(base, self.proxy.node, yoda.APPLIED)
        try:
            self.proxy.start()
            wait(lambda: self.store.get(applied) == revision, 30, 0.02, what="yoda-proxy applied the wiring")
        except WaitTimeout as timeout:  # its work dir (and log) goes at stop(): say what it said
            raise RuntimeError(f"{timeout}; yoda-proxy's log ends: {self.proxy.log()[-600:].strip()}") from None

    def switch(self, color: str) -> None:
        self.store.put(yoda.location_key(self.proxy.base, HOST, "root", yoda.UPSTREAM), self.upstreams[color])

    def stop(self) -> None:
        try:
            self.proxy.stop()
        finally:
            self.store.delete_prefix(self.proxy.prefix)


class NginxPeer:
    label = "nginx (reload)"

    def __init__(self, backends: Backends):
        self.backends = backends
        self.nginx = _Nginx("nginx")
        self.port = free_port()

    def render(self, color: str) -> str:
        """conf.d/default.conf as nginx-proxy's nginx.tmpl renders it for one VIRTUAL_HOST with one
        container and keepalive `auto` (2 idle connections per server), without TLS and logging."""
        return f"""map $http_upgrade $proxy_connection {{
    default upgrade;
    '' $proxy_connection_noupgrade;
}}
map $upstream_keepalive $proxy_connection_noupgrade {{
    default close;
    true '';
}}
map "" $upstream_keepalive {{
    default false;
}}
map $http_x_forwarded_proto $proxy_x_forwarded_proto {{
    default $http_x_forwarded_proto;
    '' $scheme;
}}
server_names_hash_bucket_size 128;
proxy_http_version 1.1;
proxy_buffering off;
proxy_set_header Host $http_host;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection $proxy_connection;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $proxy_x_forwarded_proto;
proxy_set_header Proxy "";
server {{
    server_name _;
    listen 127.0.0.1:{self.port};
    return 503;
}}
# {HOST}
upstream {HOST} {{
    # bench-{color}
    server {self.backends.address(color)};
    keepalive 2;
}}
server {{
    server_name {HOST};
    listen 127.0.0.1:{self.port};
    location / {{
        proxy_pass http://{HOST};
        set $upstream_keepalive true;
    }}
}}
"""

    def _write(self, color: str) -> None:
        target = self.nginx.dir / "conf.d/default.conf"
        scratch = target.with_suffix(".tmp")
        scratch.write_text(self.render(color))
        scratch.replace(target)  # docker-gen writes a temporary file and renames it too

    def start(self, color: str) -> None:
        self._write(color)
        self.nginx.start("auto", self.port)

    def switch(self, color: str) -> None:
        self._write(color)
        subprocess.run(self.nginx.argv("-s", "reload"), check=True, capture_output=True)

    def stop(self) -> None:
        self.nginx.stop()


class HAProxyPeer:
    label = "haproxy (reload)"

    def __init__(self, backends: Backends):
        self.backends = backends
        self.binary = require(HAPROXY, "haproxy")
        self.dir = Path(tempfile.mkdtemp(prefix="peers-haproxy-"))
        self.cfg, self.pidfile = self.dir / "haproxy.cfg", self.dir / "haproxy.pid"
        self.port = free_port()
        self.pids: set[int] = set()  # every process we started; old ones linger until their connections end

    def render(self, color: str) -> str:
        """haproxy.cfg as a consul-template haproxy.ctmpl renders it: `{{range service "bench"}}`
        lists the service's instances as servers of one backend, chosen by Host."""
        return f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend http-in
    bind 127.0.0.1:{self.port}
    acl host_bench hdr(host) -i {HOST}
    use_backend bench if host_bench
backend bench
    balance roundrobin
    server bench-{color} {self.backends.address(color)} check
"""

    def _reload(self, color: str) -> None:
        self.cfg.write_text(self.render(color))
        old = self.pidfile.read_text().split() if self.pidfile.exists() else []
        argv = [self.binary, "-f", str(self.cfg), "-p", str(self.pidfile), "-D"]
        subprocess.run(argv + (["-sf", *old] if old else []), check=True, capture_output=True)
        self.pids.update(int(pid) for pid in self.pidfile.read_text().split())

    def start(self, color: str) -> None:
        self._reload(color)
        wait(lambda: _listening(self.port), 10, 0.01, what=f"haproxy listening on {self.port}")

    def switch(self, color: str) -> None:
        self._reload(color)

    def stop(self) -> None:
        for pid in self.pids:
            if _alive(pid, str(self.cfg)):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(_alive(pid, str(self.cfg)) for pid in self.pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.pids:
            if _alive(pid, str(self.cfg)):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
