"""totem.signed_post: the bytes signed are the bytes sent, keys sorted; no secret, no signature; the
retry window of senders configured by an attempt count."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.support import serve_http
from totem import signed_post
from totem.signatures import verify


def test_the_body_is_serialised_once_with_sorted_keys_and_signed_as_sent():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        assert signed_post.post_json(base, {"b": 1, "a": {"d": 2, "c": 3}}, "s3cret").status_code == 204
        assert signed_post.post_json(base, {"a": 1}).status_code == 204
    (signed_headers, body), (plain_headers, _) = received
    assert body == b'{"a": {"c": 3, "d": 2}, "b": 1}' == signed_post.encode({"b": 1, "a": {"d": 2, "c": 3}})
    assert verify("s3cret", body, signed_headers["X-Hook-Signature"])
    assert signed_headers["Content-Type"] == "application/json"
    assert "X-Hook-Signature" not in plain_headers


def test_other_signature_headers_for_other_receivers():
    headers = signed_post.signed_headers(b"{}", "s3cret", header="X-Hub-Signature-256")
    assert verify("s3cret", b"{}", headers["X-Hub-Signature-256"]) and "X-Hook-Signature" not in headers


def test_an_attempt_count_spans_a_window_of_capped_doubling_pauses():
    assert signed_post.window(1, 1.0) == signed_post.window(0, 1.0) == 0
    assert signed_post.window(4, 0.5) == 0.5 + 1 + 2
    assert signed_post.window(30, 0.5) == 0.5 + 1 + 2 + 4 + 25 * signed_post.MAX_PAUSE  # outlasts a short outage
    assert signed_post.window(10_000, 1.0) < 10_000 * signed_post.MAX_PAUSE  # no overflow, still capped
