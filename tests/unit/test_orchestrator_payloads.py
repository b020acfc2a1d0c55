"""Realistic webhook payloads (tests/fixtures/orchestrator), filled in per test; and their signing."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from totem import signatures

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orchestrator"


def payload(name: str, **values: str) -> dict:
    """Load `<name>.json`, replacing __OWNER__, __REPO__, __REF__, __SHA__, ... with `values`."""
    text = (FIXTURES / f"{name}.json").read_text()
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", value)
    return json.loads(text)


def commit() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


def github_headers(secret: str, body: bytes, event: str, delivery: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signatures.sign(secret, body),
        "User-Agent": "GitHub-Hookshot/abc",
    }


def generic_hook(owner, repo, ref, sha, type_="builder", name="image-factory", status="success", **extra) -> dict:
    hook = {
        "git": {"owner": owner, "repo": repo, "ref": ref, "commit": sha},
        "type": type_,
        "name": name,
        "status": status,
        "result": {},
    }
    if type_ == "builder" and status == "success":
        hook["result"] = {"image": f"127.0.0.1:5000/{owner}-{repo}:{sha}"}
    hook.update(extra)
    return hook


class TravisKey:
    """A generated RSA key standing in for Travis's: sign payloads, publish the PEM."""

    def __init__(self):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, payload: str) -> str:
        return base64.b64encode(self.private.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA1())).decode()


def test_every_fixture_is_valid_json_once_filled_in():
    for path in FIXTURES.glob("*.json"):
        data = payload(
            path.stem,
            owner="o",
            repo="r",
            ref="master",
            sha="a" * 40,
            workflow="CI",
            conclusion="success",
            status_message="Passed",
        )
        assert isinstance(data, dict)
