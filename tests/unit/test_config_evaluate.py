"""Sandboxed Jinja evaluation: tests, filters, coercion, encrypted pass-through, no escapes.

The 2015-parity rules are in test_config_2015.py."""

from __future__ import annotations

import pytest

from orchestrator.config import ConfigError
from orchestrator.config.evaluate import evaluate

CONTEXT = {"owner": "acme", "repo": "shop", "ref": "feature/x", "commit": "a" * 40, "env": "prod", "cluster": "east"}


def test_only_value_dicts_are_templates():
    config = {"plain": "{{ owner }}", "tpl": {"value": "{{ owner }}-{{ cluster }}"}}
    assert evaluate(config, CONTEXT) == {"plain": "{{ owner }}", "tpl": "acme-east", "variables": {}}


def test_replace_regex_filter_and_undefined_renders_empty():
    config = {"a": {"value": "{{ ref | replace_regex('[^a-z]+', '-') }}"}, "b": {"value": "[{{ nothing }}]"}}
    result = evaluate(config, CONTEXT)
    assert result["a"] == "feature-x" and result["b"] == "[]"


def test_matching_is_anchored():
    """2015 used re.match (`foo` also matched `foo-bar`); ours is anchored. Booleans render `true`/`false`."""
    config = {"a": {"value": "{{ 'foo-bar' is matching('foo') }}"}, "b": {"value": "{{ 'foo' is matching('fo+') }}"}}
    assert evaluate(config, CONTEXT) == {"a": "false", "b": "true", "variables": {}}


def test_coercion_of_known_keys():
    config = {"enabled": {"value": "{{ 1 == 1 }}"}, "nodes": {"value": "4"}, "force-ssl": {"value": "no"}}
    result = evaluate(config, CONTEXT)
    assert result["enabled"] is True and result["nodes"] == 4 and result["force-ssl"] is False


def test_not_a_boolean_is_an_error_with_its_path():
    with pytest.raises(ConfigError) as caught:
        evaluate({"deployers": {"p": {"enabled": {"value": "maybe"}}}}, CONTEXT)
    assert caught.value.errors[0]["path"] == "deployers.p.enabled"


def test_deployer_name_is_in_context_inside_deployers():
    result = evaluate({"deployers": {"east": {"url": {"value": "http://{{ deployer }}.localhost"}}}}, CONTEXT)
    assert result["deployers"]["east"]["url"] == "http://east.localhost"


def test_variables_in_dependency_order_and_config_variables_override_builtins():
    """2015: a variable named like a built-in (`owner`) overrides it; ours too. A variable that uses
    another is evaluated after it, whatever the priorities say (2015 went by priority alone)."""
    config = {
        "variables": {
            "b": {"value": "{{ a }}-b", "priority": 1},
            "a": {"value": "{{ owner }}", "priority": 2},
            "owner": {"value": "other-{{ owner }}"},  # itself: the built-in it overrides
        },
        "x": {"value": "{{ b }}/{{ owner }}"},
    }
    result = evaluate(config, CONTEXT)
    assert result["x"] == "other-acme-b/other-acme"


def test_sandbox_blocks_attribute_escapes():
    for template in ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ cycler.__init__.__globals__.os }}"):
        with pytest.raises(ConfigError) as caught:
            evaluate({"x": {"value": template}}, CONTEXT)
        assert caught.value.errors[0]["path"] == "x"


def test_syntax_errors_name_the_path():
    with pytest.raises(ConfigError) as caught:
        evaluate({"environment": {"A": {"value": "{{ unclosed"}}}, CONTEXT)
    assert caught.value.errors[0]["path"] == "environment.A"
