"""The buffer of an instance's output (docs/logging.md): Docker's json-file log, bounded.

The host's log shipper (yoda-discover watch) reads each line from this file and keeps a cursor; while
the collector is away the lines wait here, and `docker logs` reads them as always. Docker rotates the
file at MAX_SIZE and keeps MAX_FILES of them: at most MAX_SIZE x MAX_FILES of output per instance,
the oldest lines dropped first once an outage outlasts it.
"""

from __future__ import annotations

from docker.types import LogConfig

DRIVER = "json-file"
MAX_SIZE = "10m"
MAX_FILES = 5
OPTIONS = {"max-size": MAX_SIZE, "max-file": str(MAX_FILES)}


def container_log_config() -> LogConfig:
    """For `containers.create(log_config=...)` (the docker scheduler)."""
    return LogConfig(type=DRIVER, config=dict(OPTIONS))


def service_log_driver() -> dict:
    """The keywords of `services.create` (the swarm scheduler) that give each task the same log."""
    return {"log_driver": DRIVER, "log_driver_options": dict(OPTIONS)}
