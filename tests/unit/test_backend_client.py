"""The orchestrator's backend client on a connection the backend drops: a kept-alive connection
closed just as it is reused is tried once more on a new one; a refusal is still a 503 at once."""

import socket
import threading

import pytest

from orchestrator.backend_client import BackendClient, BackendTimeout, BackendUnavailable
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


def busy_server(read_after: float | None):
    """Accepts at once but reads nothing for ``read_after`` seconds (``None``: never), like a backend
    whose threads are all busy; then reads the whole request and answers. Records the headers."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small buffers: the send blocks soon
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen: dict[str, bytes] = {}

    def handle(connection):
        with connection:
            if read_after is None:
                threading.Event().wait(30)
                return
            threading.Event().wait(read_after)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            seen["head"] = head
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            while len(body) < length:
                body += connection.recv(1 << 20)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    def serve():
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}", seen


def post_large(client, url, size=8 * 2**20):
    return client.post_document("b", url, "/ocr", "big.pdf", b"x" * size, "application/pdf", OCROptions(), "rid")


def test_a_large_upload_to_a_busy_backend_waits_under_the_write_timeout_not_the_connect_timeout():
    listener, url, seen = busy_server(read_after=1.0)
    try:
        client = BackendClient(connect_timeout=0.2, read_timeout=10, write_timeout=10)
        assert post_large(client, url).status == 200
        assert b"x-request-timeout: 10" in seen["head"].lower(), "the backend is told how long we wait"
    finally:
        listener.close()


def test_an_upload_a_backend_never_takes_is_a_504_timeout_not_unreachable():
    listener, url, _ = busy_server(read_after=None)
    try:
        client = BackendClient(connect_timeout=0.2, read_timeout=10, write_timeout=1.0)
        with pytest.raises(BackendTimeout, match="did not take the upload within 1 s") as caught:
            post_large(client, url)
        assert caught.value.status == 504
    finally:
        listener.close()
