"""Where a live deployment's instances are, kept true in its record: instances moved off a host that
does not answer (the reconcile, `docker`), and the addresses a scheduler only learns once the
instances run (`swarm`: the node each task runs on). Both are atomic updates of the record."""

from __future__ import annotations

from deployer.records import Record
from deployer.schedulers.base import Instance


def relocate(ctx, record: Record, scheduler) -> tuple[Record, dict[str, str]]:
    """Give the instances on a host that does not answer new places on hosts that do (ports reserved
    there by the scheduler), in the record, then free their old ports. Returns the record and what
    moved ({node: "old host -> new host"}); the caller creates and starts the moved instances."""
    moves = scheduler.relocate(record)
    if not moves:
        return record, {}

    old: dict[str, dict] = {}  # what the stored record held for the nodes moved

    def change(r: Record) -> tuple[Record, Record]:
        old.clear()
        old.update({n: r["instances"][n] for n in moves if n in r["instances"]})
        r["instances"].update({n: moves[n] for n in old})
        return r, r

    try:
        record = ctx.records.update(record["id"], change)
    except Exception:
        old.clear()
        raise
    finally:
        for node in moves.keys() - old.keys():  # not stored: those new reservations are nobody's
            ctx.ports.release(moves[node]["host"], moves[node]["port"], node)
    for node, where in old.items():
        ctx.ports.release(where["host"], where["port"], node)
    return record, {n: f"{old[n]['host']} -> {moves[n]['host']}" for n in old}


def track_addresses(ctx, record: Record, found: list[Instance]) -> Record:
    """Store the address each running instance is reached at when the scheduler reports one that
    the record does not hold yet (a swarm task started, or moved to another node)."""
    held = {node: where["address"] for node, where in record["instances"].items()}
    seen = {i.node: i.address for i in found if i.running and i.address and held.get(i.node, i.address) != i.address}
    if not seen:
        return record

    def change(r: Record) -> tuple[Record, Record]:
        for node, address in seen.items():
            if node in r["instances"]:
                r["instances"][node]["address"] = address
        return r, r

    return ctx.records.update(record["id"], change)
