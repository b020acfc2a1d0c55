"""The sandboxed Jinja environment totem.yml templates render in: tests, filters, and what a template reads.

`render` returns the text stripped of surrounding whitespace, booleans spelled `true`/`false` (as
YAML and the 2015 system wrote them), and turns every failure — syntax, an undefined name called,
a sandbox refusal, a filter given the wrong value — into TemplateFailure with a one-line reason.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Template, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from orchestrator.errors import OrchestratorError


class TemplateFailure(OrchestratorError):
    """A template that cannot be rendered; `reason` says why (the caller names the key path)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def replace_regex(value: Any, pattern: str, replacement: str = "") -> str:
    return re.sub(pattern, replacement, str(value))


def matching(value: Any, pattern: str, casesensitive: bool = True) -> bool:
    """Anchored: `foo` matches only `foo`, never `foo-bar`; `matching('foo', False)` ignores case."""
    return re.fullmatch(str(pattern), str(value), 0 if casesensitive else re.IGNORECASE) is not None


def starting_with(value: Any, prefix: str) -> bool:
    return str(value).startswith(str(prefix))


def _finalize(value: Any) -> Any:
    """What `{{ … }}` prints: a bool as `true`/`false`, not Python's `True`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(line_statement_prefix="#", autoescape=False, finalize=_finalize)
    env.filters["replace_regex"] = replace_regex
    env.tests["matching"] = matching
    env.tests["starting_with"] = starting_with
    return env


_ENV = environment()


def _reason(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error (line {exc.lineno}): {exc.message}"
    if isinstance(exc, SecurityError):
        return f"not allowed in the sandbox: {exc}"
    if isinstance(exc, UndefinedError):
        return f"undefined: {exc.message}"
    if isinstance(exc, re.error):
        return f"bad regular expression: {exc}"
    if isinstance(exc, TemplateError):
        return f"template error: {exc}"
    return f"template error: {type(exc).__name__}: {exc}"  # a filter or an operator given the wrong values


@functools.lru_cache(maxsize=2048)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)


def render(source: str, context: dict) -> str:
    try:
        return _compiled(source).render(context).strip()
    except Exception as exc:  # any failure of a user's template is a config error, never a traceback
        raise TemplateFailure(_reason(exc)) from None


@functools.lru_cache(maxsize=2048)
def reads(source: str) -> frozenset[str]:
    """The names a template uses from its context, `variables['x']` and `variables.x` included."""
    try:
        tree = _ENV.parse(source)
    except Exception as exc:
        raise TemplateFailure(_reason(exc)) from None
    names = set(meta.find_undeclared_variables(tree))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Call)):
        if isinstance(node, nodes.Getattr) and _is_variables(node.node):  # variables.x
            names.add(node.attr)
        elif isinstance(node, nodes.Getitem) and _is_variables(node.node):  # variables['x']
            names.update(_constant(node.arg))
        elif isinstance(node, nodes.Call) and node.args and isinstance(node.node, nodes.Getattr):
            if node.node.attr == "get" and _is_variables(node.node.node):  # variables.get('x')
                names.update(_constant(node.args[0]))
    return frozenset(names)


def _is_variables(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "variables"


def _constant(node: nodes.Node) -> list[str]:
    return [node.value] if isinstance(node, nodes.Const) and isinstance(node.value, str) else []
