"""Each service starts under gunicorn, answers /health against the real stack, and its worker runs tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from totem.api import create_service_app
from totem.net import free_port
from totem.settings import Settings
from totem.waiting import wait

SERVICES = ["image_factory", "orchestrator", "deployer"]
DEPENDENCIES = {
    "image_factory": {"redis", "docker"},
    "orchestrator": {"etcd", "redis"},
    "deployer": {"etcd", "redis", "docker"},
}
BIN = Path(sys.executable).parent


def service_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, TOTEM_HOOK_SECRET="test-hook-secret", TOTEM_API_TOKEN="test-token")
    env.update(extra)
    return env


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_under_gunicorn_and_reports_health(service):
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", f"{service}.app:create_app()"],
        env=service_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def health():
            try:
                return requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
            except requests.ConnectionError:
                return None

        response = wait(health, timeout=30, interval=0.2)
        body = response.json()
        assert response.status_code == 200, body
        assert body["status"] == "ok" and body["service"] == service
        assert all(check["ok"] for check in body["checks"].values())
        assert DEPENDENCIES[service] <= set(body["checks"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


@pytest.mark.parametrize("service", ["image_factory", "orchestrator"])
def test_hook_receivers_refuse_to_start_without_a_secret(service):
    env = {k: v for k, v in service_env().items() if k not in ("TOTEM_HOOK_SECRET", "TOTEM_INSECURE_DEV")}
    result = subprocess.run(
        [sys.executable, "-c", f"from {service}.app import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "set TOTEM_HOOK_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_health_is_503_when_a_dependency_is_down():
    dead = free_port()
    settings = Settings.from_env(
        {
            "TOTEM_ETCD_URL": os.environ.get("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379"),
            "TOTEM_REDIS_URL": f"redis://:hunter2pass@127.0.0.1:{dead}/0",
        }
    )
    app = create_service_app("probe", dependencies=("etcd", "redis"), settings=settings)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["etcd"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["redis"]["error"]
    assert "hunter2pass" not in response.get_data(as_text=True)


@pytest.mark.parametrize("service", SERVICES)
def test_worker_runs_tasks_through_redis_with_json_only(service, monkeypatch):
    for name, value in service_env().items():
        monkeypatch.setenv(name, value)
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            f"{service}.worker",
            "worker",
            "-Q",
            service,
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{service}@%h",
            "--loglevel",
            "WARNING",
        ],
        env=service_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        module = __import__(f"{service}.worker", fromlist=["celery"])
        app = module.celery
        assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
        assert app.conf.task_acks_late is True
        assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
        result = app.send_task(f"{service}.ping", queue=service)
        assert result.get(timeout=60) == "pong"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
