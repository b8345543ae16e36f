"""Misbehaving HTTP peers for fault tests: one that never answers in time, one that answers HTML,
one that breaks off its answer half-way and one that stalls in the middle of its answer; one that
answers a small OCR result after ``delay`` seconds (``delayed``) and one that answers every document
with two pages (``two_pages``, whatever it was sent), each counting the requests it got (``server.hits``)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.api_contract import PageResult, build_result


class _Handler(BaseHTTPRequestHandler):
    behaviour = "slow"
    delay = 30.0
    #: What /health says as its fingerprint ("<behaviour>-1" unless set; None: none at all).
    behaviour_fingerprint: str | None = ""
    #: The options /health publishes (None: no ``options`` at all, like a backend from before #21).
    published: list | None = None

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        health = {
            "status": "healthy",
            "model_loaded": True,
            "model": f"stand-in {self.behaviour}",
            "fingerprint": self.behaviour_fingerprint or f"{self.behaviour}-1",
        }
        if self.behaviour_fingerprint is None:
            del health["fingerprint"]
        if self.published is not None:
            health["options"] = self.published
        body = json.dumps(health).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))  # type: ignore[attr-defined]
        self.server.hits += 1  # type: ignore[attr-defined]
        if self.behaviour in ("delayed", "two_pages"):
            time.sleep(self.delay)
            count = 2 if self.behaviour == "two_pages" else 1
            body = json.dumps(
                build_result(
                    backend=self.behaviour,
                    model=f"stand-in {self.behaviour}",
                    request_id=self.headers.get("X-Request-ID", "-"),
                    image_name="upload",
                    document_type="image",
                    pages=[PageResult(1, 1, "ok").to_json(number) for number in range(1, count + 1)],
                    raw_result={},
                    processing_time=self.delay,
                    timings={},
                    options={},
                )
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.behaviour == "slow":
            time.sleep(self.delay)
        if self.behaviour in ("truncated", "stalled"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'{"success": true, "markdown": "')
            self.wfile.flush()
            if self.behaviour == "stalled":
                time.sleep(self.delay)
            self.close_connection = True
            return
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(behaviour: str, delay: float = 30.0, published: list | None = None) -> ThreadingHTTPServer:
    """Start a stand-in on a free loopback port in a daemon thread; ``server.server_port`` tells where,
    ``server.bodies`` holds the bodies of the POSTs it got."""
    handler = type(
        f"{behaviour.title()}Handler", (_Handler,), {"behaviour": behaviour, "delay": delay, "published": published}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.hits = 0  # type: ignore[attr-defined]
    server.bodies = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_wsgi(app):  # type: ignore[no-untyped-def]
    """Serve a WSGI app (e.g. a backend server with a stand-in model) on a free loopback port in a
    daemon thread; ``server.port`` tells where, ``server.shutdown()`` stops it."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
