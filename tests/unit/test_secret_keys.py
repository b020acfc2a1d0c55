"""An environment's key ring against the real etcd; encrypted values split into files and variables;
the CLI's in-place rewrite of a totem.yml; Swarm secret names; the /secrets API (auth, roles,
environments, no plaintext echoed or logged)."""

from __future__ import annotations

import argparse
import functools
import io
import json
import threading
import uuid
from types import SimpleNamespace

import pytest
import yaml
from cryptography.fernet import Fernet

from deployer import secret_files, swarm_secrets
from deployer.openapi import document
from deployer.secret_keys import KeyRing, KeyRingError, PrimaryKey, UndecryptableValue, UnknownKey, unwrap
from deployer.secrets import SecretError, decrypt_environment, encrypt, well_formed
from tests.fixtures.deployer.service import AUTH, deployer_app
from tests.openapi_contract import check_answer
from totem.logs import redact
from totem.settings import Settings
from totem.store import connect
from totem_cli import ops
from totem_cli.ops import secrets as cli

MASTER = Fernet.generate_key().decode()


@pytest.fixture
def prefix():
    root = f"/test-{uuid.uuid4().hex[:12]}/"
    store = connect(Settings.from_env().etcd_url)
    yield store, root
    store.delete_prefix(root)


def ring(prefix, env: str = "prod", master: str = MASTER) -> KeyRing:
    store, root = prefix
    return KeyRing(store, root + "deployer", env, master)


def test_the_first_encryption_makes_the_primary_and_any_ring_key_decrypts(prefix):
    keys = ring(prefix)
    assert keys.listed() == []
    token, first = keys.encrypt("alpha-secret")
    assert keys.listed() == [{"id": first, "created": keys.listed()[0]["created"], "primary": True}]
    second = keys.rotate().id
    assert [k["id"] for k in keys.listed()] == [second, first]
    assert keys.decrypt(token) == "alpha-secret"
    newer, used = keys.encrypt("beta-secret")
    assert used == second and keys.decrypt(newer) == "beta-secret"


def test_values_of_the_master_key_still_decrypt_and_reencrypt_to_the_primary(prefix):
    keys = ring(prefix)
    legacy = encrypt(MASTER, "legacy-value")
    assert keys.decrypt(legacy) == "legacy-value"
    (fresh,), primary = keys.reencrypt([legacy])
    assert fresh != legacy and Fernet(keys.keys()[0].key).decrypt(unwrap(fresh)[1].encode()) == b"legacy-value"
    assert primary == keys.keys()[0].id


def test_a_retired_key_no_longer_decrypts_and_the_primary_cannot_be_retired(prefix):
    keys = ring(prefix)
    token, old = keys.encrypt("gamma-secret")
    with pytest.raises(PrimaryKey):
        keys.retire(old)
    keys.rotate()
    (rotated,), _ = keys.reencrypt([token])
    keys.retire(old)
    with pytest.raises(UndecryptableValue):
        keys.decrypt(token)
    assert keys.decrypt(rotated) == "gamma-secret"
    with pytest.raises(UnknownKey):
        keys.retire(old)


def test_rings_are_per_environment_and_sealed_by_the_master_key(prefix):
    store, root = prefix
    token, _ = ring(prefix, "prod").encrypt("prod-only-value")
    with pytest.raises(UndecryptableValue):
        ring(prefix, "dev").decrypt(token)
    raw = store.get(f"{root}deployer/secrets/prod/keys")
    assert raw and "prod-only-value" not in raw
    data_key = Fernet(ring(prefix).keys()[0].key)
    assert data_key.decrypt(unwrap(token)[1].encode()) == b"prod-only-value"  # the data key works
    assert ring(prefix).keys()[0].key.decode() not in raw  # but is stored sealed
    with pytest.raises(KeyRingError):
        ring(prefix, master=Fernet.generate_key().decode()).keys()
    with pytest.raises(KeyRingError):
        ring(prefix, "../etc")
    with pytest.raises(KeyRingError):
        ring(prefix, master="")


