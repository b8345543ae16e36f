"""Every upload limit on every path that takes a document (sync, compare, jobs and compare jobs),
file names never used as paths, and no field that makes the service fetch a URL."""

import io
import random

import pytest
from PIL import Image

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from shared.uploads import UploadLimits, clean_filename
from tests.support import standin_http
from tests.support.client import post_file
from tests.support.documents import bomb_png, text_image, text_pdf
from tests.support.multipart import multipart

PATHS = ["/ocr", "/ocr/compare", "/jobs", "/jobs/compare"]
LIMITS = UploadLimits(max_bytes=200_000, max_pixels=4_000_000, max_pdf_pages=3)


def noise_png(size=(400, 400)) -> bytes:
    buffer = io.BytesIO()
    pixels = random.Random(8).randbytes(size[0] * size[1] * 3)  # noise does not compress
    Image.frombytes("RGB", size, pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    backend = standin_http.serve("delayed", delay=0)
    config = OrchestratorConfig(
        backends={"rapidocr": [f"http://127.0.0.1:{backend.server_port}"]},
        data_dir=tmp_path_factory.mktemp("data"),
        limits=LIMITS,
    )
    app = create_app(config, monitor=False)
    yield app, backend
    backend.shutdown()


CASES = {
    "payload_too_large": (lambda: noise_png(), "big.png", {}, 413),
    "too_many_pixels": (lambda: bomb_png(3000, 3000), "bomb.png", {}, 413),
    "too_many_pages": (lambda: text_pdf([["a"], ["b"], ["c"], ["d"]]), "long.pdf", {}, 413),
    "unsupported_media_type": (lambda: b"just some text", "a.png", {}, 415),
    "empty_upload": (lambda: b"", "a.png", {}, 400),
    "invalid_option": (lambda: text_image(["x"], width=200), "a.png", {"dpi": "lots"}, 400),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("code", list(CASES))
def test_every_limit_on_every_path(setup, path, code):
    app, backend = setup
    make, name, fields, status = CASES[code]
    data = make()
    if code == "payload_too_large":
        assert len(data) > LIMITS.max_bytes
    client = app.test_client()
    hits = backend.hits
    response = post_file(client, data, path, name, backend="rapidocr", backends="rapidocr", **fields)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert backend.hits == hits  # refused before any backend's time was spent
    assert app.extensions["ocr_orchestrator"].jobs.counts_by_status() == {}  # and no job was made


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\windows\\win.ini", "/abs/x.png", "a/../../b.png"])
def test_file_names_are_labels_never_paths(setup, tmp_path, name):
    cleaned = clean_filename(name)
    assert cleaned and "/" not in cleaned and "\\" not in cleaned and cleaned not in ("..", ".")
    app, _ = setup
    client = app.test_client()
    answer = post_file(client, text_image(["x"], width=200), "/jobs", name, cache="false")
    assert answer.status_code == 202
    job = client.get(answer.get_json()["status_url"]).get_json()
    label = job["image_name"]
    assert "/" not in label and "\\" not in label
    if "\\" not in name:  # (multipart quoting drops backslashes before we see the name)
        assert label == cleaned


@pytest.mark.parametrize("field", ["url", "image_url", "URL"])
def test_no_endpoint_fetches_a_client_url(setup, field):
    app, _ = setup
    target = standin_http.serve("delayed", delay=0)
    try:
        address = f"http://127.0.0.1:{target.server_port}/doc.png"
        client = app.test_client()
        for path in PATHS:
            body, content_type = multipart({}, {field: address})
            alone = client.post(path, data=body, content_type=content_type)
            with_file = post_file(client, text_image(["x"], width=200), path, "a.png", **{field: address})
            for response in (alone, with_file):
                assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_option"
                assert "not fetched" in response.get_json()["error"]["message"]
        assert target.hits == 0
    finally:
        target.shutdown()
