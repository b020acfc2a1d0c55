"""Unit files for the fleet scheduler, rendered from `fleet_templates/` in a sandboxed Jinja
environment (StrictUndefined), converted to fleet's unit options, and checked by systemd."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

import fleet_templates
from deployer.records import Record
from deployer.schedulers.base import labels as instance_labels
from deployer.secrets import is_encrypted
from totem import rfc5424, syslog_url
from totem.contracts.labels import NODE, SYSLOG

_LINE_BREAKS = re.compile(r"[\r\n\x00]")


def systemd_quote(value: object) -> str:
    """One systemd command-line word / assignment: double-quoted, specifiers and variables escaped."""
    text = _LINE_BREAKS.sub(" ", str(value))
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{text}"'


def environment(templates_dir: str | None = None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(fleet_templates.DIRECTORY))]
    if templates_dir:
        loaders.insert(0, FileSystemLoader(templates_dir))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    env.filters["systemd_quote"] = systemd_quote
    return env


def unit_prefix(record: Record) -> str:
    return record["id"]


def unit_names(record: Record) -> dict[str, list[str]]:
    """{role: [instance unit names]}; roles: app, register, logger (+ timer when scheduled)."""
    prefix = unit_prefix(record)
    roles = ["app", "register", "logger"] + (["timer"] if record["spec"].get("schedule") else [])
    suffix = {"timer": "timer"}
    return {
        role: [
            f"{prefix}-{role if role != 'timer' else 'app'}@{i}.{suffix.get(role, 'service')}"
            for i in range(1, record["spec"]["nodes"] + 1)
        ]
        for role in roles
    }


def render(record: Record, settings, options, port: int) -> dict[str, str]:
    """{role: unit text} (templates: instance %i filled in by systemd/fleet)."""
    env = environment(options.fleet_templates)
    request_env = record["request"].get("environment") or {}
    labels = instance_labels(record, "-", port)
    labels.pop(NODE)  # the template names each instance (%i), so it sets this one itself
    labels.pop(SYSLOG, None)  # the logger sidekick ships the output, not a host shipper
    context = {
        "app": record["app"],
        "version": record["version"],
        "deployment": record["id"],
        "image": record["spec"]["image"],
        "port": port,
        "stop_timeout": int(record["spec"]["stop_timeout"]),
        "environment": {k: v for k, v in request_env.items() if not is_encrypted(v)},
        "secrets": sorted(k for k, v in request_env.items() if is_encrypted(v)),
        "labels": labels,
        "node_label": NODE,
        "unit_prefix": unit_prefix(record),
        "node_prefix": record["id"],
        "discover_image": options.discover_image,
        "etcd_url": settings.etcd_url,
        "yoda_base": settings.yoda_base,
        "schedule": record["spec"].get("schedule") or "",
        "syslog": logger_destination(record["spec"].get("syslog", "")),
        "sd_id": rfc5424.ENTERPRISE_ID,
    }
    roles = unit_names(record)
    return {role: env.get_template(fleet_templates.TEMPLATES[role]).render(context) for role in roles}


def logger_destination(url: str) -> dict | None:
    """{"host", "port"} for the logger sidekick (util-linux logger speaks plain TCP: a tls://
    collector is reached through the journal instead), None when nothing is shipped. Checked
    again here: these values are written into a shell line."""
    destination = syslog_url.optional(url)
    if destination is None or destination.tls:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", destination.host):
        raise syslog_url.SyslogUrlError(f"unusable syslog host {destination.host!r}")
    return {"host": destination.host, "port": int(destination.port)}


def to_options(text: str) -> list[dict[str, str]]:
    """A unit file as fleet's API wants it: [{"section", "name", "value"}], in order."""
    options, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        name, _, value = line.partition("=")
        options.append({"section": section, "name": name.strip(), "value": value.strip()})
    return options


def from_options(options: list[dict[str, str]]) -> str:
    lines: list[str] = []
    section: str | None = None
    for option in options:
        if option["section"] != section:
            section = option["section"]
            lines.append(f"\n[{section}]" if lines else f"[{section}]")
        lines.append(f"{option['name']}={option['value']}")
    return "\n".join(lines) + "\n"


def verify(units: dict[str, str]) -> tuple[bool, str]:
    """`systemd-analyze verify` on every unit (templates as instance 1). (ok, output)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise RuntimeError("systemd-analyze is not installed (Debian package systemd)")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, text in units.items():
            path = Path(folder) / name.replace("@.", "@1.")
            path.write_text(text)
            paths.append(str(path))
        result = subprocess.run(
            [tool, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=60, cwd=folder
        )
    output = (result.stdout + result.stderr).strip()
    return result.returncode == 0, output
