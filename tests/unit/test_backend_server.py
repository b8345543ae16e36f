"""The backend server factory, driven through Flask's test client with a stand-in backend.

The stand-in is a test tool that plays the part of a model; the real model is exercised in the
integration tests.
"""

import io
import threading
import time

import pytest

from shared.api_contract import Block, PageResult
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.ocr_backend import OCRBackend
from shared.options import FormField
from shared.uploads import UploadLimits
from tests.support.client import post_file
from tests.support.documents import text_image, text_pdf
from tests.support.schema import validate


class StandInBackend(OCRBackend):
    name = "stand-in"
    raw_key = "stand_in"
    fields = (
        FormField("prompt", "string", "An instruction."),
        FormField("level", "integer", "How hard to look.", 2, minimum=1, maximum=5),
        FormField("style", "string", "How to write it.", "plain", choices=("plain", "rich")),
    )

    def option_fields(self):
        return self.fields

    def __init__(
        self, fail_load: str | None = None, delay: float = 0.0, max_concurrency: int = 1, load_delay: float = 0.0
    ):
        super().__init__()
        self.load_delay = load_delay
        self.fail_load = fail_load
        self.delay = delay
        self.max_concurrency = max_concurrency
        self.seen_sizes: list[tuple[int, int]] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return "stand-in 1.0"

    def load(self) -> None:
        time.sleep(self.load_delay)
        if self.fail_load:
            raise RuntimeError(self.fail_load)

    def ocr_image(self, image, options):
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            if options.prompt == "explode":
                raise ValueError("engine blew up")
            self.seen_sizes.append(image.size)
            return PageResult(
                width=image.width,
                height=image.height,
                markdown=f"page {image.width}x{image.height}",
                blocks=[Block("text", (0, 0, 10, 10), "x", 0.5)],
                raw={"size": list(image.size)},
            )
        finally:
            with self._lock:
                self.active -= 1


SMALL_LIMITS = UploadLimits(max_bytes=2_000_000, max_pixels=10_000_000, max_pdf_pages=5)


def make_client(backend=None, limits=SMALL_LIMITS):
    backend = backend or StandInBackend()
    app = create_backend_app(backend, BackendServerConfig(limits=limits, background_load=False))
    return app.test_client(), backend


post = post_file


def test_health_shape():
    client, _ = make_client()
    body = client.get("/health").get_json()
    validate(body, "backend_health")
    assert body["status"] == "healthy" and body["model_loaded"] is True
    assert body["backend"] == "stand-in" and body["model"] == "stand-in 1.0"
    assert body["in_flight"] == 0 and body["queued"] == 0


def test_image_result():
    client, backend = make_client()
    response = post(client, text_image(["hello"]), name="../secret/scan.png", prompt="hi")
    body = response.get_json()
    assert response.status_code == 200, body
    validate(body)
    assert body["backend"] == "stand-in" and body["image_name"] == "scan.png"
    assert body["document_type"] == "image" and len(body["pages"]) == 1
    assert body["raw_result"] == {"stand_in": {"pages": [{"size": list(backend.seen_sizes[0])}]}}
    assert body["boxes_image"].startswith("data:image/jpeg;base64,")
    assert set(body["timings"]) >= {"decode", "inference", "boxes_image", "total"}
    assert body["options"]["prompt"] == "hi"


def test_request_id_echoed():
    client, _ = make_client()
    response = client.post(
        "/ocr", data={"file": (io.BytesIO(text_image(["x"])), "a.png")}, headers={"X-Request-ID": "abc-123"}
    )
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.get_json()["request_id"] == "abc-123"
    bad = client.get("/health", headers={"X-Request-ID": "has spaces <script>"})
    assert bad.headers["X-Request-ID"] != "has spaces <script>" and len(bad.headers["X-Request-ID"]) == 32


def test_health_publishes_the_options():
    body = make_client()[0].get("/health").get_json()
    validate(body, "backend_health")
    prompt, level, style = body["options"]
    assert prompt == {"name": "prompt", "type": "string", "description": "An instruction."}
    assert level == {"name": "level", "type": "integer", "description": "How hard to look.", "default": 2} | {
        "minimum": 1,
        "maximum": 5,
    }
    assert style == {"name": "style", "type": "string", "description": "How to write it."} | {
        "enum": ["plain", "rich"],
        "default": "plain",
    }


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"mode": "free"}, "option 'mode' is not accepted by backend 'stand-in'; its options: prompt, level, style"),
        ({"tier": "basic"}, "option 'tier' is not accepted by backend 'stand-in'"),
        ({"level": "high"}, "option 'level' of backend 'stand-in' must be an integer, got 'high'"),
        ({"level": "9"}, "option 'level' of backend 'stand-in' must be between 1 and 5, got 9"),
        ({"style": "loud"}, "option 'style' of backend 'stand-in' must be one of plain, rich, got 'loud'"),
    ],
)
def test_options_outside_the_published_ones_are_400(fields, message):
    """Refused, not ignored with a warning (#21): a client learns at once that the option did nothing,
    and a direct caller gets what the orchestrator would answer."""
    client, backend = make_client()
    response = post(client, text_image(["x"]), **fields)
    body = response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "invalid_option", body
    assert message in body["error"]["message"] and backend.seen_sizes == []


