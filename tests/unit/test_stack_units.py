"""Pure helpers of `totem stack`: addresses from settings, commands, package checks."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import pytest
import yaml

from totem.settings import Settings
from totem_stack import packages, process, services
from totem_stack.cli import parse_only


@pytest.mark.parametrize(
    "value, default, expected",
    [
        ("etcd://127.0.0.1:12379", 2379, ("127.0.0.1", 12379)),
        ("etcd2://127.0.0.1", 2379, ("127.0.0.1", 2379)),
        ("redis://:secret@127.0.0.1:6380/1", 6379, ("127.0.0.1", 6380)),
        ("127.0.0.1:15000", 5000, ("127.0.0.1", 15000)),
        ("http://[::1]:5001", 80, ("::1", 5001)),
    ],
)
def test_host_port(value, default, expected):
    assert services.host_port(value, default) == expected


def test_join_host_port_brackets_ipv6():
    assert services.join_host_port("::1", 5001) == "[::1]:5001"
    assert services.join_host_port("127.0.0.1", 5001) == "127.0.0.1:5001"


def _build(tmp_path, **env) -> dict[str, services.Service]:
    settings = Settings.from_env({"TOTEM_HOME": str(tmp_path), **env})
    return {service.name: service for service in services.build(settings)}


def test_defaults_come_from_settings(tmp_path):
    built = _build(tmp_path)
    assert [s.address for s in built.values()] == [
        "127.0.0.1:2379",
        "127.0.0.1:6379",
        "unix:///var/run/docker.sock",
        "127.0.0.1:5000",
        "127.0.0.1:5001",
        "/yoda/proxy-nodes/",
        "127.0.0.1:9090",
        "tcp://127.0.0.1:5514",
    ]
    assert built["moto"].argv == (str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", "5001")


def test_ports_come_from_settings(tmp_path):
    built = _build(
        tmp_path,
        TOTEM_ETCD_URL="etcd://127.0.0.1:12379",
        TOTEM_REDIS_URL="redis://127.0.0.1:16379/0",
        TOTEM_REGISTRY="127.0.0.1:15000",
        AWS_ENDPOINT_URL="http://127.0.0.1:15001",
        TOTEM_PROMETHEUS_URL="http://127.0.0.1:19090",
    )
    etcd = built["etcd"].argv
    assert etcd[etcd.index("--listen-peer-urls") + 1] == "http://127.0.0.1:12380"
    assert "--enable-v2=true" in etcd and "--auto-compaction-retention=1h" in etcd  # history kept an hour
    redis_conf = next(iter(built["redis"].files.values()))
    assert "bind 127.0.0.1\nport 16379\n" in redis_conf and "appendonly yes" in redis_conf
    registry = yaml.safe_load(next(iter(built["registry"].files.values())))
    assert registry["http"]["addr"] == "127.0.0.1:15000"
    storage = registry["storage"]["filesystem"]["rootdirectory"]
    assert storage == str(tmp_path / "registry" / "storage")
    assert built["moto"].tcp == ("127.0.0.1", 15001)
    assert built["prometheus"].tcp == ("127.0.0.1", 19090)
    assert "--web.listen-address=127.0.0.1:19090" in built["prometheus"].argv
    targets = tmp_path / "prometheus" / "targets" / "yoda-proxies.json"
    registered = targets.with_name("totem-services.json")  # the registrations' file_sd (docs/metrics.md)
    assert built["prometheus_targets"].argv[-2:] == (str(targets), str(registered))
    config = next(iter(built["prometheus"].files.values()))
    assert str(targets) in config and str(registered) in config  # the files Prometheus reads


def test_only_loopback_services_are_started(tmp_path):
    built = _build(tmp_path, TOTEM_ETCD_URL="etcd://10.1.2.3:2379", DOCKER_HOST="tcp://127.0.0.1:2375")
    assert not built["etcd"].local
    assert built["docker"].local and built["docker"].tcp == ("127.0.0.1", 2375)


def test_docker_exec_root_stays_short():
    home = Path("/home/dev/.totem")
    assert services.docker_exec_root(home) == home / "docker" / "exec"
    long_home = Path("/tmp") / ("x" * 80)
    short = services.docker_exec_root(long_home)
    assert short.parent == Path("/run") and short.name.startswith("totem-")
    assert short == services.docker_exec_root(long_home)


def test_parse_only():
    assert parse_only("etcd, redis") == ("etcd", "redis")
    with pytest.raises(argparse.ArgumentTypeError, match="nope"):
        parse_only("etcd,nope")


def test_missing_packages_print_the_install_line_when_not_root():
    out = io.StringIO()
    required = {"no-such-package": "no-such-binary-for-totem", "coreutils": "ls"}
    assert packages.ensure(required, out, as_root=False) is False
    assert "apt-get update && apt-get install -y --no-install-recommends no-such-package" in out.getvalue()


def test_present_packages_need_no_apt():
    out = io.StringIO()
    assert packages.ensure({"coreutils": "ls"}, out, as_root=True) is True
    assert out.getvalue() == ""


def test_pid_files(tmp_path):
    pid_file = tmp_path / "run" / "x.pid"
    assert process.read_pid(pid_file) is None
    process.write_pid(pid_file, 4242)
    assert process.read_pid(pid_file) == 4242
    pid_file.write_text("garbage")
    assert process.read_pid(pid_file) is None
