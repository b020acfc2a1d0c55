"""Command-line parsing of yoda-discover."""

from __future__ import annotations

from totem.settings import Settings
from yoda_discover.cli import parse_args

SETTINGS = Settings(yoda_base="/yoda", cluster="east")


def test_watch_is_the_default_mode():
    assert parse_args([], SETTINGS).mode == "watch"
    args = parse_args(["--host-ip", "10.0.0.5", "--label", "totem.env=prod"], SETTINGS)
    assert (args.mode, args.host_ip, args.label, args.base) == ("watch", "10.0.0.5", ["totem.env=prod"], "/yoda")


def test_register_takes_a_container_and_check_settings():
    args = parse_args(["register", "hello-1", "--fall", "5", "--timeout", "0.5"], SETTINGS)
    assert (args.container, args.fall, args.timeout, args.host_ip) == ("hello-1", 5, 0.5, "127.0.0.1")


def test_presence_defaults_to_the_proxy_ports():
    args = parse_args(["presence", "--node", "p1"], SETTINGS)
    assert (args.node, args.http, args.https, args.admin, args.address) == ("p1", 8080, 8443, 8081, None)
