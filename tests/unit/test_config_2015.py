"""totem.yml evaluation keeps the 2015 system's promises (issue #16).

Each test says what 2015 did (orchestrator/services/config.py, conf/appconfig.py, job.py and their
tests in the 2015 repository) and checks that Totem does the same, or the deliberate improvement.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from orchestrator.config import ConfigError, Location, load_config
from orchestrator.config.evaluate import evaluate, ref_number
from orchestrator.config.merge import deep_merge, is_template
from orchestrator.config.providers import build
from orchestrator.config.providers.defaults import DefaultProvider
from orchestrator.config.schema import check
from orchestrator.jobs.gate import required_hooks
from orchestrator.settings import OrchestratorSettings
from tests.unit.test_config_hierarchy import DictProvider
from totem.contracts import deploy_request
from totem.settings import SettingsError

DEPLOYER_URL = "http://127.0.0.1:9/default"
CONTEXT = {"owner": "acme", "repo": "shop", "ref": "master", "commit": "a" * 40, "env": "prod", "cluster": "east"}


def load(repo_yml: str = "", *, ref: str = "master", levels: dict | None = None, enabled_by_default: bool = True):
    """The evaluated config of acme/shop@ref: `repo_yml` as the repository's totem.yml, `levels`
    {(depth, file name): text} as etcd, over the built-in defaults."""
    providers = [
        DictProvider("repo", {(4, "totem.yml"): repo_yml}),
        DictProvider("etcd", levels or {}),
        DefaultProvider(enabled_by_default),
    ]
    return load_config(providers, Location("prod", "east", "acme", "shop", ref, "c" * 40), DEPLOYER_URL)[0]


def failure(repo_yml: str, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(repo_yml, **kwargs)
    return caught.value


def paths(error: ConfigError) -> list[str]:
    return [e["path"] for e in error.errors]


# -- 1. deployers named → only those -----------------------------------------------------------
def test_a_config_naming_its_deployers_deploys_to_those_only():
    """2015: the defaults held only `deployers.__defaults__`; only named deployers existed. The
    built-in `default` deployer applies when no level names one."""
    assert set(load("deployers: {east: {enabled: true, url: 'http://127.0.0.1:9/east'}}")["deployers"]) == {"east"}
    assert load("")["deployers"]["default"] == {**load("")["deployers"]["default"], "url": DEPLOYER_URL}


def test_any_level_names_deployers_but_defaults_name_none():
    """A cluster-def.yml at the env level names `production`; `__defaults__` alone names nothing."""
    levels = {(1, "cluster-def.yml"): "deployers: {production: {enabled: true}}"}
    assert set(load(levels=levels)["deployers"]) == {"production"}
    only_defaults = load("deployers: {__defaults__: {deployment: {nodes: 2}}}")
    assert set(only_defaults["deployers"]) == {"default"}
    assert only_defaults["deployers"]["default"]["deployment"]["nodes"] == 2


def test_naming_default_keeps_the_builtin_one_under_it():
    config = load("deployers: {default: {deployment: {nodes: 3}}, east: {enabled: false}}")
    assert set(config["deployers"]) == {"default", "east"}
    assert config["deployers"]["default"]["enabled"] is True and config["deployers"]["default"]["url"] == DEPLOYER_URL


# -- 2. TOTEM_APPS_ENABLED_BY_DEFAULT ----------------------------------------------------------
@pytest.mark.parametrize("word, expected", [("", True), ("y", True), ("On", True), ("no", False), ("none", False)])
def test_apps_enabled_by_default_takes_the_2015_boolean_words(word, expected):
    """2015 read its flags with `.lower() in BOOLEAN_TRUE_VALUES` ({true, yes, y, 1, on}); blank: the default."""
    options = OrchestratorSettings.from_env({"TOTEM_APPS_ENABLED_BY_DEFAULT": word})
    assert options.apps_enabled_by_default is expected


def test_apps_enabled_by_default_refuses_other_words():
    """2015 took any other word as false; a typo is refused here."""
    with pytest.raises(SettingsError, match="TOTEM_APPS_ENABLED_BY_DEFAULT must be"):
        OrchestratorSettings.from_env({"TOTEM_APPS_ENABLED_BY_DEFAULT": "maybe"})


def test_an_app_that_sets_no_enabled_follows_the_setting():
    """2015's default config said `enabled: False`; ours defaults to true (today's behaviour)."""
    assert load("")["enabled"] is True
    assert load("", enabled_by_default=False)["enabled"] is False
    assert load("enabled: true", enabled_by_default=False)["enabled"] is True
    assert load("enabled: false")["enabled"] is False
    runtime = SimpleNamespace(options=OrchestratorSettings.from_env({"TOTEM_APPS_ENABLED_BY_DEFAULT": "off"}))
    (provider,) = build(runtime, ("default",))
    assert "\nenabled: false" in (provider.load(None, (), "totem.yml") or "")


# -- 3. deployer url ---------------------------------------------------------------------------
def test_a_disabled_deployer_needs_no_url_and_an_enabled_one_gets_one():
    """2015: DEFAULT_DEPLOYER_CONFIG put the default url in `deployers.__defaults__`."""
    config = load("deployers: {east: {enabled: true}, west: {enabled: false}, north: {enabled: false, url: ''}}")
    assert config["deployers"]["east"]["url"] == DEPLOYER_URL
    assert "url" not in config["deployers"]["west"] and "url" not in config["deployers"]["north"]
    config = load("deployers: {__defaults__: {url: 'http://127.0.0.1:9/shared'}, east: {enabled: true}}")
    assert config["deployers"]["east"]["url"] == "http://127.0.0.1:9/shared"


def test_an_enabled_deployer_whose_url_renders_empty_is_an_error_not_the_default():
    error = failure("deployers: {east: {enabled: true, url: {value: '{{ east_url }}'}}}")
    assert paths(error) == ["deployers.east.url"]


# -- 4. template: false ------------------------------------------------------------------------
def test_template_false_takes_the_value_literally():
    """2015: `{value: ..., template: false}` was not rendered; `template` defaulted to true."""
    config = {
        "a": {"value": "{{ owner }}", "template": False},
        "b": {"value": "{{ owner }}", "template": True},
        "variables": {"v": {"value": "{{ repo }}", "template": False}},
        "c": {"value": "{{ v }}"},
    }
    result = evaluate(config, CONTEXT)
    assert (result["a"], result["b"], result["c"]) == ("{{ owner }}", "acme", "{{ repo }}")
    assert is_template({"value": "x", "template": False})
    assert deep_merge({"t": {"value": "x", "template": False}}, {"t": {"value": "y"}}) == {"t": {"value": "y"}}
    check({"environment": {"A": {"value": "{{ x }}", "template": False}}}, evaluated=False)


# -- 5. variables at any level -----------------------------------------------------------------
def test_variables_at_any_level_are_seen_by_their_subtree():
    """2015 test_evaluate_value_with_nested_variables: a nested `var1: '{{ var1 }}-modified'`
    reads the outer var1, and the nested mapping (and its `__defaults__`) sees the new one."""
    config = {
        "variables": {"var1": "var1-value", "var2": "var2-value"},
        "nested-key": {
            "variables": {"var1": {"value": "{{ var1 }}-modified"}},
            "nested-key1": {"value": "{{ var1 }}"},
        },
        "sibling": {"value": "{{ var1 }}"},
        "list-key": ["list-value1", {"value": "\n\n{{ var2 }}\n\n"}],
    }
    result = evaluate(config, CONTEXT)
    assert result["nested-key"] == {"nested-key1": "var1-value-modified"}  # nested variables are not kept
    assert result["sibling"] == "var1-value"
    assert result["list-key"] == ["list-value1", "var2-value"]  # rendered values are stripped


def test_a_deployers_variables_win_over_the_apps_and_deployer_is_its_name():
    """2015 set `variables.deployer` to the deployer's name inside each deployer."""
    config = load(
        """
variables: {tier: app, host: {value: "{{ tier }}.localhost"}}
deployers:
  east:
    enabled: true
    variables: {tier: "{{ never }}", zone: {value: "{{ deployer }}-zone"}, tier2: {value: "{{ deployer }}"}}
    deployment:
      variables: {suffix: {value: "{{ zone }}"}}
      name: {value: "{{ repo }}-{{ suffix }}-{{ tier2 }}"}
    templates: {app: {args: {tier: {value: "{{ tier }}"}, host: {value: "{{ host }}"}}}}
  west: {enabled: true, templates: {app: {args: {tier: {value: "{{ tier }}"}}}}}
"""
    )
    east, west = config["deployers"]["east"], config["deployers"]["west"]
    assert east["deployment"]["name"] == "shop-east-zone-east"
    assert east["templates"]["app"]["args"] == {"tier": "{{ never }}", "host": "app.localhost"}  # plain: literal
    assert west["templates"]["app"]["args"]["tier"] == "app"
    assert "variables" not in east and "variables" not in east["deployment"]


