"""Sandboxed Jinja evaluation: tests, filters, coercion, encrypted pass-through, no escapes."""

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
    config = {"a": {"value": "{{ 'foo-bar' is matching('foo') }}"}, "b": {"value": "{{ 'foo' is matching('fo+') }}"}}
    assert evaluate(config, CONTEXT) == {"a": "False", "b": "True", "variables": {}}


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


def test_variables_by_priority_and_builtins_cannot_be_shadowed():
    config = {
        "variables": {
            "b": {"value": "{{ a }}-b", "priority": 2},
            "a": {"value": "{{ owner }}", "priority": 1},
            "owner": {"value": "evil"},
        },
        "x": {"value": "{{ b }}/{{ owner }}"},
    }
    result = evaluate(config, CONTEXT)
    assert result["x"] == "acme-b/acme"


def test_sandbox_blocks_attribute_escapes():
    for template in ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ cycler.__init__.__globals__.os }}"):
        with pytest.raises(ConfigError) as caught:
            evaluate({"x": {"value": template}}, CONTEXT)
        assert caught.value.errors[0]["path"] == "x"


def test_syntax_errors_name_the_path():
    with pytest.raises(ConfigError) as caught:
        evaluate({"environment": {"A": {"value": "{{ unclosed"}}}, CONTEXT)
    assert caught.value.errors[0]["path"] == "environment.A"
