"""Structured logging: one JSON object (or key=value line) per record, with request/job ids.

Secrets never reach a log: values registered with `register_secret` (and the
settings' secrets, on `bootstrap`) are replaced by `***`, and so is any extra
field whose name looks like a secret.

Every process calls `bootstrap(service)` once at start; nothing else configures logging.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from totem.settings import Settings

# the ids in force; each `log_context` sets a new mapping, so the shared empty default is never changed
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "totem_log_context", default=MappingProxyType({})
)
_secrets: set[str] = set()
_longest_first: list[str] = []  # _secrets, longest first (a secret containing another is masked whole)
_SECRET_NAMES = re.compile(r"secret|password|passwd|token|authorization|signature|credential", re.I)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4 and value not in _secrets:
        _secrets.add(value)
        _longest_first[:] = sorted(_secrets, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, "***")
    if "@" not in text:  # no user:password@ in a URL (the common case: skip the regex)
        return text
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


@contextlib.contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Attach ids (request_id, job_id, deployment_id, ...) to every record logged inside."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord, service: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "service": service,
        "logger": record.name,
        "msg": redact(record.getMessage()),
    }
    fields.update(_context.get())
    if record.__dict__.keys() - _STANDARD:  # the record's own fields (`extra=`), in their order
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                fields[name] = "***" if _SECRET_NAMES.search(name) else value
    if record.exc_info:
        fields["exc"] = redact(logging.Formatter().formatException(record.exc_info))
    return fields


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self.service), default=str)


class KeyValueFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        def quoted(value: Any) -> str:
            text = str(value)
            return json.dumps(text) if (not text or " " in text or '"' in text or "=" in text) else text

        return " ".join(f"{k}={quoted(v)}" for k, v in _fields(record, self.service).items())


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted, so a stream swapped in
    later (gunicorn's, Celery's, a test's) still gets the lines."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def bootstrap(service: str, settings: Settings | None = None, level: int | str = logging.INFO) -> None:
    """The one logging set-up of every Totem process (app factory, Celery worker, CLI).

    The root logger writes one record a line to stderr in TOTEM_LOG_FORMAT (json or kv),
    with the settings' secrets masked. Calling it again replaces its own handler (a
    second service name or format wins) and leaves any other handler alone.
    """
    if settings is None:
        from totem.settings import Settings, SettingsError

        try:
            settings = Settings.from_env()
        except SettingsError:  # the entry point reports it when it loads its settings
            settings = Settings()
    for secret in (settings.hook_secret, settings.api_token, settings.github_token):
        register_secret(secret)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(KeyValueFormatter(service) if settings.log_format == "kv" else JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