# -- 6. dependency order -----------------------------------------------------------------------
def test_variables_are_evaluated_in_dependency_order_whatever_the_order_written():
    """2015 sorted by priority only: `a` using `b` of a higher priority saw nothing ('' or worse)."""
    config = {
        "variables": {
            "url": {"value": "http://{{ variables['host'] }}:{{ port }}", "priority": 1},
            "host": {"value": "{{ name }}.{{ variables.domain }}", "priority": 5},
            "name": {"value": "{{ repo }}", "priority": 9},
            "domain": "localhost",
            "port": 8080,
        },
        "x": {"value": "{{ url }}"},
    }
    assert evaluate(config, CONTEXT)["x"] == "http://shop.localhost:8080"


def test_priority_orders_independent_variables_and_plain_ones_come_first():
    """2015: plain variables were {priority: 0, template: false}, dict ones priority 1, templated."""
    config = {
        "variables": {
            "late": {"value": "{{ owner }}", "priority": 7},
            "early": {"value": "{{ owner }}", "priority": -1},
            "default": {"value": "{{ owner }}"},
            "plain": "{{ owner }}",
        }
    }
    result = evaluate(config, CONTEXT)["variables"]
    assert list(result) == ["early", "plain", "default", "late"]
    assert result["plain"] == "{{ owner }}" and result["late"] == "acme"


