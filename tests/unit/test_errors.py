"""Every exception class Totem defines derives from totem.errors.TotemError (checked on the source)."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

from deployer.gating import GateFailed
from totem.errors import TotemError
from totem.settings import SettingsError
from totem.store import StoreUnavailable

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "totem",
    "orchestrator",
    "deployer",
    "image_factory",
    "yoda_proxy",
    "yoda_discover",
    "yoda_route53",
    "totem_cli",
    "totem_client",
    "totem_dashboard",
    "totem_demo",
    "totem_stack",
)
BUILTIN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
)


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


Definition = tuple[str, str, list[str]]  # where, class name, base names


def classes(source: str, where: str) -> list[Definition]:
    """Every class defined in `source`, with the names of its bases."""
    return [
        (f"{where}:{node.lineno}", node.name, [b for b in map(_base_name, node.bases) if b])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef)
    ]


def outside_the_root(defined: list[Definition]) -> list[str]:
    """The exception classes (derived from a built-in exception) whose ancestry never reaches TotemError."""
    by_name: dict[str, list[list[str]]] = {}
    for _, name, bases in defined:
        by_name.setdefault(name, []).append(bases)

    def ancestry(bases: list[str], seen: frozenset[str]) -> tuple[bool, bool]:
        """(derives from an exception, reaches TotemError) for a class with these bases."""
        is_error = reaches_root = False
        for base in bases:
            if base == "TotemError":
                return True, True
            if base in BUILTIN_EXCEPTIONS:
                is_error = True
            elif base not in seen:
                for grand_bases in by_name.get(base, []):
                    error, root = ancestry(grand_bases, seen | {base})
                    is_error, reaches_root = is_error or error, reaches_root or root
        return is_error, reaches_root

    return sorted(
        f"{where} {name}"
        for where, name, bases in defined
        if name != "TotemError" and ancestry(bases, frozenset({name})) == (True, False)
    )


def tree_classes() -> list[Definition]:
    found: list[Definition] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found += classes(path.read_text(), str(path.relative_to(REPO)))
    return found


def test_every_exception_class_derives_from_totem_error():
    assert outside_the_root(tree_classes()) == []


def test_the_check_sees_a_class_outside_the_root():
    source = """
class TotemError(Exception): ...
class ServiceError(TotemError): ...
class Refused(ServiceError, ValueError): ...
class Stray(RuntimeError): ...
class StrayChild(Stray): ...
class NotAnError: ...
"""
    assert outside_the_root(classes(source, "x.py")) == ["x.py:5 Stray", "x.py:6 StrayChild"]


@pytest.mark.parametrize(
    "error, builtin",
    [
        (SettingsError("x"), ValueError),
        (StoreUnavailable("x"), RuntimeError),
        (GateFailed("x"), RuntimeError),
    ],
)
def test_errors_keep_the_builtin_kind_callers_catch(error, builtin):
    assert isinstance(error, TotemError) and isinstance(error, builtin)
