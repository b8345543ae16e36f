"""The orchestrator's backend client on a connection the backend drops: a kept-alive connection
closed just as it is reused is tried once more on a new one; a refusal is still a 503 at once."""

import socket
import threading

import pytest

from orchestrator.backend_client import BackendClient, BackendUnavailable
from shared.options import OCROptions
from tests.support.processes import UNREACHABLE_URL


def closing_keepalive_server():
    """Answers the first request on each connection (keep-alive), then closes the connection without
    answering when a second request arrives on it: the race a keep-alive timeout causes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stats = {"connections": 0}

    def handle(connection):
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            connection.recv(65536)  # the second request: dropped unanswered

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            stats["connections"] += 1
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener, stats


def post(client, url):
    return client.post_document("b", url, "/ocr", "a.png", b"x", "image/png", OCROptions(), "rid")


def test_a_dropped_keepalive_connection_is_tried_once_more():
    listener, stats = closing_keepalive_server()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        client = BackendClient(connect_timeout=2, read_timeout=5)
        for _ in range(3):
            assert post(client, url).status == 200
        assert stats["connections"] == 3  # each reuse was dropped and replaced by a new connection
    finally:
        listener.close()


def test_a_refused_connection_is_503_without_retrying_forever():
    with pytest.raises(BackendUnavailable, match="not reachable"):
        post(BackendClient(connect_timeout=2, read_timeout=5), UNREACHABLE_URL)
