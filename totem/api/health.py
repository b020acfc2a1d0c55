"""`GET /health`: each dependency's state; 503 when any is down."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, jsonify

from totem.logs import redact
from totem.settings import Settings

Check = Callable[[], None]  # raises (or returns False) when the dependency is down


def etcd_check(settings: Settings) -> Check:
    def check() -> None:
        from totem.store import connect

        if not connect(settings.etcd_url).ping():
            raise RuntimeError("etcd does not answer")

    return check


def redis_check(settings: Settings) -> Check:
    def check() -> None:
        import redis

        redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2).ping()

    return check


def docker_check(settings: Settings) -> Check:
    def check() -> None:
        import docker

        client = docker.DockerClient(base_url=settings.docker_host, timeout=3)
        try:
            client.ping()
        finally:
            client.close()

    return check


CHECKS = {"etcd": etcd_check, "redis": redis_check, "docker": docker_check}


def run_checks(checks: dict[str, Check]) -> tuple[bool, dict]:
    results: dict[str, dict[str, bool | float | str]] = {}
    for name, check in checks.items():
        started = time.monotonic()
        try:
            ok = check() is not False
            error = None if ok else "check failed"
        except Exception as exc:  # any failure means the dependency is down
            ok, error = False, redact(f"{type(exc).__name__}: {str(exc)[:200]}")
        results[name] = {"ok": ok, "latency_ms": round((time.monotonic() - started) * 1000, 1)}
        if error:
            results[name]["error"] = error
    return all(r["ok"] for r in results.values()), results


def health_blueprint(service: str, checks: dict[str, Check]) -> Blueprint:
    blueprint = Blueprint("health", __name__)

    @blueprint.get("/health")
    def health():
        ok, results = run_checks(checks)
        body = {"service": service, "status": "ok" if ok else "degraded", "checks": results}
        return jsonify(body), 200 if ok else 503

    return blueprint
