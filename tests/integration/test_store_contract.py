"""The store contract, run once per adapter (etcd v3, etcd v2) against the real etcd."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from totem.store import Event, StoreUnavailable, connect
from totem.waiting import wait


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_get_put_delete(store, unique_prefix):
    key = unique_prefix + "app/name"
    assert store.get(key) is None
    store.put(key, "hello")
    assert store.get(key) == "hello"
    store.put(key, "ünïcode ✓")
    assert store.get(key) == "ünïcode ✓"
    assert store.delete(key) is True
    assert store.get(key) is None
    assert store.delete(key) is False


def test_list_is_anchored_to_the_prefix(store, unique_prefix):
    store.put(unique_prefix + "foo/a", "1")
    store.put(unique_prefix + "foo/b/c", "2")
    store.put(unique_prefix + "foo-bar/a", "3")
    assert store.list(unique_prefix + "foo/") == {unique_prefix + "foo/a": "1", unique_prefix + "foo/b/c": "2"}
    store.delete_prefix(unique_prefix + "foo/")
    assert store.list(unique_prefix + "foo/") == {}
    assert store.get(unique_prefix + "foo-bar/a") == "3"


def test_create_and_compare_and_swap(store, unique_prefix):
    key = unique_prefix + "job"
    assert store.create(key, "v1") is True
    assert store.create(key, "other") is False
    assert store.cas(key, "v2", prev_value="wrong") is False
    assert store.cas(key, "v2", prev_value="v1") is True
    assert store.get(key) == "v2"
    assert store.delete(key, prev_value="wrong") is False
    assert store.delete(key, prev_value="v2") is True
    assert store.cas(key, "v3", prev_value="v2") is False  # absent key never matches


def test_atomic_update_loses_nothing_under_contention(store, unique_prefix):
    key = unique_prefix + "counter"
    store.put(key, "0")

    def bump(n: int) -> None:
        for _ in range(n):
            store.update(key, lambda old: (str(int(old) + 1), None))

    threads = [threading.Thread(target=bump, args=(15,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(key) == "60"


def test_json_helpers(store, unique_prefix):
    store.put_json(unique_prefix + "doc", {"b": [1, 2], "a": None})
    assert store.get_json(unique_prefix + "doc") == {"a": None, "b": [1, 2]}
    assert store.get_json(unique_prefix + "missing", default={}) == {}


def test_watch_sees_changes_made_by_another_process(store, unique_prefix):
    events: list[Event] = []
    watcher = store.watch(unique_prefix, events.append)
    try:
        assert watcher.wait_ready()
        result = run_python(
            """
            import sys
            from totem.store import connect
            store = connect(sys.argv[1])
            store.put(sys.argv[2] + "x", "from-child")
            store.put(sys.argv[2] + "y/z", "deep")
            store.delete(sys.argv[2] + "x")
            """,
            store.url,
            unique_prefix,
        )
        assert result.returncode == 0, result.stderr
        wait(lambda: len(events) >= 3, timeout=10)
        assert [(e.type, e.key, e.value) for e in events] == [
            ("put", unique_prefix + "x", "from-child"),
            ("put", unique_prefix + "y/z", "deep"),
            ("delete", unique_prefix + "x", None),
        ]
        assert watcher.snapshot == {unique_prefix + "y/z": "deep"}
    finally:
        watcher.stop()


def test_watch_ignores_keys_outside_the_prefix(store, unique_prefix):
    events: list[Event] = []
    watcher = store.watch(unique_prefix + "app/", events.append)
    try:
        assert watcher.wait_ready()
        store.put(unique_prefix + "app-other/a", "no")
        store.put(unique_prefix + "app/a", "yes")
        wait(lambda: events, timeout=10)
        time.sleep(0.3)
        assert [e.key for e in events] == [unique_prefix + "app/a"]
    finally:
        watcher.stop()


def test_watch_initial_delivers_existing_keys(store, unique_prefix):
    store.put(unique_prefix + "a", "1")
    events: list[Event] = []
    watcher = store.watch(unique_prefix, events.append, initial=True)
    try:
        wait(lambda: events, timeout=10)
        assert (events[0].type, events[0].key, events[0].value) == ("put", unique_prefix + "a", "1")
    finally:
        watcher.stop()


def test_lease_expires_and_its_keys_vanish(store, unique_prefix):
    lease = store.lease(2)
    store.put(unique_prefix + "ephemeral", "here", lease=lease)
    assert store.get(unique_prefix + "ephemeral") == "here"
    wait(lambda: store.get(unique_prefix + "ephemeral") is None, timeout=15, interval=0.2)


def test_kept_alive_lease_outlives_its_ttl_and_revoke_deletes(store, unique_prefix):
    lease = store.lease(2).keep_alive()
    store.put(unique_prefix + "a", "1", lease=lease)
    store.create(unique_prefix + "b", "2", lease=lease)
    time.sleep(5)
    assert store.get(unique_prefix + "a") == "1"
    assert store.get(unique_prefix + "b") == "2"
    lease.revoke()
    wait(lambda: store.list(unique_prefix) == {}, timeout=5)


def test_refreshing_or_revoking_a_lease_spares_a_key_another_writer_replaced(store, unique_prefix):
    shared, witness = unique_prefix + "shared", unique_prefix + "witness"
    lease = store.lease(2)
    store.put(shared, "mine", lease=lease)
    store.put(witness, "mine", lease=lease)
    store.put(shared, "theirs")  # rewritten without the lease
    lease.refresh()  # v3 extends the lease, v2 finds its key taken: neither may bind "theirs" to it
    wait(lambda: store.get(witness) is None, timeout=15, interval=0.2, what="the lease to run out")
    assert store.get(shared) == "theirs"
    lease.revoke()
    assert store.get(shared) == "theirs"


LOCK_RACER = """
import sys, time
from totem.store import connect
store = connect(sys.argv[1])
start_at = float(sys.argv[3])
lock = store.lock(sys.argv[2], ttl=5)
time.sleep(max(0.0, start_at - time.time()))
won = lock.acquire(blocking=False)
print("won" if won else "lost", flush=True)
time.sleep(2)
if won:
    lock.release()
