"""send_hook (totem.signed_post) signs and retries against a real local HTTP server: 429 and 5xx and
connection errors for a window of seconds (Retry-After honoured), anything else at once."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.support import serve_http
from totem.net import free_port
from totem.signatures import verify
from totem.signed_post import send_hook


class Handler(BaseHTTPRequestHandler):
    """Records each request (with its time) and answers the next scripted (status, headers), else 202."""

    received: list = []
    answers: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((time.monotonic(), dict(self.headers), body))
        status, headers = self.answers.pop(0) if self.answers else (202, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    class Fresh(Handler):
        received, answers = [], []

    with serve_http(Fresh) as url:
        yield f"{url}/hooks/generic", Fresh.received, Fresh.answers


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
    _, headers, body = received[0]
    assert json.loads(body) == HOOK
    assert verify("s3cret", body, headers["X-Hook-Signature"])


def test_5xx_and_429_are_retried_but_4xx_is_final(receiver):
    url, received, answers = receiver
    answers.extend([(503, {}), (429, {})])
    assert send_hook(url, HOOK, "s3cret", backoff=0.01).status_code == 202
    assert len(received) == 3 and len({body for _, _, body in received}) == 1  # the same bytes every time
    answers.append((401, {}))
    assert send_hook(url, HOOK, "s3cret", backoff=0.01).status_code == 401
    assert len(received) == 4


def test_retry_after_is_honoured(receiver):
    url, received, answers = receiver
    answers.append((503, {"Retry-After": "1"}))
    assert send_hook(url, HOOK, "s3cret", backoff=0.01).status_code == 202
    assert received[1][0] - received[0][0] >= 0.95


def test_the_last_answer_is_returned_when_the_window_ends(receiver):
    url, received, answers = receiver
    answers.extend([(503, {})] * 100)
    started = time.monotonic()
    assert send_hook(url, HOOK, "s3cret", retry_for=0.5, backoff=0.05).status_code == 503
    assert 0.5 <= time.monotonic() - started < 2 and 3 <= len(received) < 20


def test_connection_errors_raise_when_the_window_ends():
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        send_hook(f"http://127.0.0.1:{free_port()}/", HOOK, "s", retry_for=0.5, backoff=0.05)
    assert 0.5 <= time.monotonic() - started < 2


def test_a_receiver_down_for_a_while_gets_the_hook_once_it_is_back():
    port = free_port()

    class Back(Handler):
        received, answers = [], []

    def come_back() -> None:
        time.sleep(3)
        server = ThreadingHTTPServer(("127.0.0.1", port), Back)
        servers.append(server)
        server.serve_forever()

    servers: list[ThreadingHTTPServer] = []
    threading.Thread(target=come_back, daemon=True).start()
    try:
        started = time.monotonic()
        assert send_hook(f"http://127.0.0.1:{port}/hooks/generic", HOOK, "s", retry_for=30).status_code == 202
        assert len(Back.received) == 1 and 3 <= time.monotonic() - started < 3 + 5.5  # pauses are capped at 5 s
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
