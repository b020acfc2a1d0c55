"""Load an app's configuration: every provider at every level, merged, validated, evaluated, validated.

A configuration that names its deployers (at any level but the built-in defaults) deploys to those
only: the built-in `default` deployer is dropped then, unless a level names `default` itself.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml

from orchestrator.config import normalize, schema
from orchestrator.config.errors import ConfigError
from orchestrator.config.evaluate import evaluate, ref_number
from orchestrator.config.merge import apply_defaults, merge_documents
from orchestrator.config.providers.base import FILES, Location, Provider

__all__ = ["Location", "load_config", "merged_config", "parse", "finish"]


def parse(text: str, source: str) -> dict:
    """The document `text` holds (a fresh copy: parsing is cached, since the same files, the built-in
    defaults first, are read for every job)."""
    return copy.deepcopy(_parse(text, source))


@functools.lru_cache(maxsize=256)
def _parse(text: str, source: str) -> dict:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{source}:{where} invalid YAML", [{"path": source, "message": "invalid YAML" + where}]
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: the document must be a mapping", [{"path": source, "message": "not a mapping"}])
    return document


def merged_config(providers: list[Provider], location: Location) -> tuple[dict, list[str]]:
    """Merged raw config and the sources used (least specific first)."""
    documents: list[tuple[dict, bool]] = []
    sources: list[str] = []
    for level in location.levels():
        for provider in reversed(providers):
            for file_name in FILES:
                text = provider.load(location, level, file_name)
                if text is None:
                    continue
                source = f"{provider.name}:{'/'.join((*level, file_name))}"
                documents.append((parse(text, source), provider.builtin))
                sources.append(source)
    return merge_documents(documents), sources


def context_of(location: Location, deployer_url: str) -> dict[str, Any]:
    return {
        "owner": location.owner,
        "repo": location.repo,
        "ref": location.ref,
        "ref_number": ref_number(location.ref),
        "commit": location.commit or "",
        "env": location.env,
        "cluster": location.cluster,
        "deployer_url": deployer_url,
    }


def finish(merged: dict, location: Location, deployer_url: str) -> dict:
    """`__defaults__` expanded, normalised, checked, evaluated, filled in, checked again."""
    config = normalize.before(apply_defaults(merged))
    schema.check(config, evaluated=False)
    evaluated = normalize.after(evaluate(config, context_of(location, deployer_url)), deployer_url)
    schema.check(evaluated, evaluated=True)
    return evaluated


def load_config(providers: list[Provider], location: Location, deployer_url: str) -> tuple[dict, list[str]]:
    """(evaluated config, sources); raises ConfigError naming the key path."""
    merged, sources = merged_config(providers, location)
    return finish(merged, location, deployer_url), sources
