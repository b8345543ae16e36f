"""The backend registry: replicas, least-work routing, marking down and up, DNS discovery, and the
cache key that never waits on a backend."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from orchestrator.backend_client import BackendTimeout, BackendUnavailable
from orchestrator.document import Document
from orchestrator.ocr_request import parse_request
from orchestrator.pipeline import Pipeline
from orchestrator.registry import BackendRegistry, expand_source
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.uploads import UploadLimits
from tests.support.documents import text_image
from tests.support.processes import UNREACHABLE_URL
from tests.support.schema import validate
from tests.unit.test_backend_server import StandInBackend


class HealthServer:
    """A loopback peer whose ``/health`` answer the test sets (``in_flight``, ``queued``, model...)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **health) -> None:
        self.health = {"status": "healthy", "model_loaded": True, "model": "m1", "in_flight": 0, "queued": 0, **health}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(owner.health).encode()
                self.send_response(200 if owner.health["model_loaded"] else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    made: list[HealthServer] = []

    def make(**health) -> HealthServer:
        made.append(HealthServer(**health))
        return made[-1]

    yield make
    for server in made:
        server.close()


def registry_of(backends, **kwargs) -> BackendRegistry:
    return BackendRegistry(backends, health_timeout=kwargs.pop("health_timeout", 5), health_interval=60, **kwargs)


def picks(registry: BackendRegistry, name: str, count: int) -> list[str]:
    """Which replica each of ``count`` requests (one after the other) went to."""
    return [registry.call(name, lambda url: url) for _ in range(count)]


def test_least_reported_work_wins_and_equal_replicas_take_turns(servers):
    busy, idle = servers(in_flight=1, queued=3), servers(in_flight=1, queued=0)
    registry = registry_of({"rapidocr": [busy.url, idle.url]})
    registry.check("rapidocr")
    assert picks(registry, "rapidocr", 3) == [idle.url] * 3
    busy.health["queued"] = 0
    registry.check("rapidocr")
    assert sorted(picks(registry, "rapidocr", 4)) == sorted([busy.url, idle.url] * 2)  # in turn


def test_own_requests_in_flight_count_as_work(servers):
    a, b = servers(), servers()
    registry = registry_of({"rapidocr": [a.url, b.url]})
    registry.check("rapidocr")
    seen: list[str] = []
    release = threading.Event()

    def hold(url: str) -> str:
        seen.append(url)
        release.wait(10)
        return url

    threads = [threading.Thread(target=registry.call, args=("rapidocr", hold)) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    loads = {r.url: r.in_flight for r in registry.status("rapidocr").replicas}
    release.set()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted([a.url, b.url]), "two requests at once went to two replicas"
    assert loads == {a.url: 1, b.url: 1}
    assert all(r.in_flight == 0 for r in registry.status("rapidocr").replicas)


def test_replica_down_after_repeated_failures_and_up_again(servers):
    a, b = servers(), servers()
    registry = registry_of({"rapidocr": [a.url, b.url]}, max_failures=2)
    registry.check("rapidocr")
    a_url = a.url
    a.close()
    registry.check("rapidocr")
    first = {r.url: r for r in registry.status("rapidocr").replicas}
    assert first[a_url].status == "healthy" and first[a_url].failures == 1, "one failure does not take it out"
    assert picks(registry, "rapidocr", 3) == [b.url] * 3, "the replica that just failed goes last"
    registry.check("rapidocr")
    status = registry.status("rapidocr")
    replicas = {r.url: r for r in status.replicas}
    assert replicas[a_url].status == "unreachable" and replicas[a_url].failures == 2
    assert status.status == "healthy" and status.model == "m1", "healthy while any replica is"

    back = HealthServer()  # the replica comes back (on another port: rebuild the registry's view of it)
    try:
        registry = registry_of({"rapidocr": [back.url, b.url]}, max_failures=2)
        back.health["model_loaded"] = False
        back.health["status"] = "loading"
        registry.check("rapidocr")
        assert {r.url: r.status for r in registry.status("rapidocr").replicas}[back.url] == "loading"
        assert picks(registry, "rapidocr", 2) == [b.url] * 2
        back.health.update(model_loaded=True, status="healthy")
        registry.check("rapidocr")
        assert sorted(picks(registry, "rapidocr", 2)) == sorted([back.url, b.url])
    finally:
        back.close()


def test_unreachable_replica_is_retried_on_another_of_the_same_backend(servers):
    a, b, other = servers(), servers(), servers()
    registry = registry_of({"rapidocr": [a.url, b.url], "tesseract": [other.url]}, max_failures=1)
    registry.check_all()
    dead = a.url

    def send(url: str) -> str:
        if url == dead:
            raise BackendUnavailable(f"backend 'rapidocr' is not reachable at {url} (is it running?)")
        return url

    assert [registry.call("rapidocr", send) for _ in range(4)] == [b.url] * 4
    replicas = {r.url: r for r in registry.status("rapidocr").replicas}
    assert replicas[dead].status == "unreachable" and replicas[b.url].failures == 0


def test_all_replicas_down_is_503_naming_the_backend(servers):
    a, b = servers(), servers()
    registry = registry_of({"rapidocr": [a.url, b.url], "tesseract": [servers().url]})
    registry.check_all()
    sent: list[str] = []

    def refuse(url: str) -> str:
        sent.append(url)
        raise BackendUnavailable(f"backend 'rapidocr' is not reachable at {url} (is it running?)")

    with pytest.raises(BackendUnavailable) as caught:
        registry.call("rapidocr", refuse)
    assert "backend 'rapidocr'" in caught.value.message and caught.value.status == 503
    assert sorted(sent) == sorted([a.url, b.url]), "each replica of rapidocr tried once, nothing else"
    a.close()
    b.close()
    registry.check("rapidocr")
    registry.check("rapidocr")
    assert registry.status("rapidocr").status == "unreachable"


def test_a_timeout_is_not_retried_elsewhere(servers):
    a, b = servers(), servers()
    registry = registry_of({"rapidocr": [a.url, b.url]})
    registry.check("rapidocr")
    sent: list[str] = []

    def slow(url: str) -> str:
        sent.append(url)
        raise BackendTimeout("backend 'rapidocr' did not answer within 1 s")

    with pytest.raises(BackendTimeout):
        registry.call("rapidocr", slow)
    assert len(sent) == 1, "the replica may still be working on it: no second copy"


def test_backend_never_polled_is_still_tried_once():
    registry = registry_of({"mineru": [UNREACHABLE_URL]})
    assert registry.call("mineru", lambda url: url) == UNREACHABLE_URL


def test_replicas_on_different_models_are_not_cached_together(servers):
    a, b = servers(model="v1"), servers(model="v2")
    registry = registry_of({"rapidocr": [a.url, b.url]})
    registry.check("rapidocr")
    assert registry.status("rapidocr").status == "healthy" and registry.status("rapidocr").model is None
    b.health["model"] = "v1"
    registry.check("rapidocr")
    assert registry.status("rapidocr").model == "v1"


def test_dns_url_expands_to_one_replica_per_address():
    assert expand_source("dns+http://ocr-headless:5002", lambda host, port: ["10.0.0.7", "10.0.0.8"]) == [
        "http://10.0.0.7:5002",
        "http://10.0.0.8:5002",
    ]
    assert expand_source("dns+https://h/", lambda host, port: ["fd00::1"]) == ["https://[fd00::1]:443/"]
    assert expand_source("http://plain:5002", lambda host, port: []) == ["http://plain:5002"]


def test_headless_service_scale_adds_and_removes_replicas(servers):
    """``kubectl scale``: the headless Service's name resolves to one address per ready pod."""
    a = servers()
    port = int(a.url.rsplit(":", 1)[1])
    b = servers(host="127.0.0.2", port=port)  # a second pod: same port, another address
    addresses = {"value": ["127.0.0.1"]}
    answers: list[str] = []

    def resolve(host: str, resolve_port: int) -> list[str]:
        answers.append(host)
        if addresses["value"] is None:
            raise socket.gaierror("Name or service not known")
        return addresses["value"]

    registry = registry_of({"rapidocr": [f"dns+http://rapidocr-replicas:{port}"]}, resolve=resolve)
    assert registry.status("rapidocr").status == "unknown"
    registry.check("rapidocr")
    assert answers == ["rapidocr-replicas"]
    status = registry.status("rapidocr")
    assert status.status == "healthy" and [r.url for r in status.replicas] == [a.url]
    assert status.url == f"dns+http://rapidocr-replicas:{port}"

    addresses["value"] = ["127.0.0.1", "127.0.0.2"]  # scaled to two
    registry.check("rapidocr")
    urls = sorted(r.url for r in registry.status("rapidocr").replicas)
    assert urls == [a.url, b.url] and registry.status("rapidocr").replicas[1].status == "healthy"
    assert sorted(picks(registry, "rapidocr", 2)) == urls

    addresses["value"] = None  # a DNS hiccup keeps what was known
    registry.check("rapidocr")
    status = registry.status("rapidocr")
    assert len(status.replicas) == 2 and status.status == "healthy"

    addresses["value"] = ["127.0.0.2"]  # scaled down: the gone pod's replica leaves
    registry.check("rapidocr")
    assert [r.url for r in registry.status("rapidocr").replicas] == [b.url]


def test_headless_service_that_never_resolved_is_unreachable_with_the_reason():
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror("Name or service not known")

    registry = registry_of({"mineru": ["dns+http://mineru-replicas:5001"]}, resolve=resolve)
    registry.check("mineru")
    status = registry.status("mineru")
    assert status.status == "unreachable" and "mineru-replicas" in (status.reason or "")
    with pytest.raises(BackendUnavailable) as caught:
        registry.call("mineru", lambda url: url)
    assert "backend 'mineru'" in caught.value.message


def test_cache_key_never_waits_on_a_hung_backend():
    """The fingerprint comes from the background poll only: a backend whose /health hangs costs nothing."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts connections in the kernel, never answers
    try:
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        registry = registry_of({"rapidocr": [url]}, health_timeout=20)
        services = SimpleNamespace(cache=SimpleNamespace(enabled=True), registry=registry)
        pipeline = Pipeline(services)  # type: ignore[arg-type]
        document = Document.from_upload(text_image(["key"]), "p.png", UploadLimits())
        started = time.monotonic()
        key = pipeline._cache_key(
            parse_request({}, document=document, backends=("rapidocr",), request_id="rid"), "rapidocr"
        )
        assert key is None and time.monotonic() - started < 5
    finally:
        hung.close()


# -- the fingerprint the result cache keys on ------------------------------------------------------


def test_fingerprint_is_recorded_from_each_health_answer(servers):
    a = servers(fingerprint="f1")
    registry = registry_of({"rapidocr": [a.url]})
    assert registry.status("rapidocr").fingerprint is None, "never asked: nothing known"
    registry.check("rapidocr")
    status = registry.status("rapidocr")
    assert status.fingerprint == "f1" and status.replicas[0].fingerprint == "f1"
    body = status.to_json()
    validate(body, "backend_status")
    assert body["fingerprint"] == "f1" and body["replicas"][0]["fingerprint"] == "f1"
    a.health["fingerprint"] = "f2"  # a new setting, same model: the fingerprint follows
    registry.check("rapidocr")
    assert registry.status("rapidocr").fingerprint == "f2"


def test_mixed_fingerprints_give_none_and_only_healthy_replicas_count(servers):
    a, b = servers(fingerprint="f1"), servers(fingerprint="f2")
    registry = registry_of({"rapidocr": [a.url, b.url]})
    registry.check("rapidocr")
    status = registry.status("rapidocr")
    assert status.status == "healthy" and status.model == "m1" and status.fingerprint is None
    assert {r.url: r.fingerprint for r in status.replicas} == {a.url: "f1", b.url: "f2"}
    validate(status.to_json(), "backend_status")
    b.health.update(model_loaded=False, status="loading")  # loading an upgrade: not serving, not counted
    registry.check("rapidocr")
    assert registry.status("rapidocr").fingerprint == "f1"
    b.health.update(model_loaded=True, status="healthy", fingerprint="f1")
    registry.check("rapidocr")
    assert registry.status("rapidocr").fingerprint == "f1"
    a.health["fingerprint"] = None  # an answer without one (an older backend) is not a fingerprint
    registry.check("rapidocr")
    assert registry.status("rapidocr").fingerprint is None


class SettingsBackend(StandInBackend):
    """A stand-in whose output settings the test sets (they are part of the fingerprint)."""

    settings: dict = {}

    def output_settings(self):
        return self.settings


def test_backend_health_carries_its_fingerprint_and_the_registry_records_it(servers):
    backend = SettingsBackend()
    client = create_backend_app(backend, BackendServerConfig(background_load=False)).test_client()
    body = client.get("/health").get_json()
    validate(body, "backend_health")
    assert body["fingerprint"] == backend.fingerprint() and body["fingerprint"]
    backend.settings = {"use_angle_cls": False}  # a setting that changes output changes the fingerprint
    changed = client.get("/health").get_json()
    assert changed["fingerprint"] == backend.fingerprint() != body["fingerprint"]

    peer = servers(**changed)  # the same answer, over HTTP, to the registry
    registry = registry_of({"stand-in": [peer.url]})
    registry.check("stand-in")
    assert registry.status("stand-in").fingerprint == changed["fingerprint"]
    validate(registry.status("stand-in").to_json(), "backend_status")


def test_down_backend_is_refused_at_once_without_a_send_until_its_health_answers(servers):
    """The circuit breaker: once the health monitor found every replica unreachable (a hung or dead
    backend), a request is 503 naming the backend at once; nothing waits on the replica. The next
    health answer (the half-open probe) closes the breaker."""
    a = servers()
    registry = registry_of({"rapidocr": [a.url]}, health_timeout=0.5)
    registry.check("rapidocr")
    a.server.shutdown()  # stops answering; the socket stays open: like a SIGSTOPped process
    registry.check("rapidocr")
    registry.check("rapidocr")
    assert registry.status("rapidocr").status == "unreachable"
    sent: list[str] = []
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        registry.call("rapidocr", lambda url: sent.append(url) or url)
    assert time.monotonic() - started < 0.1
    assert sent == [], "no request goes to a replica whose breaker is open"
    assert "backend 'rapidocr' is not reachable" in caught.value.message and caught.value.retry_after == 60
    threading.Thread(target=a.server.serve_forever, daemon=True).start()
    registry.check("rapidocr")
    assert registry.call("rapidocr", lambda url: url) == a.url


def test_replica_that_answers_health_but_is_not_ready_still_gets_the_request_once(servers):
    loading = servers(model_loaded=False, status="loading")
    registry = registry_of({"mineru": [loading.url]})
    registry.check("mineru")
    assert registry.status("mineru").status == "loading"
    assert registry.call("mineru", lambda url: url) == loading.url, "it answers its own 503 at once"
