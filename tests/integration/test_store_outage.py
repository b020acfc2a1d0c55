"""Watches survive an etcd restart and a compaction, and deliver what they missed."""

from __future__ import annotations

import pytest

from totem.store import Compacted, Event, connect
from totem.waiting import wait


@pytest.mark.parametrize("scheme", ["etcd", "etcd2"])
def test_watch_survives_restart_and_delivers_changes_made_meanwhile(private_etcd, scheme):
    store = connect(f"{scheme}://{private_etcd.address}")
    prefix = f"/outage-{scheme}/"
    store.delete_prefix(prefix)
    store.put(prefix + "stays", "1")
    store.put(prefix + "goes", "1")
    store.put(prefix + "changes", "old")
    events: list[Event] = []
    watcher = store.watch(prefix, events.append)
    try:
        assert watcher.wait_ready()
        private_etcd.stop()
        wait(lambda: not watcher.connected.is_set(), timeout=30)
        private_etcd.start()
        # written while the watcher is still disconnected (it backs off between retries)
        store.delete(prefix + "goes")
        store.put(prefix + "changes", "new")
        store.put(prefix + "appears", "2")
        if scheme == "etcd":
            private_etcd.compact()  # the history the watcher would resume from is gone too
        wait(lambda: watcher.snapshot == store.list(prefix), timeout=30)
        seen = {(e.type, e.key, e.value) for e in events}
        assert ("delete", prefix + "goes", None) in seen
        assert ("put", prefix + "changes", "new") in seen
        assert ("put", prefix + "appears", "2") in seen
        assert not any(e.key == prefix + "stays" for e in events)
        # and it keeps watching afterwards
        store.put(prefix + "after", "3")
        wait(lambda: ("put", prefix + "after", "3") in {(e.type, e.key, e.value) for e in events}, timeout=10)
    finally:
        watcher.stop()


def test_stream_from_a_compacted_revision_raises_compacted(private_etcd):
    store = connect(f"etcd://{private_etcd.address}")
    _, old_revision = store.snapshot("/compaction/")
    for i in range(3):
        store.put(f"/compaction/k{i}", str(i))
    private_etcd.compact()

    class Context:
        import threading

        stopped = threading.Event()

        @staticmethod
        def on_stop(_stopper):
            return lambda: None

    with pytest.raises(Compacted):
        for _revision, events in store.stream("/compaction/", old_revision, Context):
            assert not events, "a compacted history must not be replayed"
