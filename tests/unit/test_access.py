"""Access to the orchestrator (API keys, CORS, per-client rate limit) and to the backends (shared
token), through Flask's test client."""

import pytest

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.rate_limit import RateLimiter
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.config import ConfigError
from shared.credentials import matches_any
from tests.support.client import post_file
from tests.support.documents import text_image
from tests.support.multipart import multipart
from tests.support.processes import UNREACHABLE_URL
from tests.unit.test_backend_server import StandInBackend

KEYS = ["key-one", "key-two-longer"]


def orchestrator(tmp_path, **settings):
    config = OrchestratorConfig(backends={"rapidocr": [UNREACHABLE_URL]}, data_dir=tmp_path, **settings)
    return create_app(config, monitor=False).test_client()


def test_secret_matching():
    assert matches_any("key-one", KEYS) and matches_any("key-two-longer", KEYS)
    assert not matches_any("key-on", KEYS) and not matches_any("", KEYS) and not matches_any(None, KEYS)
    assert not matches_any(None, [""]) and not matches_any("x", [])


@pytest.mark.parametrize("path", ["/backends", "/health", "/metrics", "/jobs/nope"])
def test_without_a_key_or_with_a_wrong_one_401_alike(tmp_path, path):
    client = orchestrator(tmp_path, api_keys=KEYS)
    missing = client.get(path)
    wrong = client.get(path, headers={"X-API-Key": "key-three"})
    near = client.get(path, headers={"Authorization": "Bearer key-one-"})
    for response in (missing, wrong, near):
        assert response.status_code == 401 and response.is_json
        assert response.get_json()["error"]["code"] == "unauthorized"
    # Nothing tells a missing key from a wrong one.
    assert (
        missing.get_json()["error"]["message"]
        == wrong.get_json()["error"]["message"]
        == near.get_json()["error"]["message"]
    )


def test_with_the_right_key_200_by_header_or_bearer(tmp_path):
    client = orchestrator(tmp_path, api_keys=KEYS)
    assert client.get("/backends", headers={"X-API-Key": "key-one"}).status_code == 200
    assert client.get("/backends", headers={"Authorization": "Bearer key-two-longer"}).status_code == 200
    assert client.get("/metrics", headers={"X-API-Key": "key-two-longer"}).status_code == 200


def test_work_endpoints_want_the_key_before_reading_the_upload(tmp_path):
    client = orchestrator(tmp_path, api_keys=KEYS)
    for path in ("/ocr", "/ocr/compare", "/jobs", "/jobs/compare"):
        assert post_file(client, text_image(["x"]), path, "a.png").status_code == 401