def test_decrypt_environment_keeps_ring_tokens_sealed_and_refuses_malformed_ones(prefix):
    token, _ = ring(prefix).encrypt("ring-value-1")
    env = decrypt_environment(
        {
            "PLAIN": "x",
            "FLAG": True,
            "OLD": {"value": encrypt(MASTER, "master-value-1"), "encrypted": True},
            "NEW": {"value": token, "encrypted": True},
        },
        MASTER,
    )
    assert dict(env) == {"PLAIN": "x", "FLAG": "true", "OLD": "master-value-1"}
    assert env.encrypted == {"OLD", "NEW"} and env.sealed == {"NEW": token}
    assert redact("log master-value-1") == "log ***"
    assert token.startswith("totem:k")
    assert well_formed(unwrap(token)[1]) and not well_formed("not-a-token")
    with pytest.raises(SecretError, match="WRONG"):  # the master key's format, another key
        other = encrypt(Fernet.generate_key().decode(), "x")
        decrypt_environment({"WRONG": {"value": other, "encrypted": True}}, MASTER)
    with pytest.raises(SecretError, match="BAD") as caught:
        decrypt_environment({"BAD": {"value": "not-a-fernet-token", "encrypted": True}}, MASTER)
    assert "not-a-fernet-token" not in str(caught.value)


def _ctx(prefix, env: str = "local"):
    store, root = prefix
    return SimpleNamespace(
        store=store,
        options=SimpleNamespace(prefix=root + "deployer", encryption_key=MASTER),
        settings=SimpleNamespace(env=env),
    )


def test_the_plan_delivers_encrypted_values_as_files_and_opt_in_as_variables(prefix):
    token, _ = ring(prefix, "prod").encrypt("ring-value-2")
    request = {
        "meta-info": {"env": "prod"},
        "security": {"secrets-as-env": ["EXPOSED"]},
        "environment": {
            "PLAIN": "y",
            "API_KEY": {"value": token, "encrypted": True},
            "EXPOSED": {"value": encrypt(MASTER, "exposed-value"), "encrypted": True},
        },
    }
    env = decrypt_environment(request["environment"], MASTER)
    delivery = secret_files.plan(_ctx(prefix), {"request": request}, env)
    assert delivery.files == {"API_KEY": "ring-value-2", "EXPOSED": "exposed-value"}
    assert delivery.env == {
        "PLAIN": "y",
        "EXPOSED": "exposed-value",
        "API_KEY_FILE": "/run/secrets/API_KEY",
        "EXPOSED_FILE": "/run/secrets/EXPOSED",
    }
    assert env["API_KEY"] == "ring-value-2"  # opened in place: job runs mask their output with it
    assert delivery.mask("got ring-value-2 and exposed-value") == "got *** and ***"
    assert redact("ring-value-2") == "***"


def test_the_plan_uses_the_deployment_environment_ring(prefix):
    token, _ = ring(prefix, "prod").encrypt("prod-value-3")
    request = {"meta-info": {"env": "staging"}, "environment": {"A": {"value": token, "encrypted": True}}}
    env = decrypt_environment(request["environment"], MASTER)
    with pytest.raises(SecretError, match="A: no key of staging"):
        secret_files.plan(_ctx(prefix), {"request": request}, env)
    fallback = {"environment": request["environment"]}  # no meta-info env: the deployer's TOTEM_ENV
    env = decrypt_environment(request["environment"], MASTER)
    assert secret_files.plan(_ctx(prefix, env="prod"), {"request": fallback}, env).files == {"A": "prod-value-3"}


def test_a_docker_secrets_mount_is_recognised_only_under_the_tmpfs_root():
    mounts = {"Mounts": [{"Destination": "/run/secrets", "Source": "/dev/shm/totem-secrets/app-1-abc"}]}
    assert secret_files.source_of(mounts) == "/dev/shm/totem-secrets/app-1-abc"
    assert secret_files.source_of({"Mounts": [{"Destination": "/run/secrets", "Source": "/etc"}]}) is None
    assert secret_files.source_of({}) is None


def test_swarm_secret_names_are_unique_and_short():
    first = swarm_secrets.secret_name("shop-v1-" + "x" * 60, "API_KEY")
    assert len(first) <= 64 and first != swarm_secrets.secret_name("shop-v1-" + "x" * 60, "API_KEY2")


