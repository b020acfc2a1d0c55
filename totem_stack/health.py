"""Health checks: does something answer on an address the way the service would."""

from __future__ import annotations

import socket

import docker
import redis
import requests

_http = requests.Session()
_http.trust_env = False  # loopback only: never through a proxy from the environment

# Oldest API every dockerd still speaks; avoids a version round trip before the ping.
_DOCKER_API = "1.24"


def http_status(url: str) -> int | None:
    try:
        return _http.get(url, timeout=1).status_code
    except requests.RequestException:
        return None


def etcd(client_url: str) -> bool:
    try:
        response = _http.get(f"{client_url}/health", timeout=1)
        return response.status_code == 200 and response.json().get("health") == "true"
    except (requests.RequestException, ValueError):
        return False


def redis_ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def docker_ping(base_url: str) -> bool:
    try:
        client = docker.APIClient(base_url=base_url, version=_DOCKER_API, timeout=2)
    except docker.errors.DockerException:
        return False
    client.trust_env = False
    try:
        return bool(client.ping())
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return False
    finally:
        client.close()


def registry(base_url: str) -> bool:
    return http_status(f"{base_url}/v2/") == 200


def moto(base_url: str) -> bool:
    return http_status(f"{base_url}/moto-api/") is not None


def syslog(host: str, port: int) -> bool:
    """The collector accepts a TCP connection (one that sends nothing leaves no line behind)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def prometheus(base_url: str) -> bool:
    return http_status(f"{base_url}/-/ready") == 200
