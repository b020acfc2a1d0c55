"""The `build:` section of a repository's totem.yml: Dockerfile path, build args, target, context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from image_factory.errors import ImageFactoryError

BUILD_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "context": {"type": "string", "minLength": 1, "maxLength": 500},
        "dockerfile": {"type": "string", "minLength": 1, "maxLength": 500},
        "args": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "target": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"},
    },
}
_validator = Draft202012Validator(BUILD_SCHEMA)


class RepoConfigError(ImageFactoryError, ValueError):
    """The `build:` section of totem.yml is unusable; the message says where."""


@dataclass(frozen=True)
class BuildOptions:
    context: Path
    dockerfile: str = "Dockerfile"  # relative to the context, as the Docker API expects
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None


def _inside(root: Path, relative: str, what: str) -> Path:
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise RepoConfigError(f"totem.yml build.{what} must stay inside the repository")
    return path


def build_options(checkout_dir: Path) -> BuildOptions:
    root = checkout_dir.resolve()
    config_file = root / "totem.yml"
    section: dict[str, Any] = {}
    if config_file.is_file():
        try:
            document = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RepoConfigError(f"totem.yml is not valid YAML: {exc}") from None
        section = document.get("build") or {} if isinstance(document, dict) else {}
    problems = [
        f"build.{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in _validator.iter_errors(section)
    ]
    if problems:
        raise RepoConfigError("totem.yml: " + "; ".join(problems))
    context = _inside(root, section.get("context", "."), "context")
    dockerfile = _inside(
        root, section.get("dockerfile", str(Path(section.get("context", ".")) / "Dockerfile")), "dockerfile"
    )
    if not dockerfile.is_file():
        raise RepoConfigError(f"no Dockerfile at {dockerfile.relative_to(root)}")
    args = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in (section.get("args") or {}).items()}
    return BuildOptions(
        context,
        str(dockerfile.relative_to(context)) if context in dockerfile.parents else str(dockerfile),
        args,
        section.get("target"),
    )
