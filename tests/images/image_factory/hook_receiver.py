"""A local HTTP server standing in for the orchestrator's /hooks/generic; it checks each signature."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from totem.signatures import verify


class HookReceiver:
    def __init__(self, secret: str):
        self.secret = secret
        self.hooks: list[dict] = []
        self.rejected = 0
        self.unavailable = 0  # answer this many upcoming hooks with 503 (to exercise retries)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.unavailable > 0:
                    receiver.unavailable -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                signature = self.headers.get("X-Hook-Signature")
                good = self.path == "/hooks/generic" and verify(receiver.secret, body, signature)
                if good:
                    receiver.hooks.append(json.loads(body))
                else:
                    receiver.rejected += 1
                self.send_response(202 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)

    def for_commit(self, commit: str) -> list[dict]:
        return [h for h in list(self.hooks) if h["git"]["commit"] == commit]