def test_the_cli_rewrites_only_the_tokens_of_a_totem_yml(tmp_path):
    old_a, old_b = encrypt(MASTER, "a-value"), encrypt(MASTER, "b-value")
    text = (
        "# keep this comment\n"
        "environment:\n"
        f"  A: {{value: '{old_a}', encrypted: true}}   # trailing note\n"
        "  B:\n"
        f"    value: {old_b}\n"
        "    encrypted: true\n"
        "  C: plain\n"
    )
    path = tmp_path / "totem.yml"
    path.write_text(text)
    path.chmod(0o640)
    assert cli.encrypted_tokens(yaml.safe_load(text)) == [old_a, old_b]
    cli.rewrite(path, {old_a: "NEW-A", old_b: "NEW-B"})
    assert path.read_text() == text.replace(old_a, "NEW-A").replace(old_b, "NEW-B")
    assert path.stat().st_mode & 0o777 == 0o640
    assert cli.snippet({"value": "TOKEN", "key": "k1", "env": "prod"}, "DB_PASSWORD") == (
        "# encrypted for prod with key k1\nDB_PASSWORD:\n  value: TOKEN\n  encrypted: true\n"
    )


@pytest.fixture
def service(caplog):
    import redis

    from totem.access import guard

    prefix = f"totem:test-{uuid.uuid4().hex[:10]}"
    with deployer_app(TOTEM_ENCRYPTION_KEY=MASTER, TOTEM_ACCESS_PREFIX=prefix, TOTEM_ENV="prod") as app:

        def token(name: str, role: str, envs=None) -> dict:
            with app.app_context():
                value, _ = guard.access().tokens.create(name, role, None, envs)
            return {"Authorization": f"Bearer {value}"}

        app.token = token
        yield app
        client = redis.Redis.from_url(Settings.from_env().redis_url, decode_responses=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def test_the_api_encrypts_without_echoing_or_logging_the_plaintext(service, caplog):
    client = service.test_client()
    plaintext = "api-" + uuid.uuid4().hex
    answer = client.post("/secrets/prod/encrypt", json={"value": plaintext}, headers=AUTH)
    assert answer.status_code == 200, answer.data
    body = answer.get_json()
    assert body["encrypted"] is True and body["key"] and plaintext not in answer.get_data(as_text=True)
    with service.app_context():
        ring = KeyRing(service.extensions["deployer"].ctx.store, service.root + "deployer", "prod", MASTER)
        assert ring.decrypt(body["value"]) == plaintext
    refused = [
        client.post("/secrets/prod/encrypt", json={"value": plaintext, "extra": 1}, headers=AUTH),
        client.post("/secrets/prod/encrypt", json={"value": plaintext * 2000}, headers=AUTH),
        client.post("/secrets/prod/encrypt", json=[plaintext], headers=AUTH),
    ]
    assert [r.status_code for r in refused] == [400, 400, 400]
    assert not any(plaintext in r.get_data(as_text=True) for r in refused)
    assert plaintext not in caplog.text


def test_the_api_checks_tokens_roles_and_environments(service):
    client = service.test_client()
    assert client.post("/secrets/prod/encrypt", json={"value": "abcd"}).status_code == 401
    assert client.get("/secrets/prod/keys").status_code == 401
    deployer = service.token("ci", "deployer", ["prod", "dev"])
    assert client.post("/secrets/dev/encrypt", json={"value": "abcd"}, headers=deployer).status_code == 200
    assert client.post("/secrets/dev/rotate", headers=deployer).status_code == 403  # admin only
    dev_only = service.token("dev-admin", "admin", ["dev"])
    assert client.post("/secrets/dev/rotate", headers=dev_only).status_code == 403  # the service runs in prod
    admin = service.token("ops", "admin", ["prod"])
    assert client.post("/secrets/dev/rotate", headers=admin).status_code == 403  # not valid in dev
    assert client.post("/secrets/-bad/rotate", headers=AUTH).status_code == 404


def test_the_api_rotates_reencrypts_lists_and_retires(service):
    client = service.test_client()
    first = client.post("/secrets/prod/encrypt", json={"value": "first-value"}, headers=AUTH).get_json()
    rotated = client.post("/secrets/prod/rotate", headers=AUTH)
    assert rotated.status_code == 201
    primary = rotated.get_json()["primary"]["id"]
    again = client.post("/secrets/prod/reencrypt", json={"values": [first["value"]]}, headers=AUTH).get_json()
    assert again["key"] == primary and again["values"][0] != first["value"]
    keys = client.get("/secrets/prod/keys", headers=AUTH).get_json()["keys"]
    assert [k["id"] for k in keys] == [primary, first["key"]] and set(keys[0]) == {"id", "created", "primary"}
    assert client.delete(f"/secrets/prod/keys/{primary}", headers=AUTH).status_code == 409
    assert client.delete("/secrets/prod/keys/k000000000000", headers=AUTH).status_code == 404
    assert client.delete(f"/secrets/prod/keys/{first['key']}", headers=AUTH).status_code == 200
    stale = client.post("/secrets/prod/reencrypt", json={"values": [first["value"]]}, headers=AUTH)
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "undecryptable"


def test_every_answer_is_what_the_openapi_document_says(service):
    client = service.test_client()
    check = functools.partial(check_answer, service, document())
    first = check(client.post("/secrets/prod/encrypt", json={"value": "doc-value"}, headers=AUTH))
    check(client.post("/secrets/prod/encrypt", json={"value": ""}, headers=AUTH))
    check(client.post("/secrets/prod/encrypt", data="x", headers=AUTH))
    check(client.post("/secrets/prod/encrypt", json={"value": "abcd"}))
    check(client.post("/secrets/dev/encrypt", json={"value": "abcd"}, headers=service.token("d", "deployer", ["prod"])))
    check(client.post("/secrets/prod/reencrypt", json={"values": [first["value"]]}, headers=AUTH))
    check(client.post("/secrets/prod/reencrypt", json={"values": "no"}, headers=AUTH))
    rotated = check(client.post("/secrets/prod/rotate", headers=AUTH))
    check(client.get("/secrets/prod/keys", headers=AUTH))
    check(client.get("/secrets/prod/keys"))
    check(client.delete(f"/secrets/prod/keys/{rotated['primary']['id']}", headers=AUTH))
    check(client.delete("/secrets/prod/keys/nope", headers=AUTH))
    check(client.delete(f"/secrets/prod/keys/{first['key']}", headers=AUTH))


def test_without_a_master_key_the_api_answers_503():
    with deployer_app() as app:
        answer = app.test_client().post("/secrets/unit/encrypt", json={"value": "abcd"}, headers=AUTH)
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "no_master_key"


@pytest.fixture
def served(monkeypatch):
    """The deployer's app on a loopback port, the CLI's environment pointing at it."""
    from werkzeug.serving import make_server

    from tests.fixtures.deployer.service import TOKEN

    with deployer_app(TOTEM_ENCRYPTION_KEY=MASTER) as app:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        monkeypatch.setenv("TOTEM_DEPLOYER_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("TOTEM_API_TOKEN", TOKEN)
        monkeypatch.delenv("TOTEM_TOKEN", raising=False)
        try:
            yield app
        finally:
            server.shutdown()
            thread.join(10)


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="totem")
    commands = parser.add_subparsers(dest="command")
    ops.register(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


def test_the_cli_encrypts_rotates_the_files_lists_and_retires(served, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("cli-secret-value\n"))
    assert run_cli(["secrets", "encrypt", "--env", "unit", "--name", "DB_PASSWORD"]) == 0
    pasted = capsys.readouterr().out
    assert "cli-secret-value" not in pasted and pasted.startswith("# encrypted for unit with key k")
    path = tmp_path / "totem.yml"
    path.write_text("# ours\nenvironment:\n" + "".join(f"  {line}\n" for line in pasted.splitlines()) + "  X: 1\n")
    before = path.read_text()
    old = yaml.safe_load(before)["environment"]["DB_PASSWORD"]["value"]

    assert run_cli(["secrets", "rotate", "--env", "unit", str(path)]) == 0
    assert "1 value(s) re-encrypted" in capsys.readouterr().out
    new = yaml.safe_load(path.read_text())["environment"]["DB_PASSWORD"]["value"]
    assert new != old and path.read_text() == before.replace(old, new)
    with served.app_context():
        keys = KeyRing(served.extensions["deployer"].ctx.store, served.root + "deployer", "unit", MASTER)
        assert keys.decrypt(new) == "cli-secret-value"

    assert run_cli(["secrets", "keys", "--env", "unit", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["primary"] for k in listed] == [True, False] and listed[0]["id"] == unwrap(new)[0]
    assert run_cli(["secrets", "retire", "--env", "unit", listed[0]["id"]]) == 1  # the primary
    assert run_cli(["secrets", "retire", "--env", "unit", listed[1]["id"]]) == 0
    capsys.readouterr()
    with served.app_context():
        with pytest.raises(UndecryptableValue):
            keys.decrypt(old)
