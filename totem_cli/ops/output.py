"""Output helpers: aligned tables, JSON for scripts, errors on stderr with an exit code."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable

from totem.settings import Settings, SettingsError
from totem_client import Clients, ServiceError

FAILED, UNREACHABLE, CONFIG = 1, 3, 2


def table(rows: list[list], headers: list[str]) -> str:
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells)


def emit_json(value) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def command(handler: Callable) -> Callable:
    """Wrap a handler(args, clients, settings): settings from the environment, service errors → exit codes."""

    @functools.wraps(handler)
    def run(args) -> int:
        try:
            settings = Settings.from_env()
        except SettingsError as exc:
            print(f"totem {args.command}: configuration error: {exc}", file=sys.stderr)
            return CONFIG
        try:
            return int(
                handler(args, Clients.from_settings(settings, settings.cli_token or settings.api_token), settings) or 0
            )
        except ServiceError as exc:
            if getattr(args, "json", False):
                emit_json(
                    {"error": {"service": exc.service, "status": exc.status, "code": exc.code, "message": exc.message}}
                )
            print(f"totem {args.command}: {exc.service}: {exc.message}", file=sys.stderr)
            return UNREACHABLE if exc.status is None else FAILED

    return run
