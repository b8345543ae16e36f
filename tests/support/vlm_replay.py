"""A loopback OpenAI-compatible model server for tests: ``/health``, ``/v1/models`` and
``/v1/chat/completions`` as ``vllm serve`` answers them, replaying recorded model answers
(``tests/fixtures/vlm/<preset>/…``) instead of running a model.

It records each chat request's body (for the tests and the conformance check), can answer badly on
purpose (an HTTP error, something that is not JSON, no choices, a cut-short answer, a slow answer),
and can be stopped and started again on the same port, as a model server that dies and comes back.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vlm"


def recorded_answer(preset: str, file: str) -> str:
    """A recorded answer of ``tests/fixtures/vlm/<preset>/<file>``."""
    return (FIXTURES / preset / file).read_text(encoding="utf-8")


@dataclass
class Behaviour:
    """What the server answers; change the fields while it runs."""

    served: list[str] = field(default_factory=lambda: ["test-model"])
    answer: str = ""
    finish_reason: str = "stop"
    health_status: int = 200
    #: ``None``: a chat completion; else the chat route answers this status with an error body.
    chat_status: int | None = None
    #: Sent as the chat answer's body instead of a completion (not JSON, no choices...).
    chat_body: bytes | None = None
    delay: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode())

    def do_GET(self) -> None:
        behaviour = self.server.replay.behaviour
        if self.path == "/health":
            self._send(behaviour.health_status, b"")
        elif self.path == "/v1/models":
            models = [{"id": name, "object": "model", "root": f"/models/{name}"} for name in behaviour.served]
            self._json(200, {"object": "list", "data": models})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        replay = self.server.replay
        behaviour = replay.behaviour
        if self.path != "/v1/chat/completions":
            self._json(404, {"error": {"message": "not found"}})
            return
        replay.requests.append(body)
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if behaviour.chat_status is not None:
            self._json(behaviour.chat_status, {"error": {"message": "replay: error on purpose", "type": "test"}})
        elif behaviour.chat_body is not None:
            self._send(200, behaviour.chat_body)
        else:
            self._json(
                200,
                {
                    "id": "chatcmpl-replay",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": behaviour.answer},
                            "finish_reason": behaviour.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": 1,
                        "completion_tokens": len(behaviour.answer.split()),
                        "total_tokens": 2,
                    },
                },
            )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    replay: ReplayServer


class ReplayServer:
    """``start()`` / ``stop()`` as often as wanted; the port stays the same."""

    def __init__(self, behaviour: Behaviour | None = None, port: int = 0) -> None:
        self.behaviour = behaviour or Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.port = port
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReplayServer:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.replay = self
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, name="vlm-replay", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
