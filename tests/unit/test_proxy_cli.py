"""Command-line options of yoda-proxy."""

from __future__ import annotations

import pytest

from yoda_proxy.cli import build_parser, options
from yoda_proxy.settings import Bind


def test_defaults_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("YODA_BASE", "/custom/")
    monkeypatch.setenv("YODA_ADMIN_PASSWORD", "pw")
    monkeypatch.setenv("TOTEM_HOME", str(tmp_path))
    opts = options(build_parser().parse_args(["--node", "p1", "--https", "[::1]:9443"]))
    assert (opts.http, opts.admin) == (Bind("127.0.0.1", 8080), Bind("127.0.0.1", 8081))
    assert opts.https == Bind("::1", 9443) and opts.https.haproxy == "ipv6@::1:9443"
    assert opts.base == "/custom" and opts.prefix == "/custom/"
    assert opts.work_dir == (tmp_path / "proxy").resolve()
    assert opts.admin_password == "pw" and "pw" not in repr(opts)


def test_rejects_bad_values():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--http", "nope"])
    with pytest.raises(SystemExit):
        options(build_parser().parse_args(["--node", "bad node"]))
