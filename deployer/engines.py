"""Docker clients from host URLs: the one place the deployer makes them.

- `unix://` (and `npipe://`) sockets and loopback `tcp://` as they are;
- `tcp://ADDR:PORT` with client certificates under TOTEM_DOCKER_CERTS (`<dir>/<ADDR>/` when that
  directory exists, else `<dir>/`; Docker's DOCKER_CERT_PATH names ca.pem, cert.pem, key.pem):
  TLS, the server verified against ca.pem (its certificate must name ADDR, IP SANs included);
- `ssh://user@host`: through the `ssh` binary (deployer/dial_stdio.py), keys and known hosts from
  ssh's own config;
- a plain `tcp://` or `http://` host that is not loopback is refused, since anyone who reaches its
  port owns the host, unless TOTEM_DOCKER_INSECURE=1. The refusal comes before any connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import docker
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.tls import TLSConfig

from deployer import dial_stdio
from totem.settings import SettingsError

CERT_FILES = ("ca.pem", "cert.pem", "key.pem")
SCHEMES = ("unix", "npipe", "ssh", "tcp", "http", "https")
PLAIN = ("tcp", "http")  # schemes that may go over TLS only with certificates


class EngineRefused(SettingsError):
    """A Docker host the deployer must not talk to; the message says why and what to set."""


@dataclass(frozen=True)
class Access:
    """How the deployer may reach engines (TOTEM_DOCKER_CERTS, TOTEM_DOCKER_INSECURE)."""

    certs: str | None = None
    insecure: bool = False


def _split(url: str) -> SplitResult:
    return urlsplit(url if "://" in url else f"tcp://{url}")  # Docker reads a bare host:port as tcp


def address(url: str) -> str:
    """The address instances on that host are reached at: its host name, loopback for a socket."""
    parts = _split(url)
    return (parts.hostname or "127.0.0.1") if parts.scheme in ("ssh", *PLAIN, "https") else "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: only "localhost" is known to be this machine
        return False


def cert_files(url: str, certs: str | None) -> tuple[str, str, str] | None:
    """(ca, cert, key) for a tcp host, or None; EngineRefused when its own directory lacks one."""
    host = _split(url).hostname
    if not certs or not host:
        return None
    root = Path(certs)
    folder = root / host if (root / host).is_dir() else root
    ca, cert, key = (folder / name for name in CERT_FILES)
    if ca.is_file() and cert.is_file() and key.is_file():
        return str(ca), str(cert), str(key)
    if folder != root:
        raise EngineRefused(f"refusing Docker host {url}: {folder} must hold {', '.join(CERT_FILES)}")
    return None


def refusal(url: str, access: Access) -> str | None:
    """Why the deployer must not talk to `url` (one line), or None."""
    parts = _split(url)
    if parts.scheme not in SCHEMES:
        return f"refusing Docker host {url}: the scheme must be one of {', '.join(SCHEMES)}"
    if parts.scheme not in PLAIN or access.insecure or is_loopback(parts.hostname or ""):
        return None
    try:
        if cert_files(url, access.certs):
            return None
    except EngineRefused as exc:
        return str(exc)
    return (
        f"refusing Docker host {url}: plain tcp to a host that is not loopback gives it to anyone who "
        f"reaches the port; put its TLS client certificates ({{ca,cert,key}}.pem) in "
        f"TOTEM_DOCKER_CERTS/{parts.hostname}/ (or TOTEM_DOCKER_CERTS/), or set TOTEM_DOCKER_INSECURE=1"
    )


def refuse_unsafe(urls: Iterable[str], access: Access) -> None:
    """EngineRefused for the first host the deployer must not talk to."""
    for url in urls:
        reason = refusal(url, access)
        if reason:
            raise EngineRefused(reason)


def connect(url: str, access: Access, timeout: float) -> docker.DockerClient:
    """A client for `url` (it asks the engine its API version: a first round trip). Refused hosts
    raise EngineRefused before anything is opened."""
    refuse_unsafe([url], access)
    parts = _split(url)
    if parts.scheme == "ssh":
        return dial_stdio.client(dial_stdio.ssh_argv(url), timeout)
    files = cert_files(url, access.certs) if parts.scheme in (*PLAIN, "https") else None
    if files is None:
        return docker.DockerClient(base_url=url, tls=parts.scheme == "https", timeout=timeout)
    ca, cert, key = files
    tls = TLSConfig(client_cert=(cert, key), ca_cert=ca, verify=True)

    def made(version: str) -> docker.DockerClient:
        # docker reads http:// as plain whatever tls says: tcp:// goes over TLS
        client = docker.DockerClient(base_url=f"tcp://{parts.netloc}", tls=tls, timeout=timeout, version=version)
        client.api.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, stands in for ca.pem (requests' rule)
        return client

    asking = made(MINIMUM_DOCKER_API_VERSION)  # the engine's API version, asked with ca.pem too
    try:
        return made(asking.version(api_version=False)["ApiVersion"])
    finally:
        asking.close()
