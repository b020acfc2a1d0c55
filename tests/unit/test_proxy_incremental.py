"""The incremental path against the full one, on random change sequences (real parse and plan code).

Two pipelines read the same keys: the reference parses and plans the whole tree after every batch
of changes, the other tries `incremental.patch()` first, as the reconciler does. After every batch
both must hold the same wiring, plan, slots and grace, and the commands sent to a model of
HAProxy's runtime state must leave it equal to the reference plan.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from yoda_proxy.grace import Grace
from yoda_proxy.incremental import patch
from yoda_proxy.keytree import KeyTree
from yoda_proxy.parse import parse
from yoda_proxy.plan import MAPS, Plan, build, carry_over, fits, runtime_commands
from yoda_proxy.slots import SlotTable

GEN = Path("/gen")
HOSTS = ["a.localhost", "b.localhost", "c.localhost"]
UPSTREAMS = ["a-v1-1", "a-v2-2", "b-v1-3", "t-v1-4"]


class Runtime:
    """HAProxy's runtime state as the commands leave it: map entries and servers that are not in maint."""

    def __init__(self, plan: Plan):
        self.load(plan)

    def load(self, plan: Plan) -> None:  # a reload renders the plan
        self.maps = {name: dict(entries) for name, entries in plan.maps.items()}
        self.servers = {backend: dict(slots) for backend, slots in plan.servers.items()}

    def run(self, commands: list[str]) -> None:
        for command in commands:
            words = command.split(" ")
            if words[:2] == ["set", "server"]:
                backend, slot = words[2].split("/")
                servers = self.servers.setdefault(backend, {})
                if words[3] == "addr":
                    servers[int(slot[1:])] = (words[4], int(words[6]))
                elif words[4] == "maint":
                    servers.pop(int(slot[1:]))
            else:
                verb, name, key = words[0], Path(words[2]).stem, words[3]
                entries = self.maps[name]
                assert (key in entries) == (verb != "add"), f"{command}: HAProxy would refuse or duplicate it"
                if verb == "del":
                    del entries[key]
                else:
                    entries[key] = words[4]


class Pipeline:
    def __init__(self, keys: dict[str, str], incremental: bool):
        self.tree = KeyTree.of(keys)
        self.incremental = incremental
        self.slots, self.grace = SlotTable(), Grace(90, clock=lambda: 1000.0)
        self.wiring = parse(self.tree)
        self.applied, _ = build(self.grace.serve(self.wiring), self.slots)
        self.runtime = Runtime(self.applied)
        self.changed: set[str] = set()
        self.pending: set[str] = set()
        self.flat: set[str] = set()
        self.patched = self.reloads = 0

    def change(self, puts: dict[str, str], deletes: list[str]) -> None:
        for key, value in puts.items():
            self.touched(key, self.tree.put(key, value))
        for key in deletes:
            self.touched(key, self.tree.delete(key))
        if self.incremental:
            result = patch(self.tree, self.wiring, self.applied, self.pending, self.flat, self.slots, self.grace, GEN)
            if result is not None:
                self.wiring, self.applied, self.pending, self.flat = result.wiring, result.plan, set(), set()
                self.runtime.run(result.commands)
                self.patched += bool(result.commands)
                return
        self.wiring = parse(self.tree, self.wiring, self.changed)
        self.changed, self.pending, self.flat = set(), set(), set()
        plan, grown = build(self.grace.serve(self.wiring), self.slots)
        if grown or not fits(self.applied, plan):
            self.runtime.load(plan)
            self.reloads += 1
        else:
            carry_over(self.applied, plan)
            self.runtime.run(runtime_commands(self.applied, plan, GEN))
        self.applied = plan

    def touched(self, key: str, entity: str | None) -> None:
        if entity:
            self.changed.add(entity)
            self.pending.add(entity)
        else:
            self.flat.add(key)


def base_keys() -> dict[str, str]:
    keys = {"revision": "r0", "global/acls/office/cidr/src": "10.0.0.0/8"}
    for i, host in enumerate(HOSTS):
        keys[f"hosts/{host}/aliases/1"] = f"www.{host}"
        keys[f"hosts/{host}/locations/root/path"] = "/"
        keys[f"hosts/{host}/locations/root/upstream"] = UPSTREAMS[i]
    keys["hosts/a.localhost/locations/api/path"] = "/api"
    keys["hosts/a.localhost/locations/api/upstream"] = "a-v2-2"
    keys["upstreams/a-v1-1/health/uri"] = "/health"  # checked: a vanished endpoint goes into grace
    keys["upstreams/t-v1-4/mode"] = "tcp"
    for i, up in enumerate(UPSTREAMS):
        for n in range(2):
            keys[f"upstreams/{up}/endpoints/n{n}"] = f"127.0.0.{n + 1}:{9000 + i}"
    return keys


