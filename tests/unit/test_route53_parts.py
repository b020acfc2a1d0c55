"""Unit tests for yoda-route53: desired records, plans, batches, throttling retries, paging."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from totem.settings import Settings
from yoda_route53.batches import batches
from yoda_route53.cli import build_parser as route53_parser
from yoda_route53.leader import lock_name
from yoda_route53.nodes import live_nodes
from yoda_route53.reconciler import plan
from yoda_route53.records import RecordSpec
from yoda_route53.retry import with_backoff
from yoda_route53.zone import Zone, normalize_zone_id

SPEC = RecordSpec("Proxy.Example.test", owner_id="c1")


def actions(result):
    return [
        (c["Action"], c["ResourceRecordSet"]["Type"], c["ResourceRecordSet"]["SetIdentifier"])
        for group in result.groups
        for c in group
    ]


# -- records --------------------------------------------------------------------------------
def test_spec_normalizes_and_builds_record_sets():
    assert SPEC.name == "proxy.example.test." and SPEC.owner_name == "yoda-owner.proxy.example.test."
    assert SPEC.record_set("n1", "127.0.0.5") == {
        "Name": "proxy.example.test.",
        "Type": "A",
        "SetIdentifier": "n1",
        "TTL": 60,
        "ResourceRecords": [{"Value": "127.0.0.5"}],
        "Weight": 1,
    }
    owner_value = '"heritage=yoda-route53,yoda-route53/owner=c1"'
    assert SPEC.owner_record_set("n1")["ResourceRecords"] == [{"Value": owner_value}]
    assert RecordSpec("a.test", routing="multivalue").record_set("n", "127.0.0.1")["MultiValueAnswer"] is True


@pytest.mark.parametrize("kwargs", [{"type": "AAAA"}, {"type": "CNAME", "routing": "multivalue"}, {"routing": "x"}])
def test_spec_rejects_what_route53_would(kwargs):
    with pytest.raises(ValueError):
        RecordSpec("a.test", **kwargs)


# -- nodes ------------------------------------------------------------------------------------
def test_live_nodes_reads_info_and_skips_unusable_entries():
    info = lambda address: json.dumps({"address": address, "http": 8080})  # noqa: E731
    keys = {
        "/y/proxy-nodes/a/info": info("127.0.0.1"),
        "/y/proxy-nodes/a/applied": "17",
        "/y/proxy-nodes/b/info": info("not-an-ip"),
        "/y/proxy-nodes/c/info": "{broken",
        "/y/proxy-nodes/d/info": info("::1"),
        "/y/proxy-nodes/e/info": json.dumps(["127.0.0.2"]),
    }
    assert live_nodes("/y", keys, "A") == {"a": "127.0.0.1"}
    assert live_nodes("/y", {"/y/proxy-nodes/h/info": info("lb-1.example.test")}, "CNAME") == {"h": "lb-1.example.test"}


# -- plan -------------------------------------------------------------------------------------------
def test_plan_creates_record_and_ownership_together():
    result = plan(SPEC, {"a": "127.0.0.1"}, [])
    assert result.groups == [
        [
            {"Action": "UPSERT", "ResourceRecordSet": SPEC.owner_record_set("a")},
            {"Action": "UPSERT", "ResourceRecordSet": SPEC.record_set("a", "127.0.0.1")},
        ]
    ]


def test_plan_is_empty_when_in_sync():
    current = [SPEC.record_set("a", "127.0.0.1"), SPEC.owner_record_set("a")]
    assert plan(SPEC, {"a": "127.0.0.1"}, current).groups == []


def test_plan_updates_changed_and_deletes_gone_owned_records():
    current = [
        SPEC.record_set("a", "127.0.0.9"),
        SPEC.owner_record_set("a"),
        SPEC.record_set("b", "127.0.0.2"),
        SPEC.owner_record_set("b"),
    ]
    assert actions(plan(SPEC, {"a": "127.0.0.1"}, current)) == [
        ("UPSERT", "A", "a"),
        ("DELETE", "A", "b"),
        ("DELETE", "TXT", "b"),
    ]


def test_plan_never_touches_records_it_does_not_own():
    other_value = '"heritage=yoda-route53,yoda-route53/owner=c2"'
    other_owner = {**SPEC.owner_record_set("c"), "ResourceRecords": [{"Value": other_value}]}
    current = [
        SPEC.record_set("a", "127.0.0.9"),
        SPEC.record_set("x", "127.0.0.3"),
        other_owner,
        SPEC.record_set("c", "127.0.0.4"),
    ]
    result = plan(SPEC, {"a": "127.0.0.1", "c": "127.0.0.1"}, current)
    assert result.groups == [] and result.conflicts == ["a", "c"]


def test_plan_restores_a_deleted_record_of_an_owned_set():
    assert actions(plan(SPEC, {"a": "127.0.0.1"}, [SPEC.owner_record_set("a")])) == [("UPSERT", "A", "a")]


# -- batches --------------------------------------------------------------------------------------------
def upsert(i):
    return {"Action": "UPSERT", "ResourceRecordSet": SPEC.record_set(f"n{i}", "127.0.0.1")}


def test_batches_respect_record_limits_and_keep_groups_whole():
    groups = [[upsert(i), upsert(i)] for i in range(5)]  # 4 records each, UPSERT counting twice
    result = batches(groups, max_records=10)
    assert [len(b) for b in result] == [4, 4, 2]
    assert sum(result, []) == sum(groups, [])


def test_batches_respect_value_characters():
    result = batches([[upsert(i)] for i in range(5)], max_chars=2 * len("127.0.0.1") * 2)
    assert [len(b) for b in result] == [2, 2, 1]


def test_a_group_too_big_for_any_batch_is_an_error():
    with pytest.raises(ValueError):
        batches([[upsert(1)] * 3], max_records=4)


# -- retry --------------------------------------------------------------------------------------------------
def client_error(code, message="Rate exceeded"):
    return ClientError({"Error": {"Code": code, "Message": message}}, "ChangeResourceRecordSets")


def raising(error):
    def call():
        raise error

    return call


def test_throttling_is_retried_with_growing_backoff():
    calls, pauses = [], []

    def call():
        calls.append(1)
        if len(calls) < 4:
            raise client_error("Throttling")
        return "done"

    assert with_backoff(call, attempts=5, base=0.1, sleep=pauses.append) == "done"
    assert len(calls) == 4 and len(pauses) == 3
    assert all(0 <= p <= 0.1 * 2 ** (i + 1) for i, p in enumerate(pauses))


def test_throttling_gives_up_after_the_attempts_and_other_errors_are_not_retried():
    pauses = []
    with pytest.raises(ClientError):
        with_backoff(raising(client_error("PriorRequestNotComplete")), attempts=3, sleep=pauses.append)
    assert len(pauses) == 2
    with pytest.raises(ClientError):
        with_backoff(raising(client_error("InvalidChangeBatch", "record exists")), sleep=pauses.append)
    assert len(pauses) == 2


# -- zone listing -------------------------------------------------------------------------------------------
class PagingClient:
    """Route53 paging within one name by NextRecordIdentifier, two record sets a page."""

    def __init__(self, sets, honours_identifier=True):
        self.sets, self.honours_identifier, self.calls = sets, honours_identifier, 0

    def list_resource_record_sets(
        self, HostedZoneId, StartRecordName, MaxItems, StartRecordType=None, StartRecordIdentifier=None
    ):
        self.calls += 1
        start = 0
        if StartRecordIdentifier and self.honours_identifier:
            start = next(i for i, r in enumerate(self.sets) if r.get("SetIdentifier") == StartRecordIdentifier)
        page = self.sets[start : start + 2]
        rest = self.sets[start + 2 :]
        result = {"ResourceRecordSets": page, "IsTruncated": bool(rest)}
        if rest:
            result.update(
                NextRecordName=rest[0]["Name"],
                NextRecordType=rest[0]["Type"],
                NextRecordIdentifier=rest[0].get("SetIdentifier"),
            )
        return result


def test_record_sets_pages_through_one_name_and_stops_past_it():
    sets = [SPEC.record_set(f"n{i}", "127.0.0.1") for i in range(5)] + [{"Name": "z.example.test.", "Type": "A"}] * 4
    client = PagingClient(sets)
    found = Zone(client, "/hostedzone/Z1").record_sets(SPEC.name)
    assert [r["SetIdentifier"] for r in found] == [f"n{i}" for i in range(5)]
    assert client.calls == 3


def test_record_sets_stops_when_the_server_cannot_page_within_a_name():
    client = PagingClient([SPEC.record_set(f"n{i}", "127.0.0.1") for i in range(5)], honours_identifier=False)
    assert len(Zone(client, "Z1").record_sets(SPEC.name)) == 2
    assert client.calls == 2


def test_zone_ids_and_lock_names():
    assert normalize_zone_id("/hostedzone/Z123") == "Z123" == normalize_zone_id("Z123")
    assert lock_name("Z1", "proxy.example.test.") == "yoda-route53/Z1/proxy.example.test"


def test_route53_options():
    parser = route53_parser(Settings(cluster="east"))
    args = parser.parse_args(["--zone-id", "Z1", "--record-name", "proxy.example.test"])
    assert (args.record_type, args.ttl, args.routing) == ("A", 60, "weighted")
    assert (args.owner_id, args.interval) == ("east", 60.0)
    assert parser.parse_args(["--zone-id", "Z1", "--record-name", "n", "--multivalue"]).routing == "multivalue"
    with pytest.raises(SystemExit):
        parser.parse_args(["--zone-id", "Z1", "--record-name", "n", "--multivalue", "--weighted"])
