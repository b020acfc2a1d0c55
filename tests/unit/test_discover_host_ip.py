"""`yoda-discover --host-ip swarm`: the address a node advertises in its swarm, from `docker info`
(the rig's engines answer it in tests/cluster/test_totem_on_swarm.py)."""

from __future__ import annotations

import pytest

from yoda_discover.cli import main, resolve_host_ip, swarm_address


def test_an_active_node_gives_its_swarm_node_address():
    info = {"Swarm": {"LocalNodeState": "active", "NodeAddr": "10.213.0.12", "NodeID": "x"}}
    assert swarm_address(info) == "10.213.0.12"


@pytest.mark.parametrize("swarm", [{"LocalNodeState": "inactive", "NodeAddr": ""}, {"LocalNodeState": "pending"}, {}])
def test_an_engine_that_is_no_active_swarm_node_is_refused_with_its_state(swarm):
    with pytest.raises(ValueError, match="not an active swarm node"):
        swarm_address({"Swarm": swarm})


def test_an_address_given_is_used_as_it_is_without_asking_an_engine():
    assert resolve_host_ip("10.0.0.5", "unix:///nonexistent/docker.sock") == "10.0.0.5"


def test_an_engine_that_does_not_answer_stops_yoda_discover_with_one_line(capsys):
    assert main(["watch", "--host-ip", "auto", "--docker-host", "unix:///nonexistent/docker.sock"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yoda-discover: --host-ip auto: cannot ask the Docker engine at unix:///nonexistent")
    assert len(err.splitlines()) == 1
