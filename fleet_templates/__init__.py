"""Jinja unit templates for the fleet scheduler (default app, sidekicks, timer).

Templates ship with the package; a directory set in TOTEM_FLEET_TEMPLATES overrides any of them
by file name. Rendering never goes through a shell: values are quoted for systemd.
"""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
TEMPLATES = {
    "app": "default-app.service.j2",
    "register": "yoda-register.service.j2",
    "logger": "logger.service.j2",
    "timer": "default-app.timer.j2",
}
