"""totem_stack.prometheus: the config Prometheus is started with and the targets kept from etcd."""

from __future__ import annotations

import json
import os

import yaml

from totem_stack import prometheus as prom


def test_config_scrapes_every_second_from_file_and_static_targets(tmp_path):
    config = yaml.safe_load(prom.render_config(tmp_path / "t.json", ["127.0.0.1:8081"]))
    assert config["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    (job,) = config["scrape_configs"]
    assert (job["job_name"], job["metrics_path"]) == ("yoda-proxy", "/metrics")
    assert job["file_sd_configs"][0]["files"] == [str(tmp_path / "t.json")]
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8081"]}]
    assert "static_configs" not in yaml.safe_load(prom.render_config(tmp_path / "t.json"))["scrape_configs"][0]


def test_target_groups_from_announced_proxy_nodes():
    info = {"address": "10.0.0.5", "http": 80, "https": 443}
    keys = {
        "/yoda/proxy-nodes/a/info": json.dumps({**info, "admin": 8081}),
        "/yoda/proxy-nodes/a/applied": "rev",
        "/yoda/proxy-nodes/b/info": json.dumps({**info, "admin": 8081, "admin_address": "127.0.0.1"}),
        "/yoda/proxy-nodes/c/info": json.dumps({**info, "address": "0.0.0.0", "admin": 9}),
        "/yoda/proxy-nodes/d/info": json.dumps({**info, "address": "::1", "admin": 9}),
        "/yoda/proxy-nodes/e/info": json.dumps(info),  # no admin port: nothing to scrape
        "/yoda/proxy-nodes/f/info": "not json",
    }
    assert prom.target_groups(keys, "/yoda") == [
        {"targets": ["10.0.0.5:8081"], "labels": {"node": "a"}},
        {"targets": ["127.0.0.1:8081"], "labels": {"node": "b"}},
        {"targets": ["127.0.0.1:9"], "labels": {"node": "c"}},
        {"targets": ["[::1]:9"], "labels": {"node": "d"}},
    ]


def test_targets_file_is_replaced_only_when_it_changes(tmp_path):
    path = tmp_path / "targets" / "yoda-proxies.json"
    assert not prom.targets_fresh(path)
    groups = [{"targets": ["127.0.0.1:8081"], "labels": {"node": "a"}}]
    assert prom.write_targets(path, groups) is True
    inode = path.stat().st_ino
    os.utime(path, (0, 0))
    assert not prom.targets_fresh(path)
    assert prom.write_targets(path, groups) is False  # same targets: only touched
    assert path.stat().st_ino == inode and prom.targets_fresh(path)
    assert json.loads(path.read_text()) == groups
    assert prom.write_targets(path, []) is True and json.loads(path.read_text()) == []
