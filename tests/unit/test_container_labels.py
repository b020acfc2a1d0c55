"""The container labels (totem/contracts/labels.py) are spelled exactly as schedulers set them and
yoda-discover reads them; the literals here are the contract."""

from __future__ import annotations

from deployer.schedulers.base import labels as scheduler_labels
from totem.contracts import labels

EXPECTED = {
    "totem.app": "shop",
    "totem.version": "3f1c2a9b7d10",
    "totem.upstream": "shop-3f1c2a9b7d10-8080",
    "totem.port": "21000",
    "totem.node": "shop-7-1",
    "totem.health": "/health",
    "totem.deployment": "shop-7",
    "totem.cluster": "local",
}


def test_the_builder_sets_every_label_as_a_string():
    built = labels.instance_labels(
        app="shop",
        version="3f1c2a9b7d10",
        upstream="shop-3f1c2a9b7d10-8080",
        port=21000,
        node="shop-7-1",
        health="/health",
        deployment="shop-7",
        cluster="local",
    )
    assert built == EXPECTED


def test_a_scheduler_labels_an_instance_from_its_deployment_record():
    record = {
        "id": "shop-7",
        "app": "shop",
        "version": "3f1c2a9b7d10",
        "upstream": "shop-3f1c2a9b7d10-8080",
        "cluster": "local",
        "spec": {"check_path": "/health"},
    }
    assert scheduler_labels(record, "shop-7-1", 21000) == EXPECTED


def test_the_names_and_the_required_ones():
    assert (
        labels.APP,
        labels.VERSION,
        labels.UPSTREAM,
        labels.PORT,
        labels.NODE,
        labels.HEALTH,
        labels.DEPLOYMENT,
        labels.CLUSTER,
    ) == tuple(EXPECTED)
    assert labels.REQUIRED == ("totem.upstream", "totem.port", "totem.node")
    assert labels.missing({"totem.upstream": "u", "totem.port": ""}) == ["totem.port", "totem.node"]
    assert labels.missing(EXPECTED) == []


def test_a_selector_is_a_docker_label_filter():
    assert labels.selector(labels.CLUSTER, "local") == "totem.cluster=local"


def test_a_scheduled_jobs_run_is_never_an_instance_to_register():
    run = labels.run_labels(app="nightly", version="v1", node="nightly-run-1", deployment="d-1", cluster="c", run="r1")
    assert run == {
        "totem.app": "nightly",
        "totem.version": "v1",
        "totem.node": "nightly-run-1",
        "totem.deployment": "d-1",
        "totem.cluster": "c",
        "totem.run": "r1",
    }
    assert not labels.is_instance(run)
