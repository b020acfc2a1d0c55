"""Deep merge (dicts merge, everything else replaces) and `__defaults__` expansion."""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS_KEY = "__defaults__"


def is_template(value: Any) -> bool:
    """`{value: ..., priority: N, encrypted: bool}`: a leaf, never merged key by key."""
    return isinstance(value, dict) and "value" in value and set(value) <= {"value", "priority", "encrypted"}


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
