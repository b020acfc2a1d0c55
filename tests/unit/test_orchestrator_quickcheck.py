"""The quick schema check (totem.api.quickcheck) says yes exactly when jsonschema finds no error, so
skipping jsonschema for the bodies it passes changes no answer."""

from __future__ import annotations

import copy

import hypothesis
import hypothesis.strategies as st
import pytest
from jsonschema import Draft202012Validator

from tests.unit.test_orchestrator_payloads import generic_hook
from totem.api import ApiError, validate
from totem.api.quickcheck import compile_check
from totem.contracts.hook import GENERIC_HOOK_SCHEMA

# values at the schema's edges: lengths either side of each limit, enum members and near misses
BOUNDARY = ["", "x", "x" * 100, "x" * 101, "x" * 871, "x" * 872, "x" * 1000, "x" * 1001, "é", "a\n", "-x", "_x"]
BOUNDARY += ["builder", "ci", "scm-push", "success", "pending", "Success", "127.0.0.1:5000/a:b", "quay.io/a", "v1"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
# where a mutation lands in a generic hook, and the fields it may touch there
FIELDS_AT = {
    (): ["git", "type", "name", "status", "result", "force-deploy", "other"],
    ("git",): ["owner", "repo", "ref", "commit", "other"],
    ("result",): ["image", "docker_url", "docker_tags", "other"],
    ("result", "docker_tags"): [0, 1],
}
MUTATIONS = st.sampled_from(list(FIELDS_AT)).flatmap(
    lambda place: st.tuples(
        st.just(place), st.sampled_from(FIELDS_AT[place]), st.one_of(st.sampled_from(BOUNDARY), VALUES), st.booleans()
    )
)


def mutated(hook: dict, place: tuple, field, value, delete: bool):
    hook = copy.deepcopy(hook)
    target = hook
    for step in place:
        if not isinstance(target, dict):
            return hook
        target = target.setdefault(step, {} if step != "docker_tags" else ["abc"])
    if isinstance(target, dict) and isinstance(field, str):
        if delete:
            target.pop(field, None)
        else:
            target[field] = value
    elif isinstance(target, list) and isinstance(field, int):
        target.insert(field, value)
    return hook


@hypothesis.settings(max_examples=1500, deadline=None)
@hypothesis.given(
    base=st.sampled_from(
        [
            generic_hook("o", "r", "main", "a" * 40),
            generic_hook("o", "r", "main", "a" * 40, "ci", "travis", "failed", **{"force-deploy": True}),
            {**generic_hook("o", "r", "m", "c"), "result": {"docker_url": "quay.io/a/b", "docker_tags": ["v1"]}},
        ]
    ),
    mutations=st.lists(MUTATIONS, max_size=3),
)
def test_the_quick_check_agrees_with_jsonschema_on_generic_hooks(base, mutations):
    quick, full = compile_check(GENERIC_HOOK_SCHEMA), Draft202012Validator(GENERIC_HOOK_SCHEMA)
    hook = base
    for place, field, value, delete in mutations:
        hook = mutated(hook, place, field, value, delete)
    assert quick is not None and quick(hook) == full.is_valid(hook), hook


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(value=VALUES)
def test_the_quick_check_agrees_with_jsonschema_on_any_value(value):
    for schema in (GENERIC_HOOK_SCHEMA, GENERIC_HOOK_SCHEMA["properties"]["result"], {"type": ["integer", "null"]}):
        quick = compile_check(schema)
        assert quick is not None and quick(value) == Draft202012Validator(schema).is_valid(value), (schema, value)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"anyOf": [{"type": "string"}]},
        {"enum": [1, True]},  # JSON equality (True is not 1): jsonschema's to judge
        {"type": "object", "patternProperties": {"^a": {}}},
        {"properties": {"a": {"format": "email"}}},
    ],
)
def test_schemas_beyond_the_quick_check_are_always_left_to_jsonschema(schema):
    assert compile_check(schema) is None


def test_a_body_the_quick_check_refuses_still_gets_every_problem_named():
    hook = generic_hook("o", "", "main", "a" * 40, status="maybe")
    with pytest.raises(ApiError) as refused:
        validate(hook, GENERIC_HOOK_SCHEMA)
    paths = [problem["path"] for problem in refused.value.details["errors"]]
    assert paths == ["body.git.repo", "body.status"]
    assert validate(generic_hook("o", "r", "main", "a" * 40), GENERIC_HOOK_SCHEMA)["name"] == "image-factory"
