"""The keys under YODA_BASE, grouped by section and entity as events arrive.

    hosts/<id>/...  upstreams/<id>/...  global/listeners/<id>/...  global/acls/<id>/...  certs/<id>

Each change names the entity it touched ("hosts/<id>"), so a parse can rebuild only those.
Other keys (`revision`, `global/errors/404`, ...) are kept flat.
"""

from __future__ import annotations

from typing import overload

from totem.contracts import yoda

# Section prefixes, relative to the base: "hosts/".
HOSTS = yoda.HOSTS + "/"
UPSTREAMS = yoda.UPSTREAMS + "/"
LISTENERS = yoda.LISTENERS + "/"
ACLS = yoda.ACLS + "/"
CERTS = yoda.CERTS + "/"
SECTIONS = (HOSTS, UPSTREAMS, LISTENERS, ACLS, CERTS)
Tree = dict[str, dict[str, str]]


class KeyTree:
    def __init__(self) -> None:
        self.sections: dict[str, Tree] = {section: {} for section in SECTIONS}
        self.flat: dict[str, str] = {}

    @classmethod
    def of(cls, keys: dict[str, str]) -> KeyTree:
        tree = cls()
        for key, value in keys.items():
            tree.put(key, value)
        return tree

    @staticmethod
    def locate(key: str) -> tuple[str, str, str] | None:
        """(section, entity id, rest of the key), or None for a flat key."""
        for section in SECTIONS:
            if key.startswith(section):
                head, _, rest = key[len(section) :].partition("/")
                return (section, head, rest) if head else None
        return None

    def put(self, key: str, value: str) -> str | None:
        where = self.locate(key)
        if where is None:
            self.flat[key] = value
            return None
        section, head, rest = where
        self.sections[section].setdefault(head, {})[rest] = value
        return section + head

    def delete(self, key: str) -> str | None:
        where = self.locate(key)
        if where is None:
            self.flat.pop(key, None)
            return None
        section, head, rest = where
        entity = self.sections[section].get(head)
        if entity is not None:
            entity.pop(rest, None)
            if not entity:
                del self.sections[section][head]
        return section + head

    def items(self) -> dict[str, str]:
        """Back to flat keys."""
        flat = dict(self.flat)
        for section, tree in self.sections.items():
            for head, keys in tree.items():
                for rest, value in keys.items():
                    flat[section + head + ("/" + rest if rest else "")] = value
        return flat

    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: None = None) -> str | None: ...
    def get(self, key: str, default: str | None = None) -> str | None:
        return self.flat.get(key, default)
