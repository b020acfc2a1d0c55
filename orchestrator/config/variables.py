"""One `variables` block: each variable evaluated after the ones of the block it uses, `priority`
(then the order written) deciding among the rest; a cycle is an error naming its variables.

As in 2015, a plain value (`name: text`) is taken literally and comes first (priority 0); a
`{value: …}` variable is a template (unless `template: false`) of priority 1 unless it says
otherwise. A variable that names itself reads the enclosing scope's value (`x: "{{ x }}-more"`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from orchestrator.config.errors import key_path
from orchestrator.config.merge import is_template
from orchestrator.config.templates import TemplateFailure, reads

Evaluate = Callable[[Any, dict, tuple], Any]  # (node, scope, path) → evaluated node


def scope_with(scope: dict, values: dict) -> dict:
    """`values` by name (over the built-ins: config variables win, as in 2015) and in `variables`."""
    return {**scope, **values, "variables": {**scope.get("variables", {}), **values}}


def _templated(raw: Any) -> bool:
    if is_template(raw):
        return raw.get("template", True) is not False
    return isinstance(raw, dict)  # a mapping of values: evaluated like any part of the config


def _priority(raw: Any) -> int | None:
    """The variable's priority; None when it is not a whole number (nothing checks nested blocks' shape)."""
    if is_template(raw):
        priority = raw.get("priority", 1)
        return priority if isinstance(priority, int) and not isinstance(priority, bool) else None
    return 1 if isinstance(raw, dict) else 0


def _sources(raw: Any):
    """Every template text a variable's value renders."""
    if is_template(raw):
        if (
            raw.get("template", True) is not False
            and raw.get("encrypted") is not True
            and isinstance(raw["value"], str)
        ):
            yield raw["value"]
    elif isinstance(raw, dict):
        for value in raw.values():
            yield from _sources(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _sources(value)


def _cycle(start: str, uses: dict[str, set[str]], left: set[str]) -> list[str] | None:
    """A path start → … → start through the variables still left, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for used in sorted(uses[name] & left):
            if used == start:
                return [*path, start]
            if used not in seen:
                seen.add(used)
                stack.append((used, [*path, used]))
    return None


def evaluate_block(block: dict, scope: dict, path: tuple, evaluate: Evaluate, problems: list[dict]) -> dict:
    """The block's evaluated values, by name (problems appended, never raised)."""
    uses: dict[str, set[str]] = {}
    broken: set[str] = set()  # a template that does not parse: reported once, not rendered
    for name, raw in block.items():
        uses[name] = set()
        if _templated(raw):
            try:
                for source in _sources(raw):
                    uses[name] |= reads(source) & set(block)
            except TemplateFailure as exc:
                problems.append({"path": key_path((*path, name)), "message": exc.reason})
                broken.add(name)
        uses[name].discard(name)  # itself: the enclosing value
    waiting = {name: set(used) for name, used in uses.items()}
    rank: dict[str, tuple[int, int]] = {}
    for index, (name, raw) in enumerate(block.items()):
        priority = _priority(raw)
        if priority is None:
            problems.append({"path": key_path((*path, name, "priority")), "message": "must be a whole number"})
        rank[name] = (1 if priority is None else priority, index)
    ready = [(rank[name], name) for name, used in waiting.items() if not used]
    heapq.heapify(ready)
    values: dict[str, Any] = {}
    while ready:
        _, name = heapq.heappop(ready)
        raw = block[name]
        where = (*path, name)
        if name in broken:
            values[name] = None
        elif not _templated(raw):
            values[name] = raw["value"] if is_template(raw) else raw
        else:
            values[name] = evaluate(raw, scope_with(scope, values), where)
        for other, used in waiting.items():
            if name in used:
                used.discard(name)
                if not used and other not in values:
                    heapq.heappush(ready, (rank[other], other))
    left = set(block) - set(values)
    in_cycles = sorted(name for name in left if _cycle(name, uses, left))
    if in_cycles:
        loop = _cycle(in_cycles[0], uses, left) or []
        message = f"variables {', '.join(in_cycles)} depend on each other in a cycle ({' → '.join(loop)})"
        problems.append({"path": key_path(path), "message": message})
    return values
