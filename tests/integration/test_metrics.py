"""Every Totem process's /metrics scraped by a real Prometheus (docs/metrics.md): the orchestrator,
deployer and image factory APIs under gunicorn (two workers each), their Celery workers (prefork,
two children each) and yoda-discover announce their metrics in etcd under a private prefix; the
stack's targets writer turns those registrations into file_sd; Prometheus reports every target `up`,
and every /metrics parses with Prometheus' text parser. A hook sent to the orchestrator is counted
by the API that took it and, once its worker's fork processed the job, by that worker."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.deployer.harness import Process
from tests.fixtures.prometheus import PrivatePrometheus
from tests.support import private_services_env
from totem import signatures
from totem.api import gunicorn_conf
from totem.contracts import services
from totem.contracts.labels import CLUSTER, selector
from totem.net import free_port
from totem.settings import Settings
from totem.store import connect
from totem.waiting import wait
from totem_stack import prometheus as prom

REDIS_URL = "redis://127.0.0.1:6379/7"  # this test's own database
RUN = uuid.uuid4().hex[:8]
ROOT = f"/test-metrics-{RUN}/"
PREFIX = f"{ROOT}{services.SERVICES}"  # where YODA_BASE={ROOT}yoda puts the registrations
TOKEN, SECRET = f"metrics-token-{RUN}", f"metrics-secret-{RUN}"
APIS = ("orchestrator", "deployer", "image_factory")
EXPECTED = {*APIS, *(f"{name}-worker" for name in APIS), "yoda-discover"}
BIN = Path(sys.executable).parent
http = requests.Session()
http.trust_env = False  # loopback only


def _env(work: Path) -> dict[str, str]:
    return private_services_env(
        RUN,
        ROOT,
        REDIS_URL,
        TOKEN,
        SECRET,
        work,
        TOTEM_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        TOTEM_SYSLOG_URL="",
        TOTEM_SERVICES_TTL="5",  # the workers' metrics binds: free ports (private_services_env)
    )


def _worker(name: str, queue: str, env: dict[str, str], work: Path) -> Process:
    argv = [str(BIN / "celery"), "-A", f"{name}.worker", "worker", "-Q", queue, "-c", "2", "-n", f"{name}-{RUN}@%h"]
    argv += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
    return Process(argv, env, work / f"{name}-worker.log")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("metrics")
    env = _env(work)
    store = connect(Settings.from_env(env).etcd_url)
    queues = {
        "orchestrator": "orchestrator",
        "deployer": env["TOTEM_DEPLOYER_QUEUE"],
        "image_factory": env["TOTEM_IMAGE_FACTORY_QUEUE"],
    }
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in APIS}
    processes = [
        Process(gunicorn_conf.command(name, urls[name][7:], "--graceful-timeout", "2"), env, work / f"{name}.log")
        for name in APIS
    ]
    processes += [_worker(name, queues[name], env, work) for name in APIS]
    discover = [sys.executable, "-m", "yoda_discover", "watch", "--etcd", store.url, "--base", f"{ROOT}yoda"]
    discover += ["--label", selector(CLUSTER, f"c{RUN}"), "--no-ship-logs", "--metrics", "127.0.0.1:0"]
    processes.append(Process(discover, env, work / "discover.log"))
    stop = threading.Event()
    services_file = work / "targets" / "totem-services.json"
    writer = threading.Thread(
        target=prom.keep_targets,
        args=(store, f"{ROOT}yoda", work / "targets" / "yoda-proxies.json", stop, 1.0, PREFIX, services_file),
        daemon=True,
    )
    prometheus = PrivatePrometheus([], work / "prometheus", services_file=services_file)
    try:
        for process in processes:
            process.start()
        writer.start()
        prometheus.start()
        yield {"store": store, "urls": urls, "prometheus": prometheus}
    finally:
        with ThreadPoolExecutor(len(processes)) as stopping:  # each waits for its own pid, all at once
            list(stopping.map(Process.stop, processes))
        stop.set()
        writer.join(10)
        prometheus.stop()
        store.delete_prefix(ROOT)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{RUN}*"):
            client.delete(key)
        client.delete("orchestrator")


def registered(store) -> dict[str, str]:
    """service → the metrics address it announced."""
    found = {}
    for key, value in store.list(services.services_prefix(PREFIX)).items():
        parsed, registration = services.parse_service_key(PREFIX, key), services.parse_registration(value)
        if parsed and registration:
            found[parsed[0]] = str(registration["metrics"])
    return found


def samples(address: str) -> dict[tuple[str, tuple], float]:
    text = http.get(f"http://{address}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def totem_targets(prometheus) -> dict[str, str]:
    """service → health of the `totem` job's active targets."""
    return {
        target["labels"].get("service", ""): target["health"]
        for target in prometheus.active_targets()
        if target["labels"].get("job") == prom.SERVICES_JOB
    }


def test_prometheus_scrapes_every_registered_service(stack):
    store, prometheus = stack["store"], stack["prometheus"]
    addresses = wait(
        lambda: (found := registered(store)).keys() >= EXPECTED and found, 40, 0.2, what=f"{EXPECTED} registered"
    )
    wait(
        lambda: all(totem_targets(prometheus).get(name) == "up" for name in EXPECTED),
        30,
        0.3,
        what="every target up",
        ignoring=(requests.RequestException,),
    )
    for name in EXPECTED:
        shown = samples(addresses[name])  # parses, or raises
        assert ("totem_store_errors_total", (("store", "etcd"),)) in shown, name
    for name in APIS:
        assert any(key[0] == "totem_celery_queue_depth" for key in samples(addresses[f"{name}-worker"]))


def test_a_hook_is_counted_by_the_api_and_its_job_by_the_worker(stack):
    addresses = registered(stack["store"])
    body = json.dumps(
        {
            "git": {
                "owner": "acme",
                "repo": f"metrics{RUN}",
                "ref": "master",
                "commit": uuid.uuid4().hex + uuid.uuid4().hex[:8],
            },
            "type": "ci",
            "name": "local-ci",
            "status": "success",
        }
    ).encode()
    headers = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(SECRET, body)}
    answer = http.post(f"{stack['urls']['orchestrator']}/hooks/generic", data=body, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    hooks = ("totem_hooks_received_total", (("outcome", "accepted"), ("service", "orchestrator"), ("type", "ci")))
    assert samples(addresses["orchestrator"]).get(hooks) == 1.0  # whichever of the two forks answers the scrape

    def worker_counted() -> bool:
        shown = samples(addresses["orchestrator-worker"])
        return any(key[0] == "totem_job_transitions_total" and value >= 1 for key, value in shown.items())

    wait(worker_counted, 30, 0.3, what="the worker's job transitions counted")
