"""`fleet`: unit files from `fleet_templates/` submitted through fleet's v1 HTTP API.
Instances are `<deployment>-app@<n>.service` with register and logger sidekicks on the same machine
(and a timer when the request has a `schedule`); all instances share one port, one per machine."""

from __future__ import annotations

from deployer import fleet_units
from deployer.fleet_api import FleetClient
from deployer.schedulers.base import Instance, Record, Scheduler

FLEET_HOST = "fleet"


class FleetScheduler(Scheduler):
    name = "fleet"
    runs_schedules = True  # a scheduled job's timer units start it: the deployer's beat leaves it alone

    def __init__(self, ctx):
        self.ctx = ctx
        self.client = FleetClient(ctx.options.fleet_url)

    def place(self, record: Record) -> dict[str, dict]:
        placed = dict(record.get("instances") or {})
        if len(placed) < record["spec"]["nodes"]:
            port = (
                next(iter(placed.values()))["port"]
                if placed
                else self.ctx.ports.reserve(FLEET_HOST, "0.0.0.0", record["id"])
            )
            for index in range(1, record["spec"]["nodes"] + 1):
                placed.setdefault(f"{record['id']}-{index}", {"host": FLEET_HOST, "address": "", "port": port})
        return placed

    def _port(self, record: Record) -> int:
        return next(iter(record["instances"].values()))["port"]

    def deploy(self, record: Record, environment: dict[str, str]) -> None:
        units = fleet_units.render(record, self.ctx.settings, self.ctx.options, self._port(record))
        existing = {u["name"] for u in self.client.units()}
        for role, names in fleet_units.unit_names(record).items():
            options = fleet_units.to_options(units[role])
            for name in names:
                if name not in existing:
                    self.client.submit(name, options, "loaded")

    def _all(self, record: Record) -> list[str]:
        return [n for names in fleet_units.unit_names(record).values() for n in names]

    def start(self, record: Record) -> None:
        scheduled = bool(record["spec"].get("schedule"))
        for role, names in fleet_units.unit_names(record).items():
            if role == "app" and scheduled:
                continue  # the timer starts it
            for name in names:
                self.client.set_state(name, "launched")

    def status(self, record: Record) -> list[Instance]:
        apps = dict(zip(fleet_units.unit_names(record)["app"], sorted(record["instances"]), strict=False))
        found = []
        for state in self.client.states():
            node = apps.get(state.get("name"))
            if node:
                found.append(
                    Instance(
                        node, record["id"], state.get("systemdActiveState") == "active", state.get("machineID", "")
                    )
                )
        return found

    def stop(self, record: Record) -> None:
        names = {u["name"] for u in self.client.units()}
        for name in self._all(record):
            if name in names:
                self.client.set_state(name, "loaded")

    def destroy(self, record: Record) -> None:
        for name in self._all(record):
            self.client.destroy(name)
        if record.get("instances"):
            self.ctx.ports.release(FLEET_HOST, self._port(record), record["id"])

    def instances(self, app: str) -> list[Instance]:
        states = {s["name"]: s for s in self.client.states()}
        found = []
        for unit in self.client.units():
            meta = {o["name"]: o["value"] for o in unit.get("options", []) if o["section"] == "X-Totem"}
            if meta.get("App") == app and meta.get("Role") == "app":
                state = states.get(unit["name"], {})
                found.append(
                    Instance(
                        unit["name"],
                        meta.get("Deployment", ""),
                        state.get("systemdActiveState") == "active",
                        state.get("machineID", ""),
                    )
                )
        return found
