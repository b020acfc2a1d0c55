"""Listening sockets handed over the way HAProxy's `-x` / `_getsocks` does: the copy is the same socket."""

from __future__ import annotations

import os
import socket

from yoda_proxy.haproxy import get_sockets, handing_over


def test_sockets_handed_over_are_the_same_sockets(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        with handing_over(tmp_path / "x.sock", [listener], timeout=5) as given:
            assert given
            [copy] = get_sockets(tmp_path / "x.sock", timeout=5)
        with copy:
            assert os.fstat(copy.fileno()).st_ino == os.fstat(listener.fileno()).st_ino
            assert copy.getsockname() == listener.getsockname() and not copy.get_inheritable()
        assert not (tmp_path / "x.sock").exists()
    finally:
        listener.close()


def test_nothing_to_hand_over(tmp_path):
    with handing_over(tmp_path / "x.sock", [], timeout=5) as given:
        assert not given and not (tmp_path / "x.sock").exists()
