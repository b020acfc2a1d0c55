"""Evaluate `{value: "{{ jinja }}"}` leaves in a sandboxed Jinja environment.

Context: owner, repo, ref, commit, env, cluster, deployer (inside `deployers.<name>`), and the
`variables`, evaluated in ascending `priority` so a variable can use those of lower priority.
Encrypted values pass through untouched. Undefined names render as ''.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from orchestrator.config.errors import ConfigError
from orchestrator.config.merge import is_template

BOOLEAN_KEYS = {"enabled", "force-ssl", "encrypted"}
INTEGER_KEYS = {"port", "nodes", "min-nodes", "attempts", "level", "check-retries", "priority"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def replace_regex(value: Any, pattern: str, replacement: str = "") -> str:
    return re.sub(pattern, replacement, str(value))


def matching(value: Any, pattern: str) -> bool:
    """Anchored: `foo` matches only `foo`, never `foo-bar`."""
    return re.fullmatch(pattern, str(value)) is not None


def starting_with(value: Any, prefix: str) -> bool:
    return str(value).startswith(prefix)


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(line_statement_prefix="#", autoescape=False)
    env.filters["replace_regex"] = replace_regex
    env.tests["matching"] = matching
    env.tests["starting_with"] = starting_with
    return env


_ENV = environment()


def _path(parts: tuple) -> str:
    return ".".join(str(p) for p in parts) or "(root)"


def coerce(key: str, value: Any, path: tuple) -> Any:
    """Rendered text → bool/int for keys that hold them."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if key in BOOLEAN_KEYS:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ConfigError(
            f"{_path(path)}: {value!r} is not a boolean",
            [{"path": _path(path), "message": f"{value!r} is not a boolean"}],
            "evaluate",
        )
    if key in INTEGER_KEYS and re.fullmatch(r"-?\d+", text):
        return int(text)
    return value


def render(template: Any, context: dict, path: tuple) -> Any:
    if not isinstance(template, str):
        return template
    try:
        return _ENV.from_string(template).render(context)
    except TemplateError as exc:  # includes SecurityError from the sandbox
        message = f"template error: {exc}"
        raise ConfigError(
            f"{_path(path)}: {message}", [{"path": _path(path), "message": message}], "evaluate"
        ) from None


def _evaluate(node: Any, context: dict, path: tuple) -> Any:
    key = str(path[-1]) if path else ""
    if is_template(node):
        if node.get("encrypted") is True:
            return dict(node)
        return coerce(key, render(node["value"], context, path), path)
    if isinstance(node, dict):
        result = {}
        for child_key, child in node.items():
            child_context = context
            if len(path) == 1 and path[0] == "deployers":
                child_context = {**context, "deployer": child_key}
            result[child_key] = _evaluate(child, child_context, (*path, child_key))
        return result
    if isinstance(node, list):
        return [_evaluate(item, context, (*path, index)) for index, item in enumerate(node)]
    return node


def evaluate_variables(variables: dict, context: dict) -> dict:
    def priority(item):
        value = item[1]
        return value.get("priority", 0) if is_template(value) and isinstance(value.get("priority", 0), int) else 0

    evaluated: dict[str, Any] = {}
    for name, value in sorted(variables.items(), key=priority):
        scope = {**evaluated, **context, "variables": evaluated}
        evaluated[name] = _evaluate(value, scope, ("variables", name))
    return evaluated


def evaluate(config: dict, context: dict) -> dict:
    """The config with every template rendered (a new dict; the input is not changed)."""
    variables = evaluate_variables(config.get("variables") or {}, context)
    scope = {**variables, **context, "variables": variables}
    result = {key: _evaluate(value, scope, (key,)) for key, value in config.items() if key != "variables"}
    result["variables"] = variables
    return result
