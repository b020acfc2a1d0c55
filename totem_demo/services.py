"""Totem's own processes the demo runs: APIs under gunicorn, Celery workers, yoda-proxy, yoda-discover."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deployer.settings import DeployerSettings
from image_factory.settings import ImageFactorySettings
from totem.api import gunicorn_conf
from totem.contracts.labels import CLUSTER, selector
from totem.settings import Settings
from totem_demo import layout
from totem_demo.layout import DemoHome
from totem_demo.settings import DemoSettings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Process:
    name: str
    argv: tuple[str, ...]
    health_url: str | None = None  # answers 200 once ready
    queue: str | None = None  # a Celery worker's queue: ready once `ping` sent there is answered
    ping: str | None = None  # the worker's ping task


def _api(name: str, module: str, url: str) -> Process:
    argv = tuple(gunicorn_conf.command(module, layout.bind_of(url), "--access-logfile", "-", "--name", f"totem-{name}"))
    return Process(f"{name}-api", argv, health_url=f"{url.rstrip('/')}/health")


def _worker(name: str, module: str, queue: str, home: DemoHome, beat: bool = True) -> Process:
    """`module`'s Celery worker (with its beat schedule) on `queue`."""
    argv = [
        str(BIN / "celery"),
        "-A",
        f"{module}.worker",
        "worker",
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        "--concurrency",
        "2",
        "--loglevel",
        "INFO",
    ]
    if beat:
        argv += ["-B", "-s", str(home.root / f"{name}-beat-schedule")]
    return Process(f"{name}-worker", tuple(argv), queue=queue, ping=f"{module}.ping")


def build(settings: Settings, home: DemoHome, env: Mapping[str, str] = os.environ) -> list[Process]:
    """In start order: what receives hooks last, so nothing it calls is missing."""
    demo = DemoSettings.from_env(env)
    admin = demo.proxy_admin
    deployer_queue = DeployerSettings.read("queue", env)  # the queues the workers will read from `env`
    factory_queue = ImageFactorySettings.read("queue", env)
    return [
        Process(
            "yoda-proxy",
            (
                str(BIN / "yoda-proxy"),
                "--http",
                demo.proxy_http,
                "--https",
                demo.proxy_https,
                "--admin",
                admin,
                "--node",
                layout.PROXY_NODE,
            ),
            health_url=f"http://{admin}/healthz",
        ),
        Process(
            "yoda-discover",
            (
                str(BIN / "yoda-discover"),
                "watch",
                "--label",
                selector(CLUSTER, settings.cluster),
                "--metrics",
                demo.discover_metrics,
            ),
        ),
        _worker("deployer", "deployer", deployer_queue, home),
        _api("deployer", "deployer", settings.deployer_url),
        _worker("orchestrator", "orchestrator", "orchestrator", home),
        _api("orchestrator", "orchestrator", settings.orchestrator_url),
        _worker("image-factory", "image_factory", factory_queue, home),
        _api("image-factory", "image_factory", settings.image_factory_url),
        Process(
            "dashboard",
            tuple(
                gunicorn_conf.command("totem_dashboard", demo.dashboard, "--workers", "1", "--name", "totem-dashboard")
            ),
            health_url=f"http://{demo.dashboard}/health",
        ),
    ]