def test_a_cycle_is_an_error_naming_its_variables():
    with pytest.raises(ConfigError) as caught:
        evaluate({"variables": {"a": {"value": "{{ b }}"}, "b": {"value": "{{ a }}"}, "c": 1}}, CONTEXT)
    assert caught.value.errors == [
        {"path": "variables", "message": "variables a, b depend on each other in a cycle (a → b → a)"}
    ]


def test_a_priority_that_is_no_whole_number_is_an_error_at_any_level():
    """2015's schema said `priority: number`, for top-level variables only."""
    config = {"deployers": {"east": {"variables": {"v": {"value": "x", "priority": "high"}, "w": {"value": "y"}}}}}
    with pytest.raises(ConfigError) as caught:
        evaluate(config, CONTEXT)
    assert paths(caught.value) == ["deployers.east.variables.v.priority"]


def test_config_variables_named_like_builtins_override_them():
    """2015 merged the config's variables over the default ones (owner, repo, ref, cluster, env …)."""
    config = {
        "variables": {"cluster": "eu", "env": {"value": "{{ env }}-2"}},
        "x": {"value": "{{ cluster }}/{{ env }}"},
    }
    assert evaluate(config, CONTEXT)["x"] == "eu/prod-2"


def test_the_2015_variable_cases():
    """2015 test_evaluate_variables / test_evaluate_config_with_no_deployers."""
    config = {
        "variables": {
            "var1": {"value": True},
            "var2": {"value": "{{var1}}-var2value", "priority": 2},
            "var3": {"value": "{{default1}}-var3value", "priority": 1},
            "var4": False,
            "var5": "value1",
            "var6": {"value": "{{var5}}-var2value", "priority": 2},
        },
        "key1": {"value": "test-{{var5}}-{{var6}}-{{var7}}"},
        "flags": {"value": "{{ var1 }}/{{ var4 }}"},
    }
    result = evaluate(config, {**CONTEXT, "default1": "default1value", "var7": "default3"})
    assert result["variables"]["var2"] == "true-var2value"  # 2015 lowercased bool variables: 'true'
    assert result["variables"]["var3"] == "default1value-var3value"
    assert result["key1"] == "test-value1-value1-var2value-default3"
    assert result["flags"] == "true/false"


