"""The operator's controls of a progressive rollout and of an app's traffic: `totem promote`, `abort`,
`pause`, `resume`, `maintenance on|off`, and `totem rollout APP` to see where a rollout stands."""

from __future__ import annotations

import argparse

from deployer.states import State
from totem.contracts.deploy_request import duration_seconds
from totem.contracts.yoda import MAX_PAUSE, MAX_RETRY_AFTER
from totem_cli.ops import progress
from totem_cli.ops.output import command, emit_json, table
from totem_dashboard import gather

MAX_REASON = 200  # the deployer's limits, checked here too so that a typo fails before any request
RESULT = {True: "ok", False: "FAIL", None: "—"}


def pause_duration(value: str) -> str:
    """A pause's longest hold as the API takes it ("30s", "2m", "45"), at most five minutes."""
    seconds = duration_seconds(value.strip()) if value.strip() else None
    if seconds is None or not 0 < seconds <= MAX_PAUSE:
        raise argparse.ArgumentTypeError(f"expected a duration up to {MAX_PAUSE}s, like 30s or 2m")
    return value.strip()


def reason_text(value: str) -> str:
    if not value.strip() or len(value) > MAX_REASON:
        raise argparse.ArgumentTypeError(f"expected a reason of 1 to {MAX_REASON} characters")
    return value.strip()


def retry_after(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_RETRY_AFTER:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, 1 to {MAX_RETRY_AFTER}")
    return seconds


def register(subparsers) -> None:
    promote = subparsers.add_parser("promote", help="end a rollout's wait (manual pause, preview) or --full")
    promote.add_argument("--full", action="store_true", help="skip the remaining steps: 100 %% now")
    promote.set_defaults(handler=_promote)
    abort = subparsers.add_parser("abort", help="abort the deployment in progress (the canary goes to 0 %%)")
    abort.add_argument("--reason", type=reason_text, help=f"why (at most {MAX_REASON} characters)")
    abort.add_argument("--no-wait", action="store_true", help="return once the request is accepted")
    abort.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS")
    abort.set_defaults(handler=_abort)
    pause = subparsers.add_parser("pause", help="hold new requests to the app at the proxy (not refused)")
    pause.add_argument("--max", type=pause_duration, help="release them after this long (default 30s, ≤ 300s)")
    pause.set_defaults(handler=_pause)
    resume = subparsers.add_parser("resume", help="let held and new requests through again")
    resume.set_defaults(handler=_resume)
    maintenance = subparsers.add_parser("maintenance", help="answer 503 with a maintenance page, or stop")
    maintenance.add_argument("switch", choices=("on", "off"))
    maintenance.add_argument("--retry-after", type=retry_after, metavar="SECONDS", help="Retry-After (default 30)")
    maintenance.set_defaults(handler=_maintenance)
    rollout = subparsers.add_parser("rollout", help="a rollout's phase, step, weight and analysis")
    rollout.set_defaults(handler=_rollout)
    for parser in (promote, abort, pause, resume, maintenance, rollout):
        parser.add_argument("app")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")


@command
def _promote(args, clients, settings) -> int:
    accepted = clients.deployer.promote(args.app, args.full)
    if args.json:
        emit_json({"deployment": accepted, "full": args.full})
    else:
        then = "switches to 100 % now" if args.full else "goes on to its next step"
        print(f"{args.app}: promote accepted, {accepted['id']} {then}")
    return 0


@command
def _abort(args, clients, settings) -> int:
    accepted = clients.deployer.abort(args.app, args.reason)
    progress.say(args.json, f"{args.app}: abort of {accepted['id']} ({accepted['version']}) accepted")
    # an abort ends its deployment FAILED, the stable version serving
    return progress.settle(clients.deployer, accepted, args, State.FAILED)


def _traffic(args, answer: dict, text: str) -> int:
    if args.json:
        emit_json(answer)
    else:
        print(f"{args.app}: {text}")
    return 0


@command
def _pause(args, clients, settings) -> int:
    answer = clients.deployer.pause(args.app, args.max)
    held = seconds((answer.get("paused") or {}).get("max"))
    return _traffic(args, answer, f"new requests held at the proxy for up to {held} (totem resume {args.app})")


@command
def _resume(args, clients, settings) -> int:
    return _traffic(args, clients.deployer.resume(args.app), "requests flow again")


@command
def _maintenance(args, clients, settings) -> int:
    answer = clients.deployer.maintenance(args.app, args.switch == "on", args.retry_after)
    shown = answer.get("maintenance")
    text = f"maintenance on: 503 with Retry-After {seconds(shown['retry-after'])}" if shown else "maintenance off"
    return _traffic(args, answer, text)


def threshold(check: dict) -> str:
    bounds = [f"≤ {number(check['max'])}" if check.get("max") is not None else ""]
    bounds.append(f"≥ {number(check['min'])}" if check.get("min") is not None else "")
    return ", ".join(b for b in bounds if b) or "—"


def seconds(value) -> str:
    return f"{value:g}s" if isinstance(value, (int, float)) else f"{value}"


def number(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def step_text(rollout: dict) -> str:
    steps, step = rollout.get("steps") or [], rollout.get("step")
    if step is None or not steps:
        return f"step -/{len(steps)}"
    current = steps[step] if 0 <= step < len(steps) else {}
    pause = f", pause {current['pause']}" if current.get("pause") else ""
    return f"step {step + 1}/{len(steps)} (weight {current.get('weight', '?')} %{pause})"


def describe(name: str, rollout: dict | None, traffic: dict) -> list[str]:
    """The lines `totem rollout` prints."""
    paused, maintenance = traffic.get("paused"), traffic.get("maintenance")
    held = f"paused (up to {seconds(paused['max'])})" if paused else "not paused"
    closed = f"maintenance on (Retry-After {seconds(maintenance['retry-after'])})" if maintenance else "maintenance off"
    if not rollout:
        return [f"{name}: no rollout", f"traffic: {held}, {closed}"]
    lines = [
        f"{name}: {rollout.get('strategy')} rollout of {rollout.get('version')} ({rollout.get('deployment')}),"
        f" phase {rollout.get('phase')}",
        f"{step_text(rollout)}, canary weight {rollout.get('weight', 0)} %",
        f"traffic: {held}, {closed}",
    ]
    for host in gather.preview_hosts(rollout):
        lines.append(f"preview: http://{host}/")
    if rollout.get("requests") is not None:
        lines.append(f"requests analysed: {number(rollout['requests'])}")
    if rollout.get("reason"):
        lines.append(f"reason: {rollout['reason']}")
    checks = rollout.get("analysis") or []
    if checks:
        rows = [[c.get("name"), number(c.get("value")), threshold(c), RESULT.get(c.get("ok"), "—")] for c in checks]
        lines += ["", table(rows, ["ANALYSIS", "VALUE", "THRESHOLD", "RESULT"])]
    return lines


@command
def _rollout(args, clients, settings) -> int:
    app = clients.deployer.app(args.app)
    rollout, traffic = app.get("rollout"), app.get("traffic") or {}
    if args.json:
        emit_json({"name": args.app, "rollout": rollout, "traffic": traffic})
    else:
        print("\n".join(describe(args.app, rollout, traffic)))
    return 0
