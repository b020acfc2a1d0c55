"""Small pieces: durations, secrets, location ownership, systemd quoting, fleet options, notices."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from cryptography.fernet import Fernet

from deployer import fleet_units, notify, proxy_spec
from deployer.durations import seconds
from deployer.secrets import SecretError, decrypt_environment, encrypt, masked
from tests.support import serve_http
from totem import signatures
from totem.logs import redact
from totem.notify import Delivery, Level


def test_durations():
    assert seconds("10s", 1) == 10 and seconds("500ms", 1) == 0.5 and seconds("2m", 1) == 120
    assert seconds(None, 7) == 7 and seconds(3, 1) == 3
    with pytest.raises(ValueError):
        seconds("soon", 1)


def test_secrets_decrypt_only_with_the_key_and_are_redacted():
    key = Fernet.generate_key().decode()
    env = {"PLAIN": "x", "FLAG": True, "SECRET": {"value": encrypt(key, "hunter2-secret"), "encrypted": True}}
    assert decrypt_environment(env, key) == {"PLAIN": "x", "FLAG": "true", "SECRET": "hunter2-secret"}
    assert redact("leaked hunter2-secret here") == "leaked *** here"
    with pytest.raises(SecretError, match="SECRET") as error:
        decrypt_environment(env, None)
    assert "hunter2" not in str(error.value)
    with pytest.raises(SecretError):
        decrypt_environment(env, Fernet.generate_key().decode())
    assert masked(env)["SECRET"] == {"value": "***", "encrypted": True}


def test_location_ownership_is_anchored():
    assert proxy_spec.location_id("foo", "_home") == "foo_home"
    assert proxy_spec.location_id("foo-bar", "api v2") == "foo-bar_api-v2"
    assert proxy_spec.owner_of("foo-bar_home") == "foo-bar"
    assert proxy_spec.owner_of("foo-bar_home") != "foo"


def test_wiring_and_upstream_from_the_proxy_section():
    proxy = {
        "hosts": {
            "a": {
                "hostname": "Shop.localhost",
                "aliases": ["www.shop.localhost"],
                "locations": {"_home": {"port": 8080, "path": "/", "force-ssl": True, "allowed-acls": ["office"]}},
            }
        },
        "upstreams": {"8080": {"health": {"uri": "/up", "timeout": "1s"}}},
    }
    wiring = proxy_spec.wiring_for("shop", proxy)
    assert wiring == {
        "shop.localhost": {
            "aliases": ["www.shop.localhost"],
            "locations": {"shop_home": {"path": "/", "force-ssl": True, "allowed": ["office"], "denied": []}},
        }
    }
    assert proxy_spec.upstream_config(proxy, 8080, "/health") == {
        "mode": "http",
        "health/uri": "/up",
        "health/timeout": "1s",
        "health/interval": "2s",
    }


def test_systemd_quote_escapes_specifiers_variables_and_quotes():
    assert fleet_units.systemd_quote('a "b" $X 5% \\') == '"a \\"b\\" $$X 5%% \\\\"'
    assert "\n" not in fleet_units.systemd_quote("line\nbreak")


def test_fleet_options_round_trip():
    text = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/bin/docker run a\n\n[X-Fleet]\nConflicts=a@*.service\n"
    options = fleet_units.to_options(text)
    assert options[0] == {"section": "Unit", "name": "Description", "value": "x"}
    assert fleet_units.to_options(fleet_units.from_options(options)) == options


def test_failure_notice_goes_to_the_webhook_signed():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("X-Hook-Signature"), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        url = f"{base}/notice"
        record = {
            "id": "shop-v1-1",
            "app": "shop",
            "version": "v1",
            "state": "FAILED",
            "cluster": "c",
            "request": {
                "meta-info": {"job-id": "j"},
                "notifications": {
                    "webhook": {"enabled": True, "level": 1, "url": url},
                    "slack": {"enabled": False, "level": 5, "url": url},
                },
            },
        }
        delivery = Delivery(timeout=5, hook_secret="hook-secret")
        assert notify.send(record, Level.FAILED, "check failed", delivery) == ["webhook"]
        assert notify.send(record, Level.SUCCESS, "promoted", delivery) == []  # level 1 gets failures only
    signature, body = received[0]
    assert signatures.verify("hook-secret", body, signature)
    assert json.loads(body)["status"] == "failed"


def test_a_later_applied_revision_covers_an_earlier_one():
    from deployer.wiring import covers

    assert covers("7.dep-a", "7.dep-a")
    assert covers("9.dep-b", "7.dep-a")  # overlapping rewires: the later one includes the earlier
    assert not covers("6.dep-z", "7.dep-a")
    assert not covers(None, "7.dep-a")
    assert not covers("garbage", "7.dep-a")
