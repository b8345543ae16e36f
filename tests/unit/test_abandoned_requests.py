"""A backend drops a request whose caller left or whose caller's timeout passed while it waited for
its work slot: a backend back from a hang does not work off a backlog no one reads."""

from __future__ import annotations

import socket
import threading

import pytest

from shared.caller import caller_gone, peer_closed
from shared.errors import RequestAbandoned
from shared.http_common import REQUEST_TIMEOUT_HEADER
from shared.work_gate import WorkGate


def test_gate_gives_the_slot_back_unused_when_the_caller_is_gone():
    gate = WorkGate(1, name="rapidocr")
    ran: list[str] = []
    with (
        pytest.raises(RequestAbandoned, match="rapidocr dropped the request before starting it: gone"),
        gate.slot(lambda: "gone"),
    ):
        ran.append("work")
    assert ran == [] and gate.counts() == (0, 0)
    with gate.slot(lambda: None):  # the slot was released: the next one gets it at once
        ran.append("work")
    assert ran == ["work"]


def test_the_check_is_made_when_the_slot_is_ours_not_before():
    gate = WorkGate(1, name="b")
    state = {"gone": False}
    release = threading.Event()
    outcome: list[str] = []

    def holder() -> None:
        with gate.slot():
            release.wait(5)

    def waiter() -> None:
        try:
            with gate.slot(lambda: "left" if state["gone"] else None):
                outcome.append("worked")
        except RequestAbandoned:
            outcome.append("dropped")

    first = threading.Thread(target=holder)
    first.start()
    second = threading.Thread(target=waiter)
    second.start()
    state["gone"] = True  # the caller leaves while the request waits
    release.set()
    first.join(5)
    second.join(5)
    assert outcome == ["dropped"]


def test_caller_timeout_passed_while_waiting():
    now = [100.0]
    check = caller_gone({}, {REQUEST_TIMEOUT_HEADER: "30"}, clock=lambda: now[0])
    assert check() is None
    now[0] += 31
    assert "waits 30 s" in (check() or "")


def test_no_timeout_header_means_no_deadline():
    now = [0.0]
    check = caller_gone({}, {}, clock=lambda: now[0])
    now[0] += 1e6
    assert check() is None


def test_closed_connection_is_seen_and_an_open_one_or_pipelined_data_is_not():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    try:
        assert not peer_closed(served)
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")  # a pipelined next request: still there
        assert not peer_closed(served)
        served.recv(100)
        check = caller_gone({"gunicorn.socket": served}, {})
        assert check() is None
        client.close()
        assert peer_closed(served)
        assert "closed the connection" in (check() or "")
    finally:
        served.close()
        listener.close()
