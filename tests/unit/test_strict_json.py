"""Request bodies are strict JSON: what Python's json module would accept beyond RFC 8259 is refused."""

from __future__ import annotations

import pytest

from totem.api import ApiError, parse_json
from totem.api.validation import MAX_DEPTH


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    "body, code",
    [
        (b'{"x": NaN}', "invalid_json"),
        (b'{"x": Infinity}', "invalid_json"),
        (b"[-Infinity]", "invalid_json"),
        (b'{"x": 1e400}', "invalid_json"),  # parses to inf in Python, which no JSON parser can read back
        (b'{"x": 1' + b"0" * 5000 + b"}", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"", "invalid_json"),
        (nested(MAX_DEPTH + 1), "too_deep"),
        (nested(1000), "too_deep"),  # deep enough for the parser itself to give up
        (nested(100_000), "too_deep"),
        (b'{"a": ' * 70 + b"1" + b"}" * 70, "too_deep"),
    ],
)
def test_what_is_not_strict_json_is_a_400(body, code):
    with pytest.raises(ApiError) as refused:
        parse_json(body)
    assert refused.value.status == 400 and refused.value.code == code


def test_strict_json_up_to_the_depth_limit_parses():
    assert parse_json(nested(MAX_DEPTH))[0] is not None
    assert parse_json('{"x": [1.5, -2e10, "NaN", null, true]}') == {"x": [1.5, -2e10, "NaN", None, True]}


def test_the_refusal_names_what_was_read():
    with pytest.raises(ApiError) as refused:
        parse_json("{", "form field `payload`")
    assert refused.value.message == "form field `payload` is not valid JSON"
