"""What each dashboard action asks of the deployer, with the operator's token; the text flashed after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from totem_client import DeployerClient, ServiceError

MAX_REASON = 200


def _version(form: Mapping) -> str | None:
    return form.get("version", "").strip()[:128] or None


def _seconds(value) -> str:
    return f"{value:g}s" if isinstance(value, (int, float)) else f"{value}"


def rollback(deployer: DeployerClient, name: str, form: Mapping) -> str:
    done = deployer.rollback(name, _version(form))
    return f"Rollback of {name} to {done['version']} requested ({done['id']})."


def redeploy(deployer: DeployerClient, name: str, form: Mapping) -> str:
    live = deployer.app(name).get("live")
    target = _version(form) or (deployer.deployment(live)["version"] if live else None)
    if not target:
        raise ServiceError("dashboard", 409, "nothing_live", f"{name} has no live version to redeploy")
    done = deployer.rollback(name, target)
    return f"Redeploy of {name} {target} requested ({done['id']})."


def undeploy(deployer: DeployerClient, name: str, form: Mapping) -> str:
    version = _version(form)
    deployer.undeploy(name, version)
    return f"Undeploy of {name}{' ' + version if version else ''} requested."


def promote(deployer: DeployerClient, name: str, form: Mapping) -> str:
    full = form.get("full") == "1"
    done = deployer.promote(name, full)
    then = "switches to 100 % now" if full else "goes on to its next step"
    return f"Promote of {name} requested: {done['id']} {then}."


def abort(deployer: DeployerClient, name: str, form: Mapping) -> str:
    done = deployer.abort(name, form.get("reason", "").strip()[:MAX_REASON] or None)
    return f"Abort of {name} requested ({done['id']})."


def pause(deployer: DeployerClient, name: str, form: Mapping) -> str:
    answer = deployer.pause(name, form.get("max", "").strip()[:16] or None)
    held = (answer.get("paused") or {}).get("max")
    return f"Traffic to {name} paused: new requests are held for up to {_seconds(held)}."


def resume(deployer: DeployerClient, name: str, form: Mapping) -> str:
    deployer.resume(name)
    return f"Traffic to {name} resumed."


def maintenance_on(deployer: DeployerClient, name: str, form: Mapping) -> str:
    given = form.get("retry-after", "").strip()
    if given and not (given.isdigit() and len(given) <= 6):
        raise ServiceError("dashboard", 400, "bad_retry_after", "Retry-After must be a whole number of seconds")
    answer = deployer.maintenance(name, True, int(given) if given else None)
    after = (answer.get("maintenance") or {}).get("retry-after")
    return f"Maintenance of {name} on: the proxy answers 503 (Retry-After {_seconds(after)})."


def maintenance_off(deployer: DeployerClient, name: str, form: Mapping) -> str:
    deployer.maintenance(name, False)
    return f"Maintenance of {name} off: requests reach the app again."


CALLS: dict[str, Callable[[DeployerClient, str, Mapping], str]] = {
    "rollback": rollback,
    "redeploy": redeploy,
    "undeploy": undeploy,
    "promote": promote,
    "abort": abort,
    "pause": pause,
    "resume": resume,
    "maintenance-on": maintenance_on,
    "maintenance-off": maintenance_off,
}