"""


def test_two_processes_race_for_a_lock_and_exactly_one_wins(store, unique_prefix):
    name = "race" + unique_prefix.rstrip("/")
    start_at = f"{time.time() + 2.0:.3f}"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", LOCK_RACER, store.url, name, start_at], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in racers)
    assert outcomes == ["lost", "won"]
    store.delete_prefix("/totem/locks/" + name)


LOCK_COUNTER = """
import sys, time
from totem.store import connect
store = connect(sys.argv[1])
for _ in range(10):
    with store.lock(sys.argv[2], ttl=5):
        value = int(store.get(sys.argv[3]) or 0)   # read-modify-write, safe only under the lock
        time.sleep(0.01)                           # widen the window a broken lock would let others in
        store.put(sys.argv[3], str(value + 1))
"""


def test_lock_gives_mutual_exclusion_across_processes(store, unique_prefix):
    counter = unique_prefix + "counter"
    name = "count" + unique_prefix.rstrip("/")
    workers = [subprocess.Popen([sys.executable, "-c", LOCK_COUNTER, store.url, name, counter]) for _ in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    assert store.get(counter) == "30"


def test_lock_of_a_dead_holder_frees_itself(store, unique_prefix):
    name = "dead" + unique_prefix.rstrip("/")
    holder = run_python(
        """
        import os, sys
        from totem.store import connect
        lock = connect(sys.argv[1]).lock(sys.argv[2], ttl=2)
        assert lock.acquire(blocking=False)
        os._exit(0)   # dies holding the lock, without releasing
        """,
        store.url,
        name,
    )
    assert holder.returncode == 0, holder.stderr
    lock = store.lock(name, ttl=2)
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=15) is True
    assert lock.held
    lock.release()
    assert store.get("/totem/locks/" + name) is None


def test_unreachable_etcd_raises_store_unavailable(store):
    from totem.net import free_port

    scheme = store.url.split("://")[0]
    dead = connect(f"{scheme}://127.0.0.1:{free_port()}")
    assert dead.ping() is False
    with pytest.raises(StoreUnavailable):
        dead.get("/anything")
    with pytest.raises(StoreUnavailable):
        dead.put("/anything", "x")


def test_values_round_trip_json(store, unique_prefix):
    payload = json.dumps({"host": "127.0.0.1", "port": 8080, "tags": ["a", "b"]})
    store.put(unique_prefix + "endpoint", payload)
    assert json.loads(store.get(unique_prefix + "endpoint"))["port"] == 8080


def test_a_member_that_does_not_answer_is_passed_over(store, unique_prefix):
    """`etcd://dead,live`: reads, writes, leases and watches reach the member that answers."""
    from totem.net import free_port

    scheme, rest = store.url.split("://")
    both = connect(f"{scheme}://127.0.0.1:{free_port()},{rest}")
    assert both.ping() is True
    key = unique_prefix + "members/a"
    both.put(key, "1")
    assert store.get(key) == "1"
    assert both.get(key) == "1"
    lease = both.lease(5)
    assert both.create(unique_prefix + "members/leased", "x", lease=lease) is True
    lease.revoke()
    assert store.get(unique_prefix + "members/leased") is None
    seen: list[Event] = []
    watcher = connect(f"{scheme}://127.0.0.1:{free_port()},{rest}").watch(unique_prefix + "members/", seen.append)
    try:
        assert watcher.wait_ready(15)
        store.put(unique_prefix + "members/b", "2")
        wait(lambda: any(e.key.endswith("members/b") for e in seen), 15, what="the put seen through the watch")
    finally:
        watcher.stop()
