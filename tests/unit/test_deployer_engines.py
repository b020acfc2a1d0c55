"""Which Docker hosts the deployer talks to and how (deployer/engines.py): a plain-tcp engine that is
not loopback refused at startup, before any connection, by the API app and the worker alike, with
one line naming the host and the two ways out; certificates looked up per host; ssh:// through the
ssh binary and `docker system dial-stdio`; hosts that do not answer reported, not waited on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deployer import dial_stdio
from deployer.app import create_app
from deployer.engine_pool import EnginePool
from deployer.engines import Access, cert_files, refusal
from deployer.settings import DeployerSettings, load_or_exit
from totem.settings import Settings

REMOTE = "tcp://10.213.0.11:2375"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempted in this process, other than to a unix socket, fails the test."""
    attempts: list = []
    real = socket.socket.connect

    def connect(sock, address):
        if sock.family != socket.AF_UNIX:
            attempts.append(address)
            raise AssertionError(f"a connection to {address}")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    return attempts


def refused_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    "env",
    [
        {"TOTEM_DOCKER_HOSTS": f"unix:///var/run/docker.sock,{REMOTE}"},
        {"DOCKER_HOST": REMOTE},  # the docker scheduler's default host and the swarm's
        {"TOTEM_SWARM_HOST": "http://10.213.0.12:2375"},
    ],
)
def test_a_plain_remote_engine_is_refused_at_startup_without_a_connection(env, capsys, no_network):
    settings = Settings.from_env(env)
    with pytest.raises(SystemExit) as exit_:
        load_or_exit(settings, DeployerSettings.from_env(env))
    assert exit_.value.code == 2
    line = refused_line(capsys)
    host = next(iter(env.values())).split(",")[-1]
    assert line.startswith(f"deployer: configuration error: refusing Docker host {host}: plain tcp")
    assert "TOTEM_DOCKER_CERTS" in line and "TOTEM_DOCKER_INSECURE=1" in line
    assert no_network == []


def test_the_api_app_is_not_created_for_a_refused_engine(capsys, no_network):
    env = {"TOTEM_DOCKER_HOSTS": REMOTE, "TOTEM_API_TOKEN": "t"}
    with pytest.raises(SystemExit) as exit_:
        create_app(Settings.from_env(env), DeployerSettings.from_env(env))
    assert exit_.value.code == 2 and REMOTE in refused_line(capsys)
    assert no_network == []


def test_the_worker_does_not_start_for_a_refused_engine():
    env = {**os.environ, "TOTEM_DOCKER_HOSTS": REMOTE, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "celery", "-A", "deployer.worker", "worker", "-Q", "refused", "--pool", "solo"]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"deployer: configuration error: {refusal(REMOTE, Access())}"]


@pytest.mark.parametrize(
    "url,access",
    [
        ("unix:///var/run/docker.sock", Access()),
        ("tcp://127.0.0.1:2375", Access()),
        ("tcp://localhost:2375", Access()),
        ("tcp://[::1]:2375", Access()),
        ("ssh://deploy@10.213.0.11", Access()),
        ("https://10.213.0.11:2376", Access()),  # TLS with the system's CAs
        (REMOTE, Access(insecure=True)),
    ],
)
def test_sockets_loopback_ssh_tls_and_the_insecure_switch_are_allowed(url, access):
    assert refusal(url, access) is None


def test_a_host_name_is_not_taken_for_loopback_and_odd_schemes_are_refused():
    assert "plain tcp" in (refusal("tcp://docker.internal:2375", Access()) or "")
    assert "plain tcp" in (refusal("10.213.0.11:2375", Access()) or "")  # Docker reads it as tcp
    assert "scheme must be one of" in (refusal("fd://", Access()) or "")


def write_certs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / name).write_text(f"{name}\n")
    return folder


def test_certificates_are_looked_up_for_the_host_first_then_shared(tmp_path):
    files = ("ca.pem", "cert.pem", "key.pem")
    own, shared = write_certs(tmp_path / "10.213.0.11"), write_certs(tmp_path)
    assert cert_files("tcp://10.213.0.11:2376", str(tmp_path)) == tuple(str(own / n) for n in files)
    assert cert_files("tcp://10.213.0.12:2376", str(tmp_path)) == tuple(str(shared / n) for n in files)
    assert refusal("tcp://10.213.0.12:2376", Access(certs=str(tmp_path))) is None  # certificates: TLS, allowed
    assert cert_files("tcp://10.213.0.12:2376", None) is None


def test_a_host_directory_missing_a_file_is_refused_not_taken_for_plain(tmp_path):
    (tmp_path / "10.213.0.11").mkdir()
    (tmp_path / "10.213.0.11" / "ca.pem").write_text("ca\n")
    write_certs(tmp_path)  # the shared ones must not stand in for the host's own, half made
    reason = refusal(REMOTE, Access(certs=str(tmp_path))) or ""
    assert reason == f"refusing Docker host {REMOTE}: {tmp_path / '10.213.0.11'} must hold ca.pem, cert.pem, key.pem"


def test_ssh_goes_through_the_ssh_binary_and_dial_stdio():
    argv = dial_stdio.ssh_argv("ssh://deploy@10.213.0.11:2222")
    assert argv[0] == "ssh" and "BatchMode=yes" in argv
    assert argv[-4:] == ["deploy@10.213.0.11", "docker", "system", "dial-stdio"]
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("--") + 1] == "deploy@10.213.0.11"


def test_a_dial_stdio_client_reaches_a_real_engine(settings):
    """The transport ssh hosts use, with the local docker CLI in ssh's place (DOCKER_HOST: the stack's)."""
    client = dial_stdio.client(["docker", "-H", settings.docker_host, "system", "dial-stdio"], 10)
    try:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == client.api.api_version
    finally:
        client.close()


def test_hosts_that_do_not_answer_are_reported(settings, tmp_path):
    gone = f"unix://{tmp_path}/gone.sock"
    no_sshd = "ssh://nobody@127.0.0.1:1"  # a closed loopback port: ssh fails at once
    pool = EnginePool(Access())
    assert pool.answering([settings.docker_host, gone, no_sshd]) == ([settings.docker_host], [gone, no_sshd])
    with pool.reaching(settings.docker_host):
        raise ConnectionError("the host went away mid-call")
    assert pool.answering([settings.docker_host]) == ([], [settings.docker_host])  # until its next ping
    assert pool.answering([settings.docker_host], fresh=True) == ([settings.docker_host], [])
