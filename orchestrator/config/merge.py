"""Deep merge (dicts merge, everything else replaces), `__defaults__` expansion, and the rule that
a configuration naming its deployers deploys to those only."""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS_KEY = "__defaults__"
BUILTIN_DEPLOYER = "default"
TEMPLATE_KEYS = frozenset({"value", "priority", "encrypted", "template"})


def is_template(value: Any) -> bool:
    """`{value: ..., priority: N, encrypted: bool, template: bool}`: a leaf, never merged key by key."""
    return isinstance(value, dict) and "value" in value and set(value) <= TEMPLATE_KEYS


def deep_merge(base: Any, override: Any) -> Any:
    """`override` wins; nested dicts merge; lists and templates replace whole."""
    if not isinstance(base, dict) or not isinstance(override, dict) or is_template(base) or is_template(override):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged


def apply_defaults(tree: Any) -> Any:
    """Merge each dict's `__defaults__` under every sibling dict, at any depth; drop the key."""
    if not isinstance(tree, dict) or is_template(tree):
        return tree
    tree = {key: apply_defaults(value) for key, value in tree.items()}
    defaults = tree.pop(DEFAULTS_KEY, None)
    if isinstance(defaults, dict):
        for key, value in tree.items():
            if isinstance(value, dict) and not is_template(value):
                tree[key] = deep_merge(defaults, value)
    return tree


def deployers_named(document: dict) -> set[str]:
    """The deployers a document names (`__defaults__` names none)."""
    deployers = document.get("deployers")
    return {str(name) for name in deployers if name != DEFAULTS_KEY} if isinstance(deployers, dict) else set()


def merge_documents(documents: list[tuple[dict, bool]]) -> dict:
    """Merge (document, built-in?) pairs, least specific first. The built-in `default` deployer is
    kept only when no other document names a deployer, or one names `default` itself."""
    named = set().union(*(deployers_named(doc) for doc, builtin in documents if not builtin))
    merged: dict[str, Any] = {}
    for document, builtin in documents:
        if builtin and named and BUILTIN_DEPLOYER not in named and isinstance(document.get("deployers"), dict):
            document = {
                **document,
                "deployers": {k: v for k, v in document["deployers"].items() if k != BUILTIN_DEPLOYER},
            }
        merged = deep_merge(merged, document)
    return merged
