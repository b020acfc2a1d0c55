"""send_hook (totem.signed_post) signs and retries against a real local HTTP server."""

import json
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from tests.support import serve_http
from totem.signatures import verify
from totem.signed_post import send_hook


@pytest.fixture
def receiver():
    received, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(answers.pop(0) if answers else 202)
            self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as url:
        yield f"{url}/hooks/generic", received, answers


HOOK = {
    "git": {"owner": "o", "repo": "r", "ref": "main", "commit": "a" * 40},
    "type": "builder",
    "name": "image-factory",
    "status": "success",
    "result": {"image": "x"},
}


def test_hook_is_signed(receiver):
    url, received, _ = receiver
    assert send_hook(url, HOOK, "s3cret").status_code == 202
    headers, body = received[0]
    assert json.loads(body) == HOOK
    assert verify("s3cret", body, headers["X-Hook-Signature"])


def test_5xx_and_429_are_retried_but_4xx_is_final(receiver):
    url, received, answers = receiver
    answers.extend([503, 429])
    assert send_hook(url, HOOK, "s3cret", backoff=0.01).status_code == 202
    assert len(received) == 3
    answers.append(401)
    assert send_hook(url, HOOK, "s3cret", backoff=0.01).status_code == 401
    assert len(received) == 4


def test_connection_errors_raise_after_the_last_attempt():
    from totem.net import free_port

    with pytest.raises(requests.ConnectionError):
        send_hook(f"http://127.0.0.1:{free_port()}/", HOOK, "s", attempts=2, backoff=0.01)