def test_published_options_pass_and_page_range_on_an_image_is_a_warning():
    client, _ = make_client()
    body = post(client, text_image(["x"]), level=" 3 ", style="Rich", page_range="1").get_json()
    assert body["success"] is True and body["options"]["level"] == " 3 "
    assert body["warnings"] == ["option 'page_range' applies to PDFs and was ignored"]


def test_pdf_pages_and_page_range():
    client, backend = make_client()
    pdf = text_pdf([["one"], ["two"], ["three"]])
    body = post(client, pdf, page_range="1,3", dpi="72").get_json()
    validate(body)
    assert body["document_type"] == "pdf" and len(body["pages"]) == 2
    assert backend.seen_sizes == [(595, 842), (595, 842)]
    assert all(p["boxes_image"].startswith("data:image/") for p in body["pages"])
    assert "render" in body["timings"]


def test_boxes_image_can_be_turned_off():
    client, _ = make_client()
    body = post(client, text_image(["x"]), boxes_image="false").get_json()
    assert body["boxes_image"] is None and body["pages"][0]["boxes_image"] is None


@pytest.mark.parametrize(
    "path,data,status,code",
    [
        ("/ocr/image", text_pdf([["x"]]), 415, "unsupported_media_type"),
        ("/ocr/pdf", text_image(["x"]), 415, "unsupported_media_type"),
        ("/ocr", b"plain text, renamed", 415, "unsupported_media_type"),
        ("/ocr", b"", 400, "empty_upload"),
        ("/ocr", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 422, "corrupt_file"),
        ("/ocr", text_pdf([["p"]] * 6), 413, "too_many_pages"),
    ],
)
def test_bad_uploads(path, data, status, code):
    client, _ = make_client()
    response = post(client, data, path=path, name="x.png")
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code and body["backend"] == "stand-in"
    validate(body, "error")
    assert post(client, text_image(["still serving"])).status_code == 200


@pytest.mark.parametrize(
    "fields,code",
    [
        ({"dpi": "abc"}, "invalid_option"),
        ({"dpi": "5000"}, "invalid_option"),
        ({"boxes_image": "maybe"}, "invalid_option"),
        ({"page_range": "9"}, "invalid_option"),
    ],
)
def test_bad_options_are_400(fields, code):
    client, _ = make_client()
    response = post(client, text_pdf([["x"]]), **fields)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_missing_file_and_body_over_limit():
    client, _ = make_client()
    response = client.post("/ocr", data={"backend": "x"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "missing_file"
    response = post(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 3_000_000)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_unknown_route_and_method_are_json():
    client, _ = make_client()
    assert client.get("/nope").get_json()["error"]["code"] == "not_found"
    response = client.get("/ocr")
    assert response.status_code == 405 and response.get_json()["success"] is False


def test_engine_error_is_json_500_naming_backend():
    client, _ = make_client()
    response = post(client, text_image(["x"]), prompt="explode")
    body = response.get_json()
    assert response.status_code == 500 and body["backend"] == "stand-in"
    assert body["error"]["code"] == "internal_error"
    validate(body)
    assert post(client, text_image(["x"])).status_code == 200


def test_model_not_loaded_gives_503_with_reason():
    client, _ = make_client(StandInBackend(fail_load="weights not found in /models/x"))
    health = client.get("/health").get_json()
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    assert "weights not found" in health["reason"]
    response = post(client, text_image(["x"]))
    body = response.get_json()
    assert response.status_code == 503 and body["error"]["code"] == "model_not_loaded"
    assert "weights not found in /models/x" in body["error"]["message"] and body["error"]["retryable"] is True


def test_work_gate_bounds_concurrency_and_reports_queue():
    backend = StandInBackend(delay=0.3, max_concurrency=2)
    app = create_backend_app(backend, BackendServerConfig(background_load=False))
    image = text_image(["x"])
    results = []

    def call():
        with app.test_client() as client:
            results.append(post(client, image).status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.15)
    health = app.test_client().get("/health").get_json()
    for thread in threads:
        thread.join()
    assert results == [200] * 5
    assert backend.peak == 2
    assert health["in_flight"] == 2 and health["queued"] == 3


def test_model_loads_in_background_while_health_answers():
    backend = StandInBackend(load_delay=0.5)
    client = create_backend_app(backend, BackendServerConfig(background_load=True)).test_client()
    health = client.get("/health").get_json()
    validate(health, "backend_health")
    assert health["status"] == "loading" and health["model_loaded"] is False
    response = post(client, text_image(["x"]))
    assert response.status_code == 503 and "still loading" in response.get_json()["error"]["message"]
    deadline = time.monotonic() + 5
    while not client.get("/health").get_json()["model_loaded"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/health").get_json()["status"] == "healthy"
    assert post(client, text_image(["x"])).status_code == 200
