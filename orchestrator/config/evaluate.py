"""Evaluate a merged totem.yml: render its `{value: "{{ jinja }}"}` leaves, then convert text to the
types the schema wants (orchestrator/config/convert.py).

Scope: the built-ins (owner, repo, ref, ref_number, commit, env, cluster, deployer_url), `deployer`
inside `deployers.<name>`, and the `variables` of every enclosing mapping — a `variables` block may
sit in any mapping and is seen by that mapping's subtree, inner blocks over outer ones and over the
built-ins (orchestrator/config/variables.py orders a block). `template: false` takes a value
literally; encrypted values pass through unrendered. Undefined names render as ''. Every failure
is collected: one ConfigError (stage `evaluate`) names each key path and its reason.
"""

from __future__ import annotations

from typing import Any

from orchestrator.config.convert import convert
from orchestrator.config.errors import key_path, raise_if_any
from orchestrator.config.merge import is_template
from orchestrator.config.schema import EVALUATED_SCHEMA
from orchestrator.config.templates import TemplateFailure, render
from orchestrator.config.variables import evaluate_block, scope_with

VARIABLES = "variables"


def ref_number(ref: str) -> str:
    """2015's `ref_number`: the ref lowercased, `feature_`, `patch_` and `develop_` removed."""
    return ref.lower().replace("feature_", "").replace("patch_", "").replace("develop_", "")


class _Evaluation:
    def __init__(self) -> None:
        self.problems: list[dict] = []

    def leaf(self, node: dict, scope: dict, path: tuple) -> Any:
        if node.get("encrypted") is True:
            return {"value": node["value"], "encrypted": True}
        value = node["value"]
        if node.get("template") is False or not isinstance(value, str):
            return value
        try:
            return render(value, scope)
        except TemplateFailure as exc:
            self.problems.append({"path": key_path(path), "message": exc.reason})
            return None

    def node(self, node: Any, scope: dict, path: tuple) -> Any:
        if is_template(node):
            return self.leaf(node, scope, path)
        if isinstance(node, list):
            return [self.node(item, scope, (*path, index)) for index, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        block = node.get(VARIABLES)
        values: dict[str, Any] = {}
        if isinstance(block, dict) and block:
            values = evaluate_block(block, scope, (*path, VARIABLES), self.node, self.problems)
            scope = scope_with(scope, values)
        result = {}
        for key, child in node.items():
            if key == VARIABLES:
                continue
            inner = {**scope, "deployer": key} if path == ("deployers",) else scope
            result[key] = self.node(child, inner, (*path, key))
        if not path:  # the app's own variables stay visible in the evaluated config
            result[VARIABLES] = values
        return result


def evaluate(config: dict, context: dict) -> dict:
    """The config with every template rendered and text converted (a new dict; the input is not
    changed). Raises ConfigError listing every template, cycle and conversion failure."""
    evaluation = _Evaluation()
    rendered = evaluation.node(config, {**context, VARIABLES: {}}, ())
    converted = convert(rendered, EVALUATED_SCHEMA, evaluation.problems)
    raise_if_any(evaluation.problems, "evaluate")
    return converted
