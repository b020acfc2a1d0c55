"""Log shipping (docs/logging.md) with a real rsyslogd and real engines: what an instance prints
reaches the collector's file for its app with its labels, on the `docker` scheduler (the shared
engine) and the `swarm` scheduler (a private single-node swarm); with the collector stopped the
instance keeps serving and the lines it printed meanwhile arrive once the collector is back; over
TLS (RFC 5425) too. The shipper is the deploy stack's own `yoda-discover watch`; the destination is TOTEM_SYSLOG_URL."""

from __future__ import annotations

import shlex
import socket
import ssl
import subprocess
import threading
import uuid
from datetime import UTC, datetime

import docker
import pytest
import requests

from deployer import fleet_units, log_buffer
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.deployer.private_swarm import PrivateSwarm
from tests.fixtures.logging import images
from tests.fixtures.logging.collector import Collector, gnutls_driver
from totem import rfc5424, syslog_url
from totem.contracts.labels import DEPLOYMENT, SYSLOG, selector
from totem.waiting import wait
from totem_cluster.certs import Authority
from yoda_discover.syslog_sender import Sender


@pytest.fixture(scope="module")
def collector():
    made = Collector().start()
    yield made
    made.remove()


def quiet_request(app: str, image: str, nodes: int = 1) -> dict:
    """One instance with no proxy routes: nothing waits on a proxy, the instance answers on its port."""
    request = deploy_request(app, "v1", image, f"{app}.localhost", nodes=nodes)
    request["proxy"] = {}
    request["deployment"]["check"].update({"min-nodes": nodes, "port": None, "path": "/health"})
    return request


def promoted(stack: DeployerStack, request: dict) -> dict:
    response = stack.deploy(request)
    assert response.status_code == 202, response.get_json()
    record = stack.wait_finished(response.get_json()["deployment"]["id"], timeout=90)
    assert record["state"] == "PROMOTED", (record, stack.logs())
    return record


def shipped(collector: Collector, app: str, wanted: str, timeout: float = 20):
    return wait(
        lambda: next((s for s in collector.lines(app) if s.message == wanted), None),
        timeout,
        what=f"{wanted!r} of {app} in the collector",
    )


@pytest.fixture(scope="module")
def docker_stack(collector):
    client = docker.DockerClient(base_url=DeployerStack.settings_docker_host(), timeout=60)
    stack = DeployerStack(client, with_proxy=False, environment={"TOTEM_SYSLOG_URL": collector.url}).start()
    yield stack
    stack.stop()
    client.close()


def test_docker_instance_lines_reach_the_collector_with_labels(docker_stack, collector):
    stack, client = docker_stack, docker_stack.docker
    tag = images.build(client)
    app = f"lg-{uuid.uuid4().hex[:8]}"
    record = promoted(stack, quiet_request(app, tag))
    (node,) = record["instances"]
    container = client.containers.get(node)
    assert container.labels[SYSLOG] == collector.url
    assert container.attrs["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": log_buffer.OPTIONS}

    line = shipped(collector, app, "tick 3")
    host = client.info()["Name"]
    assert (line.app, line.host, line.node) == (app, host, node)
    assert line.labels == {
        "app": app,
        "version": "v1",
        "node": node,
        "deployment": record["id"],
        "cluster": stack.cluster,
        "host": host,
        "stream": "stdout",
    }
    assert shipped(collector, app, "oops 10").labels["stream"] == "stderr"

    # the collector goes away: the instance keeps serving, its lines wait in its Docker log
    port = record["instances"][node]["port"]
    collector.stop()
    down_from = datetime.now(UTC).timestamp()
    wait(lambda: b"tick" in container.logs(since=down_from), 10, what="lines printed while the collector is down")
    for _ in range(5):
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text.strip() == "ok"
    meanwhile = [line.decode() for line in container.logs(stdout=True, stderr=False, since=down_from).splitlines()]
    assert meanwhile and not set(meanwhile) & collector.messages(app)

    collector.start()
    wait(lambda: set(meanwhile) <= collector.messages(app), 30, what="the lines printed meanwhile shipped")
    stored = [s.message for s in collector.lines(app) if s.labels.get("stream") == "stdout"]
    ticks = [int(m.split()[1]) for m in stored]
    assert ticks == sorted(ticks), "lines are stored in the order they were printed"
    assert stack.client.delete(f"/apps/{app}", headers=stack.headers()).status_code == 202
    wait(lambda: not client.containers.list(all=True, filters={"label": selector(DEPLOYMENT, record["id"])}), 60)


