"""Every process logs the same way: an app and a Celery worker write TOTEM_LOG_FORMAT lines, secrets masked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from totem import logs
from totem.api import create_service_app
from totem.settings import Settings

REPO = Path(__file__).resolve().parents[2]
APP_TOKEN = "app-token-5f1e9c"
WORKER_SECRET = "worker-secret-7a2b4d"

# what a worker process does at start: import the worker module (make_celery), then Celery's logging set-up
WORKER = textwrap.dedent("""
    import logging
    from totem.workers import make_celery

    celery = make_celery("unit-worker")
    celery.log.setup_logging_subsystem(loglevel="INFO")
    logging.getLogger("unit.task").info("pushing with %s", "{secret}")
""")


def test_an_app_logs_in_the_configured_format_with_its_token_masked(capsys):
    app = create_service_app("unit-app", dependencies=(), settings=Settings(log_format="kv", api_token=APP_TOKEN))

    @app.get("/talk")
    def talk():
        logging.getLogger("unit.route").info("called with %s", APP_TOKEN)
        return {}

    app.test_client().get("/talk", headers={"X-Request-Id": "req-42"})
    line = next(line for line in capsys.readouterr().err.splitlines() if "unit.route" in line)
    assert line.startswith("ts=") and " level=info service=unit-app logger=unit.route " in line
    assert 'msg="called with ***"' in line and "request_id=req-42" in line and APP_TOKEN not in line


def test_a_worker_logs_in_the_configured_format_with_its_secret_masked():
    env = {
        **os.environ,
        "TOTEM_LOG_FORMAT": "json",
        "TOTEM_HOOK_SECRET": WORKER_SECRET,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER.format(secret=WORKER_SECRET)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in result.stderr.splitlines()]
    said = next(r for r in records if r["logger"] == "unit.task")
    assert (said["service"], said["level"], said["msg"]) == ("unit-worker", "info", "pushing with ***")
    assert WORKER_SECRET not in result.stderr


def test_bootstrap_again_keeps_one_handler_and_spares_the_others():
    root = logging.getLogger()
    other = logging.NullHandler()
    root.addHandler(other)
    try:
        logs.bootstrap("first", Settings())
        logs.bootstrap("second", Settings(log_format="kv"))
        ours = [h for h in root.handlers if isinstance(h.formatter, logs.JsonFormatter)]
        assert len(ours) == 1 and ours[0].formatter.service == "second"
        assert isinstance(ours[0].formatter, logs.KeyValueFormatter) and other in root.handlers
    finally:
        root.removeHandler(other)
