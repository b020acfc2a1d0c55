"""The pieces of log shipping that need no engine: RFC 5424 messages and their octet-counted
framing, syslog destinations, the collector's rsyslog.conf (checked by rsyslogd itself) and the
fleet logger sidekick (checked by systemd)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deployer import fleet_units
from totem import rfc5424, syslog_url
from totem_stack import packages, rsyslog
from yoda_discover.log_cursor import Cursors, seconds

STAMP = "2026-01-02T03:04:05.123456Z"


def test_a_message_has_the_rfc5424_header_and_structured_data():
    sd = rfc5424.structured_data(rfc5424.ENTERPRISE_ID, {"app": "hello", "version": "abc", "empty": ""})
    msg = rfc5424.message(b"hello world\n", stamp=STAMP, hostname="node-1", app="hello", procid="hello-abc-1", sd=sd)
    head = b"<30>1 2026-01-02T03:04:05.123456Z node-1 hello hello-abc-1 - "
    assert msg == head + b'[totem@32473 app="hello" version="abc"] hello world'
    err = rfc5424.message(b"x", stamp=STAMP, hostname="h", app="a", severity=rfc5424.SEVERITY["stderr"])
    assert err.startswith(b"<27>1 ") and err.endswith(b" - - - x")


def test_structured_data_values_escape_quote_backslash_and_bracket():
    sd = rfc5424.structured_data("totem@32473", {"v": 'a"b\\c]d'})
    assert sd == '[totem@32473 v="a\\"b\\\\c\\]d"]'
    assert rfc5424.structured_data("x", {'bad name="]': "1"}) == '[x bad_name___="1"]'


def test_header_fields_are_printable_ascii_cut_to_their_length():
    msg = rfc5424.message(b"", stamp=STAMP, hostname="a b\x00c", app="x" * 60)
    fields = msg.split(b" ")
    assert fields[2] == b"a_b_c" and fields[3] == b"x" * 48
    assert rfc5424.message(b"", stamp=STAMP, hostname="", app="").split(b" ")[2:4] == [b"-", b"-"]


def test_octet_counting_frames_any_bytes():
    body = "line ü with\nbreak".encode()
    framed = rfc5424.frame(body)
    count, _, rest = framed.partition(b" ")
    assert int(count) == len(body) and rest == body
    assert len(rfc5424.message(b"x" * 100_000, stamp=STAMP, hostname="h", app="a")) == rfc5424.MAX_MESSAGE


def test_timestamps_are_utc_with_microseconds():
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert rfc5424.timestamp(when) == STAMP


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("tcp://127.0.0.1:5514", "tcp://127.0.0.1:5514"),
        ("tls://logs.example.internal:6514", None),
        ("tcp://[::1]:514", None),
    ],
)
def test_destinations(url, normal):
    assert str(syslog_url.parse(url)) == (normal or url)


@pytest.mark.parametrize(
    "url",
    [
        "udp://h:514",
        "tcp://h",
        "tcp://h:0",
        "tcp://h:70000",
        "tcp://a b:1",
        "tcp://h:1/path",
        "tcp://u@h:1",
        "tcp://-h:1",
        "tcp://[zz]:1",
        "tcp://h:1;rm",
        "tcp://h:1\n",
    ],
)
def test_bad_destinations_are_refused(url):
    with pytest.raises(syslog_url.SyslogUrlError):
        syslog_url.parse(url)


def test_empty_means_off():
    assert syslog_url.optional("  ") is None and syslog_url.setting("") == ""


def test_cursors_survive_a_restart_and_go_with_their_container(tmp_path: Path):
    container = "ab" * 32
    cursors = Cursors(tmp_path)
    cursors.advance(container, "stdout", "2026-01-02T03:04:05.123456789Z")
    cursors.write_all()
    again = Cursors(tmp_path)
    assert again.get(container, "stdout") == "2026-01-02T03:04:05.123456789Z"
    assert again.get(container, "stderr") == ""
    assert again.known() == {container}
    again.forget(container)
    assert list(tmp_path.iterdir()) == []
    assert seconds("1970-01-01T00:00:10.500000000Z") == 10.5
    with pytest.raises(ValueError):
        cursors.get("../../etc/passwd", "stdout")


def test_rsyslog_config_is_valid_and_writes_one_file_per_app(tmp_path: Path):
    config = rsyslog.render_config("127.0.0.1", 5514, tmp_path / "logs", tmp_path / "work")
    assert 'dynaFile="totemAppFile"' in config and "imuxsock" not in config and "imklog" not in config
    assert f'"{tmp_path}/logs/apps/%app-name%.log"' in config
    assert f"re_match($app-name, '{rsyslog.APP_PATTERN}')" in config
    binary = packages.find_binary("rsyslogd")
    if binary is None:
        pytest.skip("rsyslogd is not installed (Debian package rsyslog)")
    (tmp_path / "work").mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(config)
    result = subprocess.run([binary, "-N1", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rsyslog_config_refuses_paths_it_cannot_quote(tmp_path: Path):
    with pytest.raises(ValueError):
        rsyslog.render_config("127.0.0.1", 5514, tmp_path / 'a"b', tmp_path)


class _Options:
    fleet_templates = None
    discover_image = "totem/yoda-discover"


class _Settings:
    etcd_url, yoda_base = "etcd://127.0.0.1:2379", "/yoda"


def _record(syslog: str) -> dict:
    spec = {"image": "reg/x:1", "nodes": 1, "stop_timeout": 2, "check_path": "/", "syslog": syslog}
    return {
        "id": "flt-v1-1",
        "app": "flt",
        "version": "v1",
        "cluster": "c",
        "upstream": "u",
        "spec": spec,
        "request": {"environment": {}},
    }


def test_fleet_logger_ships_to_the_collector_with_the_labels():
    units = fleet_units.render(_record("tcp://10.0.0.5:5514"), _Settings(), _Options(), 8080)
    logger = units["logger"]
    assert "--tcp --octet-count --server 10.0.0.5 --port 5514" in logger
    assert "--rfc5424=notq" in logger and "--tag flt" in logger and "--sd-id totem@32473" in logger
    assert "'node=\\\"flt-v1-1-%i\\\"'" in logger and "'host=\\\"%H\\\"'" in logger
    assert "totem.syslog" not in units["app"]  # the sidekick ships, not a host shipper
    if packages.find_binary("systemd-analyze"):
        names = fleet_units.unit_names(_record(""))
        ok, output = fleet_units.verify({names[role][0].replace("@1.", "@."): text for role, text in units.items()})
        assert ok, output


def test_fleet_logger_without_a_plain_tcp_collector_writes_to_the_journal():
    for syslog in ("", "tls://logs.internal:6514"):
        logger = fleet_units.render(_record(syslog), _Settings(), _Options(), 8080)["logger"]
        assert "ExecStart=/usr/bin/docker logs --follow --since 1m flt-v1-1-%i\n" in logger
        assert "logger" not in logger.split("[Service]")[1].split("[X-Fleet]")[0].replace("logs", "")
