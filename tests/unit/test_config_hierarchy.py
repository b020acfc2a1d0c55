"""The 2015 config guide's cases: hierarchy, cluster-def.yml, __defaults__, variables by priority, matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import ConfigError, Location, load_config
from orchestrator.config.merge import apply_defaults, deep_merge
from orchestrator.config.providers.base import Provider
from orchestrator.config.providers.defaults import DefaultProvider

GUIDE = Path(__file__).resolve().parents[1] / "fixtures" / "orchestrator" / "config-guide"
DEPLOYER_URL = "http://127.0.0.1:9/default"


class DictProvider(Provider):
    """Files by (level depth, file name): a stand-in for etcd/S3 in pure unit tests."""

    def __init__(self, name: str, files: dict[tuple[int, str], str]):
        self.name = name
        self.files = files

    def load(self, location, level, file_name):
        return self.files.get((len(level), file_name))


def guide_provider() -> DictProvider:
    read = lambda name: (GUIDE / name).read_text()  # noqa: E731
    return DictProvider(
        "etcd",
        {
            (0, "totem.yml"): read("root-totem.yml"),
            (1, "cluster-def.yml"): read("env-cluster-def.yml"),
            (1, "totem.yml"): read("env-totem.yml"),
            (2, "totem.yml"): read("owner-totem.yml"),
        },
    )


def repo_provider() -> DictProvider:
    return DictProvider("repo", {(4, "totem.yml"): (GUIDE / "repo-totem.yml").read_text()})


def load(ref: str, providers=None, commit="c" * 40):
    providers = providers or [repo_provider(), guide_provider(), DefaultProvider()]
    return load_config(providers, Location("prod", "east", "acme", "shop", ref, commit), DEPLOYER_URL)


def test_master_goes_to_production_only_with_the_values_of_every_level():
    config, sources = load("master")
    production, development = config["deployers"]["production"], config["deployers"]["development"]
    assert production["enabled"] is True and development["enabled"] is False
    assert production["url"] == "http://127.0.0.1:9/production"  # env totem.yml over env cluster-def.yml
    assert production["deployment"]["nodes"] == 3  # repo file, evaluated and coerced to int
    assert production["deployment"]["check"]["timeout"] == "20s"  # root __defaults__
    assert production["deployment"]["check"]["attempts"] == 10  # built-in defaults
    assert production["deployment"]["mode"] == "blue-green"
    assert config["hooks"]["ci"] == {"travis": {"enabled": True}}
    assert sources[0] == "default:totem.yml" and sources[-1] == "repo:prod/acme/shop/master/totem.yml"


def test_matching_is_anchored_and_starting_with_selects_feature_branches():
    config, _ = load("master-old")
    assert config["deployers"]["production"]["enabled"] is False
    feature, _ = load("feature/login")
    assert feature["deployers"]["development"]["enabled"] is True
    assert feature["deployers"]["production"]["enabled"] is False
    assert feature["deployers"]["development"]["url"] == DEPLOYER_URL  # __defaults__ template


def test_variables_are_evaluated_by_priority_and_usable_everywhere():
    config, _ = load("feature/login")
    assert config["variables"] == {"app-host": "shop-feature-login", "public-host": "shop-feature-login.prod.localhost"}
    hostname = config["deployers"]["development"]["proxy"]["hosts"]["public"]["hostname"]
    assert hostname == "shop-feature-login.prod.localhost"


def test_encrypted_values_pass_through_and_context_values_render():
    config, _ = load("master", commit="d" * 40)
    assert config["environment"]["DB_PASSWORD"] == {"value": "AQICAHh...encrypted...==", "encrypted": True}
    assert config["environment"]["COMMIT"] == "d" * 40
    assert config["environment"]["ENV_NAME"] == "prod"


def test_provider_order_decides_at_the_same_level():
    etcd = DictProvider("etcd", {(4, "totem.yml"): "environment: {WHO: etcd}"})
    repo = DictProvider("repo", {(4, "totem.yml"): "environment: {WHO: repo}"})
    assert load("master", [repo, etcd, DefaultProvider()])[0]["environment"]["WHO"] == "repo"
    assert load("master", [etcd, repo, DefaultProvider()])[0]["environment"]["WHO"] == "etcd"


def test_more_specific_level_wins_over_provider_order():
    etcd = DictProvider("etcd", {(3, "totem.yml"): "environment: {WHO: repo-level}"})
    other = DictProvider("s3", {(1, "totem.yml"): "environment: {WHO: env-level}"})
    assert load("master", [other, etcd, DefaultProvider()])[0]["environment"]["WHO"] == "repo-level"


def test_dicts_merge_lists_replace_templates_replace():
    base = {"a": {"x": 1, "list": [1, 2]}, "t": {"value": "{{ ref }}", "encrypted": True}}
    override = {"a": {"y": 2, "list": [3]}, "t": {"value": "plain"}}
    assert deep_merge(base, override) == {"a": {"x": 1, "y": 2, "list": [3]}, "t": {"value": "plain"}}


def test_defaults_merge_under_siblings_at_any_depth():
    tree = {
        "deployers": {"__defaults__": {"enabled": False, "proxy": {"a": 1}}, "p": {"enabled": True}, "q": {}},
        "hooks": {"ci": {"__defaults__": {"enabled": True}, "travis": {}}},
    }
    assert apply_defaults(tree) == {
        "deployers": {"p": {"enabled": True, "proxy": {"a": 1}}, "q": {"enabled": False, "proxy": {"a": 1}}},
        "hooks": {"ci": {"travis": {"enabled": True}}},
    }


def test_invalid_config_names_the_key_path():
    bad = DictProvider("repo", {(4, "totem.yml"): "deployers:\n  default:\n    deployment:\n      nodes: 40\n"})
    with pytest.raises(ConfigError) as caught:
        load("master", [bad, DefaultProvider()])
    assert caught.value.errors[0]["path"] == "deployers.default.deployment.nodes"
    assert "deployers.default.deployment.nodes" in caught.value.message


def test_evaluated_values_are_validated_too():
    bad = DictProvider(
        "repo",
        {(4, "totem.yml"): "deployers:\n  default:\n    deployment:\n      nodes:\n        value: '{{ 7 * 3 }}'\n"},
    )
    with pytest.raises(ConfigError) as caught:
        load("master", [bad, DefaultProvider()])
    assert caught.value.stage == "schema"
    assert caught.value.errors[0]["path"] == "deployers.default.deployment.nodes"


def test_yaml_errors_and_non_mappings_are_config_errors():
    for text in ("deployers: [unclosed", "- a list\n- not a mapping\n"):
        with pytest.raises(ConfigError):
            load("master", [DictProvider("repo", {(4, "totem.yml"): text}), DefaultProvider()])