def random_change(rng: random.Random, tree: KeyTree) -> tuple[dict[str, str], list[str]]:
    host, up = rng.choice(HOSTS), rng.choice(UPSTREAMS)
    if rng.random() < 0.5:  # the common case, on an entity brought back to a good state now and then
        if rng.random() < 0.1:
            good = {k: v for k, v in base_keys().items() if k.startswith((f"hosts/{host}/", f"upstreams/{up}/"))}
            return good, [k for k in tree.items() if k.startswith((f"hosts/{host}/", f"upstreams/{up}/"))]
        if rng.random() < 0.5:
            return {f"hosts/{host}/locations/root/upstream": rng.choice(UPSTREAMS[:3])}, []
        return {
            f"upstreams/{up}/endpoints/n{rng.randrange(4)}": f"127.0.0.{rng.randrange(1, 9)}:9{rng.randrange(9)}"
        }, []
    loc = f"hosts/{host}/locations/{rng.choice(['root', 'api', 'new'])}"
    node = f"upstreams/{up}/endpoints/n{rng.randrange(6)}"
    choices = [
        ({f"{loc}/upstream": rng.choice(UPSTREAMS + ["nowhere-v1-9"])}, []),
        ({f"{loc}/path": rng.choice(["/", "/api", "/x"])}, []),
        ({f"{loc}/canary/upstream": rng.choice(UPSTREAMS), f"{loc}/canary/weight": rng.choice(["10", "150"])}, []),
        ({}, [f"{loc}/canary/upstream", f"{loc}/canary/weight"]),
        ({f"{loc}/acls/allowed/1": rng.choice(["office", "unknown"])}, []),
        ({}, [f"{loc}/path", f"{loc}/upstream"]),
        ({f"hosts/{host}/x-frame-options": rng.choice(["SAMEORIGIN", "off", "nonsense"])}, []),
        ({f"hosts/{host}/aliases/{rng.randrange(3)}": rng.choice(["www.a.localhost", "alias.localhost"])}, []),
        ({f"hosts/{host}/bogus": "1"}, []),
        ({}, [f"hosts/{host}/bogus"]),
        ({node: rng.choice(["127.0.0.9:1", f"127.0.0.{rng.randrange(2, 9)}:9100", "127.0.0.1:notaport"])}, []),
        ({}, [node]),
        ({f"upstreams/{up}/health/interval": rng.choice(["2s", "5s"])}, []),
        ({"revision": f"r{rng.randrange(1000)}"}, []),
        ({"global/errors/404": rng.choice(["<p>gone</p>", ""])}, []),
        ({}, [k for k in tree.items() if k.startswith(f"upstreams/{up}/")]),
    ]
    return rng.choice(choices)


@pytest.mark.parametrize("seed", range(12))
def test_incremental_path_agrees_with_the_full_one(seed):
    rng = random.Random(seed)
    full, fast = Pipeline(base_keys(), incremental=False), Pipeline(base_keys(), incremental=True)
    for step in range(150):
        puts: dict[str, str] = {}
        deletes: list[str] = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            more_puts, more_deletes = random_change(rng, full.tree)
            puts.update(more_puts)
            deletes += more_deletes
        for pipeline in (full, fast):
            pipeline.change(puts, deletes)
        where = f"seed {seed} step {step}: {puts} {deletes}"
        assert fast.wiring == full.wiring, where
        assert fast.applied == full.applied, where
        assert (fast.slots.slots, fast.slots.capacity) == (full.slots.slots, full.slots.capacity), where
        assert (fast.grace.held, fast.grace._served) == (full.grace.held, full.grace._served), where
        for pipeline in (full, fast):
            assert pipeline.runtime.maps == {m: full.applied.maps[m] for m in MAPS}, where
            assert pipeline.runtime.servers == full.applied.servers, where
    assert fast.patched > 10  # the incremental path did carry changes, not only hand them over
    assert fast.reloads <= full.reloads


def test_a_switch_is_one_command_and_touches_nothing_else():
    pipeline = Pipeline(base_keys(), incremental=True)
    tree = pipeline.tree
    tree.put("hosts/b.localhost/locations/root/upstream", "a-v1-1")
    result = patch(
        tree, pipeline.wiring, pipeline.applied, {"hosts/b.localhost"}, set(), pipeline.slots, pipeline.grace, GEN
    )
    assert result is not None
    assert result.commands == ["set map /gen/routes.map b.localhost/ u_a-v1-1|0|,public,|,,|u_a-v1-1|0|DENY"]
    assert result.plan.backends is pipeline.applied.backends  # no reload
    tree.put("upstreams/new-v1-5/endpoints/n1", "127.0.0.1:1")  # something to declare: the full path
    assert (
        patch(tree, result.wiring, result.plan, {"upstreams/new-v1-5"}, set(), pipeline.slots, pipeline.grace, GEN)
        is None
    )
