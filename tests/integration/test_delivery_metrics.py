"""The delivery (DORA) figures of a real deployer under gunicorn and real Docker: five pushes of one app
with known commit times (`meta-info.commit-time`), the third promoted, found broken and rolled back
through the rollback API; `GET /metrics/delivery` and `totem stats` give the figures computed here from
the records' own timestamps, and bad parameters are clear 4xx errors."""

from __future__ import annotations

import json
import statistics
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.support import run_totem
from totem_dashboard.times import duration

pytest_plugins = ["tests.images.fixtures"]  # docker_client

# how long before the first deploy each version was committed, and the offset its push spelled it in
COMMITTED = {"v1": (50, "+00:00"), "v2": (41, "+02:00"), "v3": (30, "-05:00"), "v4": (22, "Z"), "v5": (10, "+05:30")}


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=0.2, discover_timeout=8.0).start()
    try:
        stack.start_api()
        yield stack
    finally:
        stack.stop()


def spelled(when: datetime, offset: str) -> str:
    """`when` as a push spells it: ISO 8601 in the offset's own local time."""
    if offset == "Z":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
    shift = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    return (when + shift).strftime("%Y-%m-%dT%H:%M:%S") + offset


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def event(record: dict, kind: str) -> datetime:
    return at(next(e["date"] for e in record["timeline"] if e["type"] == kind))


@pytest.fixture(scope="module")
def history(stack, docker_client):
    """v1, v2, v3 promoted; v3 rolled back (to v2); v4, v5 promoted. Each version its own commit."""
    name = f"dora-{uuid.uuid4().hex[:8]}"
    host = f"{name}.localhost"
    image = images.build(docker_client, "v1")
    start = datetime.now(UTC).replace(microsecond=0)
    check = {"min-nodes": 1, "port": None, "path": "/health", "timeout": "2s", "attempts": 5}
    committed: dict[str, datetime] = {}
    records: dict[str, dict] = {}

    def finished(answer) -> dict:
        assert answer.status_code == 202, answer.get_json()
        record = stack.wait_finished(answer.get_json()["deployment"]["id"])
        assert record["state"] == "PROMOTED", record
        return record

    for version in ("v1", "v2", "v3", "rollback", "v4", "v5"):
        if version == "rollback":
            records["rollback"] = finished(stack.client.post(f"/apps/{name}/rollback", headers=stack.headers()))
            continue
        minutes, offset = COMMITTED[version]
        committed[version] = start - timedelta(minutes=minutes)
        request = deploy_request(name, version, image, host, nodes=1, check=check)
        request["meta-info"]["git"]["commit"] = uuid.uuid5(uuid.NAMESPACE_URL, version).hex + "0" * 8
        request["meta-info"]["commit-time"] = spelled(committed[version], offset)
        records[version] = finished(stack.deploy(request))
    assert records["rollback"]["version"] == "v2"
    return {"name": name, "committed": committed, "records": records}


def by_hand(history: dict, window_days: float) -> dict:
    """The figures from the records' timestamps: five changes, v3 the one failure (rolled back)."""
    records, committed = history["records"], history["committed"]
    leads = sorted(
        (event(records[v], "DEPLOYMENT_PROMOTED") - committed[v]).total_seconds()
        for v in ("v1", "v2", "v3", "v4", "v5")
    )
    rollback = records["rollback"]
    restore = (event(rollback, "DEPLOYMENT_PROMOTED") - event(rollback, "ROLLBACK_REQUESTED")).total_seconds()
    return {
        "deployments": 5,
        "promoted": 5,
        "failures": 1,
        "deployment_frequency_per_day": round(5 / window_days, 4),
        "change_failure_rate": 0.2,
        "lead_time_seconds": {
            "median": pytest.approx(statistics.median(leads), abs=1e-3),
            "p90": pytest.approx(leads[-1], abs=1e-3),  # nearest rank of 5: the largest
            "samples": 5,
        },
        "time_to_restore_seconds": {"median": pytest.approx(restore, abs=1e-3), "restored": 1, "unrestored": 0},
    }


def delivery(stack, **params) -> requests.Response:
    return requests.get(f"{stack.url}/metrics/delivery", params=params, timeout=10)


def without_series(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k != "series"}


def test_the_figures_of_five_pushes_one_rolled_back(stack, history):
    name = history["name"]
    answer = delivery(stack, app=name)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert list(report["apps"]) == [name]
    figures = report["apps"][name]
    assert without_series(figures) == by_hand(history, 30)
    assert report["overall"] == figures  # with app=, overall is that app's figures
    assert report["window"]["text"] == "30d" and report["window"]["seconds"] == 30 * 86400
    assert len(figures["series"]) in (30, 31)  # the UTC days the window touches
    assert sum(d["deployments"] for d in figures["series"]) == 5
    assert sum(d["failures"] for d in figures["series"]) == 1
    assert sum(d["promoted"] for d in figures["series"]) == 5
    assert figures["series"][-1]["deployments"] >= 1  # today's

    hour = delivery(stack, app=name, window="1h").json()
    assert without_series(hour["apps"][name]) == by_hand(history, 1 / 24)  # 5 promoted in an hour: 120/day

    every = delivery(stack).json()  # every app (this stack's cluster holds only ours)
    assert without_series(every["apps"][name]) == without_series(figures)


def test_totem_stats_shows_the_same_figures(stack, history, monkeypatch, capsys):
    monkeypatch.setenv("TOTEM_DEPLOYER_URL", stack.url)
    name = history["name"]
    assert run_totem("stats", name, "--json") == 0, capsys.readouterr().err
    shown = json.loads(capsys.readouterr().out)
    assert without_series(shown["apps"][name]) == by_hand(history, 30)

    assert run_totem("stats", name, "--window", "1h") == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith(name)]
    lead = shown["apps"][name]["lead_time_seconds"]["median"]
    restore = shown["apps"][name]["time_to_restore_seconds"]["median"]
    assert "5 (1 failed)" in row and "120.00" in row and "20%" in row
    assert duration(lead) in row and duration(restore) in row
    assert "(overall)" not in out


def test_bad_parameters_are_clear_4xx_errors(stack, history, monkeypatch, capsys):
    for params, status, field in (
        ({"window": "abc"}, 400, "window"),
        ({"window": "30m"}, 400, "window"),  # under an hour
        ({"window": "400d"}, 400, "window"),
        ({"app": "no/such"}, 400, "app"),
    ):
        answer = delivery(stack, **params)
        assert answer.status_code == status, (params, answer.text)
        assert answer.headers["Content-Type"].startswith("application/json")
        error = answer.json()["error"]
        assert error["code"] == "invalid_parameter" and error["details"] == {"parameter": field}, params
    assert "from 1h to 366d" in delivery(stack, window="abc").json()["error"]["message"]
    unknown = delivery(stack, app="no-such-app")
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "no app named 'no-such-app'"

    monkeypatch.setenv("TOTEM_DEPLOYER_URL", stack.url)
    assert run_totem("stats", "no-such-app") == 1
    assert "totem stats: deployer: no app named 'no-such-app'" in capsys.readouterr().err
    assert run_totem("stats", history["name"], "--window", "abc") == 1
    assert "window must be a duration from 1h to 366d" in capsys.readouterr().err
