"""Placement: the `docker` scheduler's spread over hosts (deployer/placement.py), and the swarm's
`deployment.placement` — checked by the deploy request schema (a 400 naming the field), accepted in
totem.yml, stored as given and turned into the service's placement."""

from __future__ import annotations

import copy

import pytest
from docker.types import Placement

from deployer.placement import Load, spread
from deployer.schedulers.swarm import placement
from orchestrator.config.errors import ConfigError
from orchestrator.config.schema import check
from tests.fixtures.deployer.service import AUTH, MINIMAL, deployer_app

PLACEMENT = {
    "constraints": ["node.labels.edge==true", "node.role != manager"],
    "preferences": [{"spread": "node.labels.zone"}],
}


def test_three_instances_on_three_hosts_land_on_three_hosts():
    assert sorted(spread({"a": Load(), "b": Load(), "c": Load()}, 3)) == ["a", "b", "c"]
    assert sorted(spread({"a": Load(), "b": Load()}, 3)) == ["a", "a", "b"]  # more instances than hosts


def test_fewest_of_this_app_first_then_fewest_in_all():
    loads = {"a": Load(app=1, total=1), "b": Load(app=0, total=9), "c": Load(app=0, total=2)}
    assert spread(loads, 2) == ["c", "b"]
    assert spread(loads, 4) == ["c", "b", "a", "c"]


def test_equal_hosts_take_turns_across_deployments():
    loads = {"a": Load(), "b": Load(), "c": Load()}
    assert [spread(loads, 1, rotate=sequence)[0] for sequence in range(4)] == ["a", "b", "c", "a"]
    assert spread({}, 2) == []


def test_the_swarm_placement_is_the_requests():
    record = {"request": {"deployment": {"placement": PLACEMENT}}}
    assert Placement(**placement(record)) == {
        "Constraints": PLACEMENT["constraints"],
        "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
    }
    assert placement({"request": {"deployment": {}}}) == {}  # the swarm's own placement


@pytest.fixture
def service():
    with deployer_app() as app:
        yield app


def test_a_placement_is_accepted_and_stored_as_given(service):
    body = copy.deepcopy(MINIMAL)
    body["deployment"]["placement"] = PLACEMENT
    client = service.test_client()
    answer = client.post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    assert client.get(answer.headers["Location"]).get_json()["request"]["deployment"]["placement"] == PLACEMENT


@pytest.mark.parametrize(
    "given,path",
    [
        ({"constraints": "node.labels.edge==true"}, "body.deployment.placement.constraints"),
        ({"constraints": ["edge"]}, "body.deployment.placement.constraints[0]"),
        ({"constraints": ["node.labels.edge=true"]}, "body.deployment.placement.constraints[0]"),
        ({"preferences": [{"spread": "zone"}]}, "body.deployment.placement.preferences[0].spread"),
        ({"preferences": [{"binpack": "node.labels.zone"}]}, "body.deployment.placement.preferences[0]"),
        ({"max_per_node": 1}, "body.deployment.placement"),
        ({"max-per-node": 1}, "body.deployment.placement"),
        ([], "body.deployment.placement"),
    ],
)
def test_a_bad_placement_is_refused_naming_the_field(service, given, path):
    body = copy.deepcopy(MINIMAL)
    body["deployment"]["placement"] = given
    answer = service.test_client().post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"].startswith(f"{path}: ")
    assert service.keys() == 0


def totem_yml(placement_section) -> dict:
    deployer = {"url": "http://127.0.0.1:9000", "enabled": True, "deployment": {"placement": placement_section}}
    return {"deployers": {"production": deployer}}


def test_totem_yml_takes_the_placement_and_checks_it():
    check(totem_yml(PLACEMENT), evaluated=True)
    with pytest.raises(ConfigError) as refused:
        check(totem_yml({"constraints": ["edge"]}), evaluated=True)
    assert str(refused.value).startswith("deployers.production.deployment.placement.constraints.0: ")