# -- 7. rendering ------------------------------------------------------------------------------
def test_text_is_converted_where_the_2015_transform_converted_it():
    """2015 test_transform_string_values: enabled/force-ssl → bool, port/nodes/min-nodes/attempts → int,
    plain values too, inside lists too; None untouched."""
    config = {
        "key1": "value1",
        "port": 1212,
        "enabled": "True",
        "nested-port-key": {"port": "2321", "nodes": "12", "min-nodes": "13", "enabled": "False", "force-ssl": "true"},
        "array-config": [{"port": "123", "attempts": "10", "enabled": False}, "testval"],
        "null-key": None,
    }
    assert evaluate(config, CONTEXT) == {
        "key1": "value1",
        "port": 1212,
        "enabled": True,
        "nested-port-key": {"port": 2321, "nodes": 12, "min-nodes": 13, "enabled": False, "force-ssl": True},
        "array-config": [{"port": 123, "attempts": 10, "enabled": False}, "testval"],
        "null-key": None,
        "variables": {},
    }


def test_conversion_follows_the_schema_beyond_the_2015_keys():
    config = load(
        "deployers:\n  default:\n    enabled: 'yes'\n    deployment:\n      ab-weight: '30'\n"
        "      check: {port: '0', min-nodes: {value: '{{ 1 }}'}}\n      stop: {check-retries: ' 4 '}\n"
        "notifications: {slack: {enabled: 'on'}}\n"
    )
    deployment = config["deployers"]["default"]["deployment"]
    assert (deployment["ab-weight"], deployment["check"]["port"], deployment["stop"]["check-retries"]) == (30, 0, 4)
    assert deployment["check"]["min-nodes"] == 1 and config["notifications"]["slack"]["enabled"] is True
    assert load("environment: {PORT: '8080', FLAG: 'yes'}")["environment"] == {"PORT": "8080", "FLAG": "yes"}


@pytest.mark.parametrize("word", ["true", "YES", "y", "1", "on", " On "])
def test_true_words(word):
    assert load(f"enabled: '{word}'")["enabled"] is True


@pytest.mark.parametrize("word", ["false", "No", "n", "0", "off", "none", ""])
def test_false_words(word):
    assert load(f"enabled: '{word}'")["enabled"] is False


def test_another_word_is_not_a_boolean():
    """2015 took any word outside BOOLEAN_TRUE_VALUES as false; a typo is an error here."""
    error = failure("deployers: {default: {enabled: {value: 'maybe'}}}")
    assert paths(error) == ["deployers.default.enabled"] and "not a boolean" in error.message


@pytest.mark.parametrize(
    "ref, number",
    [("feature_test", "test"), ("Patch_Fix-1", "fix-1"), ("develop_x", "x"), ("master", "master"), ("f/a", "f/a")],
)
def test_ref_number_is_the_2015_rule(ref, number):
    """2015 get_template_variables: ref.lower() with 'feature_', 'patch_', 'develop_' removed."""
    assert ref_number(ref) == number
    assert load("environment: {N: {value: '{{ ref_number }}'}}", ref=ref)["environment"]["N"] == number


def test_matching_can_ignore_case_and_stays_anchored():
    """2015 matching(value, pattern, casesensitive=True) with re.match (unanchored at the end)."""
    config = {
        "a": {"value": "{{ 'MASTER' is matching('master', False) }}"},
        "b": {"value": "{{ 'MASTER' is matching('master') }}"},
        "c": {"value": "{{ 'master-old' is matching('master', False) }}"},
    }
    result = evaluate(config, CONTEXT)
    assert (result["a"], result["b"], result["c"]) == ("true", "false", "false")


@pytest.mark.parametrize(
    "template, reason",
    [
        ("{{ unclosed", "template syntax error"),
        ("{{ nothing() }}", "undefined"),
        ("{{ ''.__class__.__mro__ }}", "not allowed in the sandbox"),
        ("{{ 1 + 'x' }}", "TypeError"),
        ("{{ 'a' | replace_regex('(') }}", "bad regular expression"),
        ("{{ 1 // 0 }}", "ZeroDivisionError"),
    ],
)
def test_every_template_error_is_a_config_error_with_the_key_path(template, reason):
    """2015 caught only TemplateSyntaxError in values; anything else was a traceback."""
    with pytest.raises(ConfigError) as caught:
        evaluate({"deployers": {"east": {"proxy": {"host": {"value": template}}}}}, CONTEXT)
    assert caught.value.stage == "evaluate"
    assert paths(caught.value) == ["deployers.east.proxy.host"] and reason in caught.value.errors[0]["message"]


