"""One health state type (shared/health.py): the schema spells its values, the backend decides its own
state with it, and the orchestrator's registry and deployment/health_probe.py read a /health answer
with the same function, so they cannot disagree."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deployment import health_probe
from shared.api_contract import load_schema
from shared.health import (
    DEFAULT_LOADING,
    HTTP_ERROR,
    INFERRED,
    NOT_A_HEALTH_ANSWER,
    NOT_AN_OBJECT,
    RANKING,
    SELF_REPORTED,
    HealthReading,
    HealthState,
    backend_state,
    most_hopeful,
    read_health,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
H = HealthState


# -- the type --------------------------------------------------------------------------------------


def test_states_split_into_self_reported_and_inferred_and_rank_most_hopeful_first():
    assert [s.value for s in HealthState] == ["healthy", "loading", "unavailable", "unreachable", "unknown"]
    assert set(SELF_REPORTED) | set(INFERRED) == set(HealthState) and not set(SELF_REPORTED) & set(INFERRED)
    assert all(s.self_reported for s in SELF_REPORTED) and not any(s.self_reported for s in INFERRED)
    assert RANKING == (H.HEALTHY, H.LOADING, H.UNAVAILABLE, H.UNREACHABLE, H.UNKNOWN)
    assert [s.rank for s in RANKING] == list(range(len(RANKING)))
    assert most_hopeful([H.UNKNOWN, H.UNAVAILABLE, H.UNREACHABLE]) is H.UNAVAILABLE
    assert most_hopeful([H.UNREACHABLE, H.LOADING]) is H.LOADING
    assert most_hopeful([]) is H.UNKNOWN


def test_a_state_is_its_string_in_json_and_text():
    assert H.HEALTHY == "healthy" and H("loading") is H.LOADING
    assert json.dumps({"status": H.UNREACHABLE}) == '{"status": "unreachable"}'
    assert f"{H.LOADING}" == "loading" and str(H.UNAVAILABLE) == "unavailable"


def test_the_schema_spells_the_same_states():
    defs = load_schema()["$defs"]
    everything = [s.value for s in HealthState]
    assert defs["backend_health"]["properties"]["status"]["enum"] == [s.value for s in SELF_REPORTED]
    assert defs["backend_status"]["properties"]["status"]["enum"] == everything
    assert defs["replica_status"]["properties"]["status"]["enum"] == everything
    for key in ("deepseek_status", "mineru_status"):
        assert defs["orchestrator_health"]["properties"][key]["enum"] == everything + ["not_configured"]


# -- the backend's own state -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loaded", "loading", "state"),
    [
        (True, False, H.HEALTHY),
        (True, True, H.HEALTHY),  # start() sets loaded before it clears loading
        (False, True, H.LOADING),
        (False, False, H.UNAVAILABLE),  # the load failed (or has not started)
    ],
)
def test_backend_state(loaded, loading, state):
    assert backend_state(loaded, loading) is state


# -- reading an answer -----------------------------------------------------------------------------

HEALTHY_BODY = {"status": "healthy", "model_loaded": True, "model": "m1", "reason": None}
#: (body, HTTP status OK?, the state and reason it reads as). The same table drives the probe and
#: the registry below.
ANSWERS: list[tuple[Any, bool, HealthReading]] = [
    (HEALTHY_BODY, True, HealthReading(H.HEALTHY, None)),
    (HEALTHY_BODY, False, HealthReading(H.LOADING, HTTP_ERROR)),  # loaded, yet an error status: not healthy
    (
        {"status": "loading", "model_loaded": False, "reason": "loading the model"},
        True,
        HealthReading(H.LOADING, "loading the model"),
    ),
    ({"status": "loading", "model_loaded": False}, False, HealthReading(H.LOADING, DEFAULT_LOADING)),
    (
        {"status": "unavailable", "model_loaded": False, "reason": "weights not found"},
        True,
        HealthReading(H.UNAVAILABLE, "weights not found"),
    ),
    (
        {"status": "unavailable", "model_loaded": False, "reason": "weights not found"},
        False,
        HealthReading(H.UNAVAILABLE, "weights not found"),
    ),
    # unavailable without a reason: a load that has not started yet; waiting helps
    ({"status": "unavailable", "model_loaded": False, "reason": None}, True, HealthReading(H.LOADING, DEFAULT_LOADING)),
    ({"status": "healthy", "model_loaded": "true"}, True, HealthReading(H.LOADING, DEFAULT_LOADING)),  # not the boolean
    ({"status": "healthy", "model_loaded": False, "reason": "odd"}, True, HealthReading(H.LOADING, "odd")),
    ({"model_loaded": False}, True, HealthReading(H.LOADING, DEFAULT_LOADING)),
    ([HEALTHY_BODY], True, HealthReading(H.UNREACHABLE, NOT_AN_OBJECT)),
    ("healthy", True, HealthReading(H.UNREACHABLE, NOT_AN_OBJECT)),
    (None, True, HealthReading(H.UNREACHABLE, NOT_AN_OBJECT)),
    ({}, True, HealthReading(H.UNREACHABLE, NOT_A_HEALTH_ANSWER)),
    (
        {"success": False, "error": {"code": "unauthorized", "message": "wants its token"}},
        False,
        HealthReading(H.UNREACHABLE, f"{NOT_A_HEALTH_ANSWER}: wants its token"),
    ),
]


@pytest.mark.parametrize(("body", "http_ok", "reading"), ANSWERS)
def test_read_health(body, http_ok, reading):
    assert read_health(body, http_ok) == reading


def test_every_backend_answer_reads_as_what_it_says_of_itself():
    from shared.backend_server import BackendServerConfig, create_backend_app
    from tests.unit.test_backend_server import StandInBackend

    for backend, expected in [(StandInBackend(), H.HEALTHY), (StandInBackend(fail_load="no weights"), H.UNAVAILABLE)]:
        body = (
            create_backend_app(backend, BackendServerConfig(background_load=False))
            .test_client()
            .get("/health")
            .get_json()
        )
        assert body["status"] == expected and read_health(body, True).state is expected
    loading = StandInBackend()
    loading.loading = True
    body = (
        create_backend_app(loading, BackendServerConfig(background_load=False), load=False)
        .test_client()
        .get("/health")
        .get_json()
    )
    assert body["status"] == "loading" and read_health(body, True) == HealthReading(H.LOADING, "loading the model")


# -- the probe and the registry agree --------------------------------------------------------------


class AnswerServer:
    """A loopback peer whose /health answers ``body`` (JSON) with 200 or 503."""

    def __init__(self) -> None:
        self.body: Any = None
        self.ok = True
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                data = json.dumps(owner.body).encode()
                self.send_response(200 if owner.ok else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer():
    server = AnswerServer()
    yield server
    server.close()


@pytest.mark.parametrize(("body", "http_ok", "reading"), ANSWERS)
def test_probe_and_registry_agree(peer, body, http_ok, reading, monkeypatch):
    from orchestrator.registry import BackendRegistry

    for name in ("BACKEND_TOKEN", "ORCHESTRATOR_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    peer.body, peer.ok = body, http_ok
    code, detail = health_probe.probe(health_probe.opener(), peer.url + "/health", "model")
    assert code == health_probe.EXIT_CODES[reading.state]
    assert detail == ("m1" if reading.state is H.HEALTHY else reading.reason)

    registry = BackendRegistry({"b": [peer.url]}, health_timeout=5, health_interval=60)
    registry.check("b")
    (replica,) = registry.status("b").replicas
    assert replica.status is reading.state
    if reading.state is H.UNREACHABLE:
        assert replica.reason == f"{peer.url}/health: {reading.reason}"
    else:
        assert replica.reason == reading.reason


def test_probe_runs_as_a_plain_script_without_any_environment(peer, tmp_path):
    """``python3 deployment/health_probe.py``: no site-packages (-S), no PYTHONPATH (-I), another cwd."""
    script = str(REPO_ROOT / "deployment" / "health_probe.py")
    cases = [
        (HEALTHY_BODY, True, 0, "m1"),
        ({"status": "unavailable", "model_loaded": False, "reason": "weights not found"}, True, 3, "weights not found"),
        ({"status": "loading", "model_loaded": False, "reason": "loading the model"}, True, 4, "loading the model"),
    ]
    for body, ok, code, line in cases:
        peer.body, peer.ok = body, ok
        done = subprocess.run(
            [sys.executable, "-I", "-S", script, peer.url + "/health", "model"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (done.returncode, done.stdout.strip()) == (code, line), done.stderr


def test_health_module_is_standard_library_only():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); before = set(sys.modules); import shared.health; "
        "extra = sorted(m for m in set(sys.modules) - before if m.split('.')[0] not in sys.stdlib_module_names "
        "and m.split('.')[0] != 'shared'); print(extra); sys.exit(1 if extra else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(REPO_ROOT)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
