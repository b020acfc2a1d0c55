"""Roles (each includes the ones before it) and the least role each action needs."""

from __future__ import annotations

ROLES = ("viewer", "deployer", "admin")

ACTIONS: dict[str, str] = {
    "read": "viewer",  # reads that need a token at all: the audit trail, the token list's own entry
    "deploy": "deployer",
    "build": "deployer",
    "rollback": "deployer",
    "undeploy": "deployer",
    "promote": "deployer",
    "abort": "deployer",
    "pause": "deployer",
    "resume": "deployer",
    "maintenance": "deployer",
    "approve": "viewer",  # the app's approval policy names who may decide (roles or token names)
    "secrets": "deployer",  # encrypt a value for totem.yml
    "secrets.keys": "admin",  # rotate or retire an environment's keys
    "tokens": "admin",
}


def role_for(action: str) -> str:
    """The least role `action` needs; an action nobody declared needs admin (fail closed)."""
    return ACTIONS.get(action, "admin")


def includes(role: str, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
