import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from totem.signatures import sign, verify

BODY = b'{"git": {"owner": "o", "repo": "r"}}'


def test_matches_githubs_format():
    expected = "sha256=" + hmac.new(b"secret", BODY, hashlib.sha256).hexdigest()
    assert sign("secret", BODY) == expected
    assert verify("secret", BODY, expected)


def test_rejects_wrong_secret_body_or_malformed_header():
    header = sign("secret", BODY)
    assert not verify("other", BODY, header)
    assert not verify("secret", BODY + b" ", header)
    for bad in (None, "", "sha256", "sha256=", "md5=abc", header.upper(), header[:-1]):
        assert not verify("secret", BODY, bad)
    assert not verify(None, BODY, header)
    assert not verify("", BODY, header)


def test_sha1_only_when_allowed():
    header = sign("secret", BODY, "sha1")
    assert header.startswith("sha1=")
    assert not verify("secret", BODY, header)
    assert verify("secret", BODY, header, allow_sha1=True)


@given(secret=st.text(min_size=1), body=st.binary())
def test_round_trip(secret, body):
    assert verify(secret, body, sign(secret, body))
    assert not verify(secret + "x", body, sign(secret, body))
