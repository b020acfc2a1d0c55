"""`yoda-discover --host-ip swarm` and `yoda-proxy --advertise swarm` (totem/swarm_node.py): the
address a node advertises in its swarm, from `docker info` (the rig's engines answer it in
tests/cluster/test_totem_on_swarm.py)."""

from __future__ import annotations

import pytest

from totem.swarm_node import resolve, swarm_address
from yoda_discover.cli import main
from yoda_proxy import cli as proxy_cli


def test_an_active_node_gives_its_swarm_node_address():
    info = {"Swarm": {"LocalNodeState": "active", "NodeAddr": "10.213.0.12", "NodeID": "x"}}
    assert swarm_address(info) == "10.213.0.12"


@pytest.mark.parametrize("swarm", [{"LocalNodeState": "inactive", "NodeAddr": ""}, {"LocalNodeState": "pending"}, {}])
def test_an_engine_that_is_no_active_swarm_node_is_refused_with_its_state(swarm):
    with pytest.raises(ValueError, match="not an active swarm node"):
        swarm_address({"Swarm": swarm})


def test_an_address_given_is_used_as_it_is_without_asking_an_engine():
    assert resolve("10.0.0.5", "unix:///nonexistent/docker.sock", "--host-ip") == "10.0.0.5"


def test_an_engine_that_does_not_answer_stops_yoda_discover_with_one_line(capsys):
    assert main(["watch", "--host-ip", "auto", "--docker-host", "unix:///nonexistent/docker.sock"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yoda-discover: --host-ip auto: cannot ask the Docker engine at unix:///nonexistent")
    assert len(err.splitlines()) == 1


def test_a_proxy_advertising_its_swarm_address_needs_an_engine_that_answers(capsys):
    argv = ["--advertise", "swarm", "--docker-host", "unix:///nonexistent/docker.sock"]
    with pytest.raises(SystemExit) as stopped:
        proxy_cli.options(proxy_cli.build_parser().parse_args(argv))
    assert str(stopped.value).startswith("yoda-proxy: --advertise swarm: cannot ask the Docker engine")