def test_swarm_instance_lines_reach_the_collector_with_labels(collector):
    swarm = PrivateSwarm().start()
    stack = None
    try:
        tag = images.build(swarm.client)
        stack = DeployerStack(
            swarm.client,
            with_proxy=False,
            scheduler="swarm",
            swarm_host=swarm.socket,
            environment={"TOTEM_SYSLOG_URL": collector.url},
        ).start()
        app = f"lgs-{uuid.uuid4().hex[:8]}"
        record = promoted(stack, quiet_request(app, tag))
        (node,) = record["instances"]
        (service,) = swarm.client.services.list(filters={"label": selector(DEPLOYMENT, record["id"])})
        spec = service.attrs["Spec"]["TaskTemplate"]
        assert spec["ContainerSpec"]["Labels"][SYSLOG] == collector.url
        assert spec["LogDriver"] == {"Name": "json-file", "Options": log_buffer.OPTIONS}
        line = shipped(collector, app, "tick 2")
        assert line.labels["app"] == app and line.labels["node"] == node
        assert line.labels["deployment"] == record["id"] and line.labels["stream"] == "stdout"
        assert line.host == swarm.client.info()["Name"]
    finally:
        if stack is not None:
            stack.stop()
        swarm.stop()


def test_fleet_logger_sidekick_flags_reach_the_collector(collector):
    """The rendered logger unit's `logger` command, fed a line, stores it with the labels (there is
    no fleet here: the unit's own command line is run, `docker logs` replaced by the line)."""
    record = {
        "id": "flt-v1-1",
        "app": "flt",
        "version": "v1",
        "cluster": "local",
        "upstream": "flt-v1-8080",
        "spec": {"image": "x", "nodes": 1, "stop_timeout": 2, "check_path": "/", "syslog": collector.url},
        "request": {"environment": {}},
    }

    class Options:
        fleet_templates = None
        discover_image = "totem/yoda-discover"

    class Settings:
        etcd_url, yoda_base = "etcd://127.0.0.1:2379", "/yoda"

    unit = fleet_units.render(record, Settings(), Options(), 8080)["logger"]
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    shell = shlex.split(exec_start.removeprefix("ExecStart="))[2]
    logger = shell.split(" | exec ", 1)[1].replace("%i", "1").replace("%H", "fleet-host")
    subprocess.run(shlex.split(logger), input=b"hello from fleet\n", check=True, timeout=10)
    line = shipped(collector, "flt", "hello from fleet")
    assert line.labels == {
        "app": "flt",
        "version": "v1",
        "node": "flt-v1-1-1",
        "host": "fleet-host",
        "deployment": "flt-v1-1",
    }


def test_tls_collector_takes_lines_over_one_connection_and_a_wrong_ca_sends_nothing(tmp_path):
    """RFC 5425: the shipper's sender to an rsyslogd serving TLS (its GnuTLS driver). Several lines
    go over one connection (a TLS 1.3 server's session tickets are no reason to reconnect); a sender
    that does not trust the collector's certificate sends nothing."""
    if not gnutls_driver():
        pytest.skip("rsyslogd's TLS driver is not installed (Debian package rsyslog-gnutls)")
    tls = Collector(tls=True).start()
    try:
        app = f"tls-{uuid.uuid4().hex[:8]}"
        sd = rfc5424.structured_data(rfc5424.ENTERPRISE_ID, {"app": app, "stream": "stdout"})

        def line(text: str) -> bytes:
            stamp = rfc5424.timestamp(datetime.now(UTC))
            return rfc5424.frame(rfc5424.message(text.encode(), stamp=stamp, hostname="h1", app=app, sd=sd))

        sender = Sender(syslog_url.parse(tls.url), ca_file=tls.ca_file)
        try:
            for n in range(3):
                assert sender.send(line(f"secret line {n}"))
                if n == 0:
                    shipped(tls, app, "secret line 0")  # the server has spoken by now: tickets included
            opened = sender._sock
            assert sender.send(line("secret line 3")) and sender._sock is opened, "one connection"
        finally:
            sender.close()
        assert shipped(tls, app, "secret line 3").labels == {"app": app, "stream": "stdout"}

        other = Collector(tls=True)  # another CA, never started: only its CA file is used
        try:
            untrusting = Sender(syslog_url.parse(tls.url), ca_file=other.ca_file)
            assert not untrusting.send(line("never stored"))
            untrusting.close()
        finally:
            other.remove()
        assert "never stored" not in tls.messages(app)
    finally:
        tls.remove()


def test_a_tls_servers_session_tickets_do_not_break_the_connection(tmp_path):
    """A TLS 1.3 server (OpenSSL's, here) sends session tickets after the handshake: the socket turns
    readable with no data and no end, which is no reason to drop the connection."""
    issued = Authority(tmp_path).issue(tmp_path, "collector", server_ip="127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued / "cert.pem", issued / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    received, connections = bytearray(), []

    def serve() -> None:
        with context.wrap_socket(listener.accept()[0], server_side=True) as conn:
            connections.append(conn)
            while chunk := conn.recv(4096):
                received.extend(chunk)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    sender = Sender(syslog_url.parse(f"tls://127.0.0.1:{listener.getsockname()[1]}"), ca_file=str(issued / "ca.pem"))
    try:
        for n in range(3):
            assert sender.send(rfc5424.frame(f"line {n}".encode()))
            wait(lambda n=n: f"line {n}".encode() in received, 10, what=f"line {n} received")
    finally:
        sender.close()
        server.join(10)
        listener.close()
    assert len(connections) == 1 and received == b"".join(rfc5424.frame(f"line {n}".encode()) for n in range(3))
