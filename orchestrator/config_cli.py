"""`totem config validate [--owner O --repo R --ref REF] [totem.yml]`.

Merges the file over the built-in defaults (as the most specific level, by the loader's rules:
a file naming its deployers drops the built-in `default` one), evaluates it and prints the
evaluated config as YAML and exits 0; or prints every error as `<key path>: <reason>` and exits 2,
as it does for unusable settings and an unreadable file.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from orchestrator.config.errors import ConfigError
from orchestrator.config.loader import finish, parse
from orchestrator.config.merge import merge_documents
from orchestrator.config.providers.base import Location
from orchestrator.config.providers.defaults import defaults_yaml
from orchestrator.settings import OrchestratorSettings
from totem.settings import Settings, SettingsError


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help="check an app's totem.yml")
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    validate = actions.add_parser("validate", help="evaluate totem.yml over the defaults; print it or its errors")
    validate.add_argument("file", nargs="?", default="totem.yml", help="path to totem.yml ('-' for stdin)")
    validate.add_argument("--owner", default="owner")
    validate.add_argument("--repo", default="repo")
    validate.add_argument("--ref", default="master")
    validate.add_argument("--commit", default="0" * 40)
    validate.add_argument("--env", help="default: TOTEM_ENV")
    validate.add_argument("--cluster", help="default: TOTEM_CLUSTER")
    validate.set_defaults(handler=_validate)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _validate(args: argparse.Namespace) -> int:
    try:
        settings, options = Settings.from_env(), OrchestratorSettings.from_env()
    except SettingsError as exc:
        print(f"totem config: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        text = _read(args.file)
    except OSError as exc:
        print(f"totem config: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    where = Location(
        args.env or settings.env, args.cluster or settings.cluster, args.owner, args.repo, args.ref, args.commit
    )
    try:
        defaults = parse(defaults_yaml(options.apps_enabled_by_default), "default:totem.yml")
        merged = merge_documents([(defaults, True), (parse(text, args.file), False)])
        evaluated = finish(merged, where, settings.deployer_url)
    except ConfigError as exc:
        for error in exc.errors:
            print(f"{error['path']}: {error['message']}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(evaluated, sort_keys=False, default_flow_style=False), end="")
    return 0