def test_probes_web_page_and_preflight_stay_open(tmp_path):
    client = orchestrator(tmp_path, api_keys=KEYS)
    assert client.get("/live").status_code == 200
    assert client.get("/ready").status_code == 503  # open, but no backend is healthy
    assert client.get("/").status_code == 200
    preflight = client.options(
        "/ocr",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_metrics_public_when_configured(tmp_path):
    client = orchestrator(tmp_path, api_keys=KEYS, metrics_public=True)
    assert client.get("/metrics").status_code == 200
    assert client.get("/backends").status_code == 401


def test_no_keys_means_open(tmp_path):
    assert orchestrator(tmp_path).get("/backends").status_code == 200


def test_cors_never_star_with_credentials(tmp_path):
    with pytest.raises(ConfigError, match="CORS"):
        OrchestratorConfig.from_env({"CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"})
    star = orchestrator(tmp_path, cors_origins=["*"])
    answer = star.get("/live", headers={"Origin": "http://anywhere.example"})
    assert answer.headers["Access-Control-Allow-Origin"] in ("*", "http://anywhere.example")
    assert "Access-Control-Allow-Credentials" not in answer.headers  # any origin, so never credentials
    named = orchestrator(tmp_path, cors_origins=["http://app.example"], cors_credentials=True)
    answer = named.get("/live", headers={"Origin": "http://app.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in named.get("/live", headers={"Origin": "http://evil.example"}).headers


def test_rate_limiter_bucket():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    assert limiter.acquire("a") == pytest.approx(1.0)
    assert limiter.acquire("b") == 0  # another client has its own bucket
    now[0] = 1.0
    assert limiter.acquire("a") == 0 and limiter.acquire("a") > 0


def test_rate_limit_gives_429_with_retry_after_per_client(tmp_path):
    client = orchestrator(tmp_path, rate_limit_per_minute=6, rate_limit_burst=2, api_keys=KEYS)
    alice, bob = {"X-API-Key": "key-one"}, {"X-API-Key": "key-two-longer"}

    def post(headers):
        body, content_type = multipart({"file": ("a.txt", b"not an image")}, {})
        return client.post("/ocr", data=body, content_type=content_type, headers=headers)

    assert [post(alice).status_code for _ in range(2)] == [415, 415]  # within the burst: the request is read
    limited = post(alice)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert post(bob).status_code == 415
    assert client.get("/backends", headers=alice).status_code == 200  # reads are not limited


def backend_client(token=""):
    app = create_backend_app(StandInBackend(), BackendServerConfig(background_load=False, token=token))
    return app.test_client()


def test_backend_token_enforced_when_configured():
    client = backend_client("s3cret-token")
    image = text_image(["x"])
    for headers in ({}, {"X-Backend-Token": "wrong"}, {"Authorization": "Bearer s3cret-toke"}):
        for path in ("/health", "/ready", "/metrics"):
            response = client.get(path, headers=headers)
            assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert post_file(client, image, "/ocr", "a.png").status_code == 401
    assert client.get("/live").status_code == 200  # liveness stays open for the process supervisor
    assert client.get("/health", headers={"X-Backend-Token": "s3cret-token"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    body, content_type = multipart({"file": ("a.png", image)}, {})
    ok = client.post("/ocr", data=body, content_type=content_type, headers={"X-Backend-Token": "s3cret-token"})
    assert ok.status_code == 200


def test_backend_without_token_is_open():
    assert backend_client().get("/health").status_code == 200


def test_without_keys_a_made_up_key_does_not_give_a_fresh_rate_limit(tmp_path):
    """The limit keys on a verified key or the address: rotating values of X-API-Key change nothing."""
    client = orchestrator(tmp_path, rate_limit_per_minute=6, rate_limit_burst=2)
    statuses = [
        post_file(client, text_image(["x"]), "/ocr", "a.png", headers={"X-API-Key": f"k{n}"}).status_code
        for n in range(6)
    ]
    assert statuses.count(429) >= 4, statuses


def test_behind_the_front_the_rate_limit_is_the_fronts_and_the_address_is_the_forwarded_one(tmp_path):
    client = orchestrator(tmp_path, rate_limit_per_minute=6, rate_limit_burst=1, behind_front=True)
    statuses = [post_file(client, text_image(["x"]), "/ocr", "a.png").status_code for _ in range(4)]
    assert 429 not in statuses, "nginx counts for every process; the orchestrator does not count twice"


@pytest.mark.parametrize(
    ("origin", "refused"),
    [
        ("http://evil.example", True),
        ("null", True),
        ("http://localhost:3000", False),
        ("http://localhost", False),
        (None, False),
    ],
)
def test_cross_site_posts_are_refused_when_no_key_is_set(tmp_path, origin, refused):
    client = orchestrator(tmp_path)
    headers = {"Origin": origin} if origin else {}
    answer = post_file(client, text_image(["x"]), "/ocr", "a.png", headers=headers)
    assert (answer.status_code == 403) is refused, answer.get_json()
    if refused:
        assert answer.get_json()["error"]["code"] == "cross_site_refused"
    gets = client.get("/backends", headers=headers)
    assert gets.status_code == 200, "reads are not state-changing"


def test_with_keys_the_key_is_what_protects_and_origin_is_not_checked(tmp_path):
    client = orchestrator(tmp_path, api_keys=KEYS)
    answer = post_file(
        client, text_image(["x"]), "/ocr", "a.png", headers={"Origin": "http://evil.example", "X-API-Key": "key-one"}
    )
    assert answer.status_code != 403


def test_backends_hide_internal_addresses_except_from_an_operator_key(tmp_path):
    client = orchestrator(tmp_path, api_keys=[*KEYS, "op"], operator_keys=["op"])
    public = client.get("/backends", headers={"X-API-Key": "key-one"}).get_json()["backends"][0]
    assert public["url"] == "<internal>" and UNREACHABLE_URL not in str(public)
    operator = client.get("/backends", headers={"X-API-Key": "op"}).get_json()["backends"][0]
    assert operator["url"] == UNREACHABLE_URL
    health = client.get("/health", headers={"X-API-Key": "key-one"}).get_json()
    assert UNREACHABLE_URL not in str(health)