def test_every_failure_is_reported_at_once():
    config = {"a": {"value": "{{ x("}, "b": {"enabled": {"value": "perhaps"}}, "variables": {"v": {"value": "{{ y("}}}
    with pytest.raises(ConfigError) as caught:
        evaluate(config, CONTEXT)
    assert paths(caught.value) == ["variables.v", "a", "b.enabled"]


# -- 8. what the 2015 default config and schema accepted ---------------------------------------
def test_scm_push_and_scm_create_hooks_are_accepted_and_never_gate():
    """2015's default config: hooks.scm-push.github-push and hooks.scm-create.github-create."""
    config = load("hooks: {scm-push: {github-push: {enabled: true}}, scm-create: {github-create: {enabled: 'yes'}}}")
    assert config["hooks"]["scm-create"] == {"github-create": {"enabled": True}}
    assert required_hooks(config) == ["builder:image-factory"]


def test_check_port_zero_means_no_discovery_check():
    config = load("deployers: {default: {deployment: {check: {port: 0}}}}")
    assert config["deployers"]["default"]["deployment"]["check"]["port"] == 0
    assert (
        "0: no discovery check"
        in deploy_request.DEPLOYMENT_SCHEMA["properties"]["check"]["properties"]["port"]["description"]
    )
    assert failure("deployers: {default: {deployment: {check: {port: -1}}}}").stage == "schema-raw"


def test_a_deployment_name_with_underscores_is_made_dns_safe():
    """2015 took any name; the deploy request keeps NAME_PATTERN (no `_`: it ends the app in /yoda)."""
    assert (
        load("deployers: {default: {deployment: {name: My_Shop__API}}}")["deployers"]["default"]["deployment"]["name"]
        == "my-shop-api"
    )
    templated = load("deployers: {default: {deployment: {name: {value: '_{{ owner }}_{{ ref }}_'}}}}")
    assert templated["deployers"]["default"]["deployment"]["name"] == "acme-master"
    assert paths(failure("deployers: {default: {deployment: {name: ___}}}")) == ["deployers.default.deployment.name"]
    request = {"deployment": {"name": "my_shop", "version": "1"}, "templates": {"app": {"args": {"image": "i"}}}}
    assert [p["path"] for p in deploy_request.problems(request)] == ["body.deployment.name"]


def test_an_empty_mapping_in_environment_is_the_empty_string():
    """2015 normalize_config: `str(env.get('value') or '')`."""
    assert load("environment: {VAR: {}, KEEP: x}")["environment"] == {"VAR": "", "KEEP": "x"}


def test_durations_in_days_and_weeks_within_the_limit():
    from deployer.durations import seconds

    assert seconds("1d", 0) == 86400 and seconds("2w", 0) == 2 * 7 * 86400
    config = load("deployers: {default: {deployment: {check: {timeout: 1d}, drain: 1d}}}")
    assert config["deployers"]["default"]["deployment"]["check"]["timeout"] == "1d"
    error = failure("deployers: {default: {deployment: {stop: {timeout: 2w}}}}")
    assert paths(error) == ["deployers.default.deployment.stop.timeout"] and "longer than 86400 s" in error.message
    assert not deploy_request.problems(
        {"deployment": {"name": "a", "version": "1", "drain": "1d"}, "templates": {"app": {"args": {"image": "i"}}}}
    )


def test_the_deployer_refuses_a_duration_past_the_limit_by_name():
    from deployer.intake import plan
    from totem.api import ApiError

    request = {"deployment": {"name": "a", "version": "1", "drain": 0}, "templates": {"app": {"args": {"image": "i"}}}}
    request["deployment"]["stop"] = {"timeout": "2w"}
    with pytest.raises(ApiError) as refused:
        plan(deploy_request.with_defaults(request))
    assert "body.deployment.stop.timeout: at most 86400 s" in str(refused.value.message)


def test_a_schedule_the_deployer_would_refuse_is_a_config_error_at_its_path():
    """2015 passed any `schedule` text to fleet's timer; Totem checks the OnCalendar syntax at once."""
    from orchestrator.config import schema

    schema.check({"schedule": "*:0/15"}, evaluated=True)
    with pytest.raises(ConfigError) as caught:
        schema.check({"schedule": "*:99"}, evaluated=True)
    assert caught.value.errors[0]["path"] == "schedule"
    assert "99" in caught.value.errors[0]["message"]
