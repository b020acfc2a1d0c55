"""Progressive delivery steps of the lifecycle (docs/canary.md): the preview gate and the canary.

A canary step sends its weight to the new version on every live proxy (the same acknowledged
revision as any wiring change), then judges it against the stable version with Prometheus every
TICK for the step's pause; a failed verdict aborts at once, so a bad version is seen by as few
requests as its metrics allow. A manual step waits for `promote` while it is still judged. The
operator's promote and abort arrive as the record's `control` (deployer API), read every TICK.

What the dashboard shows is kept in the record's `rollout`: phase, step, weight, the last
analysis and a capped series of samples (stable vs canary) for the chart.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from deployer import analysis, traffic, wiring
from deployer.gating import GateFailed
from deployer.records import Record, has_event, now, with_fields
from deployer.states import Event, Phase, State
from totem.contracts.yoda import backend
from totem.waiting import pause

log = logging.getLogger("deployer.rollout")
TICK = 1.0  # seconds between verdicts: Prometheus scrapes every second (totem_stack/prometheus.py)
MIN_WINDOW = 5.0  # seconds of metrics a verdict looks at, at least (a rate needs a few scrapes)
NO_VERDICT_GRACE = 30.0  # a timed step without a verdict at its end waits at least this long more
MAX_SAMPLES = 240  # points of the rollout chart kept in the record (older ones thinned out)
PREVIEW_STEP = -1  # the step number a promote of the preview gate names


class Rollout:
    def __init__(self, lifecycle):
        self.lc = lifecycle
        self.ctx = lifecycle.ctx
        self.records = lifecycle.records
        self.yoda = lifecycle.yoda

    # -- lifecycle steps ---------------------------------------------------------
    def preview(self, record: Record) -> dict:
        """The preview hosts serve the new version (live traffic untouched); a manual gate waits."""
        hosts = wiring.preview_hosts(record)
        revision = self._route(record, self._stable(record), None, 0)
        self.show(record, phase=Phase.PREVIEWING, preview={"hosts": hosts})
        details: dict[str, Any] = {"hosts": hosts, "revision": revision, "gate": record["spec"]["preview"]["gate"]}
        if record["spec"]["preview"]["gate"] == "manual":
            self.show(record, phase=Phase.AWAITING_PROMOTE, step=PREVIEW_STEP)
            details["promoted-by"] = self._wait_promote(record, PREVIEW_STEP)
        return details

    def canary(self, record: Record) -> dict:
        """Every step, in order, from the first not passed yet (a resumed deployment goes on)."""
        stable = self._stable(record)
        steps = record["spec"]["rollout"]["steps"]
        if stable is None:
            self.show(record, phase=Phase.SWITCHING, step=None, weight=100)
            return {"skipped": "no stable version to compare with: switched at once"}
        done = [e["details"] for e in record["events"] if e["type"] == Event.ANALYSIS_PASSED]
        if any(d.get("full") for d in done):
            return {"steps": len(done), "stable": stable["id"]}
        for index in range(len(done), len(steps)):
            step = steps[index]
            began = time.monotonic()
            revision = self._route(record, stable, record["upstream"], step["weight"])
            applied = round(time.monotonic() - began, 4)  # written → acknowledged by every live proxy
            self.lc.event(
                record, Event.CANARY_WEIGHT_SET, step=index, weight=step["weight"], revision=revision, seconds=applied
            )
            outcome = self._judge(record, stable, index, step)
            record = self.lc.event(record, Event.ANALYSIS_PASSED, step=index, weight=step["weight"], **outcome)
            if outcome.get("full"):
                break
        self.show(record, phase=Phase.SWITCHING, step=None, weight=100)
        return {"steps": len(steps), "stable": stable["id"]}

    # -- judging -----------------------------------------------------------------
    def _judge(self, record: Record, stable: Record, index: int, step: dict) -> dict:
        """Until the step passes (its pause with a passing verdict, or a promote); GateFailed when
        its analysis fails, no verdict comes in time, or the operator aborts."""
        length = step["pause"]
        spec = record["spec"]["rollout"]
        canary_backend, stable_backend = backend(record["upstream"]), backend(stable["upstream"])
        started, judged, last = time.monotonic(), 0.0, time.monotonic()
        running = Phase.ANALYSING if length is not None else Phase.AWAITING_PROMOTE
        self.show(record, phase=running, step=index, weight=step["weight"])
        while True:
            self.lc.keep_going()
            now = time.monotonic()
            control = self._control(record)
            if control.get("promote") == index or control.get("full"):
                return {"promoted-by": control.get("by", "operator"), "full": bool(control.get("full"))}
            held = traffic.state(self.ctx, record["app"])["paused"] is not None
            judged += 0.0 if held else now - last
            last = now
            window = max(MIN_WINDOW, now - started)
            verdict = self._verdict(canary_backend, stable_backend, window, spec)
            phase = Phase.WAITING if held else running
            self._record_sample(record, phase, step["weight"], (canary_backend, stable_backend, window), verdict)
            if verdict is not None and verdict.ok is False:
                failed = [r.as_dict() for r in verdict.failed]
                self.lc.event(
                    record,
                    Event.ANALYSIS_FAILED,
                    step=index,
                    weight=step["weight"],
                    failed=failed,
                    results=[r.as_dict() for r in verdict.results],
                )
                raise GateFailed(
                    f"canary analysis failed at step {index + 1} ({step['weight']}%): "
                    + "; ".join(_shown(r) for r in verdict.failed)
                )
            if length is not None and not held:
                if judged >= length and verdict is not None and verdict.ok:
                    return {"results": [r.as_dict() for r in verdict.results], "requests": verdict.requests}
                if judged >= length + max(length, NO_VERDICT_GRACE):
                    why = (
                        "Prometheus unavailable"
                        if verdict is None
                        else (f"{verdict.requests:.0f} canary requests, {spec['min_requests']} needed")
                    )
                    raise GateFailed(f"canary step {index + 1} ({step['weight']}%): no verdict in time ({why})")
            if pause(TICK, self.lc.lock.lost):
                self.lc.keep_going()

    def _verdict(self, canary: str, stable: str, window: float, spec: dict) -> analysis.Verdict | None:
        try:
            return analysis.judge(
                self.ctx.settings.prometheus_url, canary, stable, window, spec["checks"], spec["min_requests"]
            )
        except analysis.AnalysisUnavailable as exc:
            log.warning("canary analysis unavailable: %s", exc)
            return None

    def _wait_promote(self, record: Record, index: int) -> str:
        while True:
            self.lc.keep_going()
            control = self._control(record)
            if control.get("promote") == index or control.get("full"):
                return str(control.get("by", "operator"))
            if pause(TICK / 4, self.lc.lock.lost):
                self.lc.keep_going()

    def _control(self, record: Record) -> dict:
        """The operator's latest word (deployer API); an abort ends the deployment here."""
        current = self.records.get(record["id"]) or {}
        control = current.get("control") or {}
        if control.get("abort") is not None:
            raise GateFailed(f"aborted by {control.get('by', 'operator')}: {control['abort']}")
        return control

    # -- wiring and the record ---------------------------------------------------
    def _stable(self, record: Record) -> Record | None:
        previous = self.records.get(record.get("previous") or "")
        if previous and previous["state"] == State.PROMOTED and previous["upstream"] != record["upstream"]:
            return previous
        return None

    def _route(self, record: Record, stable: Record | None, canary: str | None, weight: int) -> str:
        """The app's routes (stable, with `weight` % to `canary`) plus its preview hosts; applied on
        every live proxy before this returns (the drain barrier). Returns the revision."""
        keys = wiring.desired(self.yoda, stable, canary, stable["upstream"], weight) if stable else {}
        prefix = (record["spec"].get("preview") or {}).get("prefix")
        if prefix:
            keys.update(wiring.desired(self.yoda, record, preview_prefix=prefix))
        self.records.update(record["id"], with_fields(wired=True))
        wiring.apply(self.ctx.store, self.yoda, record["app"], keys)
        revision = wiring.bump_revision(self.ctx.store, self.yoda, record["id"])
        wiring.wait_applied(
            self.ctx.store, self.yoda, revision, self.ctx.options.ack_timeout, self.lc.keep_going, record["app"]
        )
        return revision

    def show(self, record: Record, **fields: Any) -> None:
        def change(r: Record) -> tuple[Record, None]:
            r.setdefault("rollout", {}).update(fields)
            return r, None

        self.records.update(record["id"], change)

    def _record_sample(self, record: Record, phase: str, weight: int, backends: tuple, verdict) -> None:
        """One point of the chart (canary, stable, window), the phase and the last verdict, in one write."""
        try:
            point = analysis.sample(self.ctx.settings.prometheus_url, *backends)
        except analysis.AnalysisUnavailable:
            point = {"canary": {}, "stable": {}}
        point = {"at": now(), "weight": weight, **point}

        def change(r: Record) -> tuple[Record, None]:
            shown = r.setdefault("rollout", {})
            shown["phase"] = phase
            samples = shown.setdefault("samples", [])
            samples.append(point)
            if len(samples) > MAX_SAMPLES:
                del samples[::2]  # thin out: the chart keeps the whole rollout at half the resolution
            if verdict is not None:
                shown["analysis"] = [res.as_dict() for res in verdict.results]
                shown["requests"] = verdict.requests
            return r, None

        self.records.update(record["id"], change)


def started(record: Record) -> bool:
    return has_event(record, Event.CANARY_WEIGHT_SET) or has_event(record, Event.PREVIEW_READY)


def _shown(result: analysis.Result) -> str:
    bound = f"max {result.max:g}" if result.max is not None else f"min {result.min:g}"
    value = "no data" if result.value is None or math.isnan(result.value) else f"{result.value:.4g}"
    return f"{result.name} = {value} ({bound}; query {result.query})"
