"""The orchestrator publishes its upload limits in ``/health`` so a client can check a file before it
sends it (the web client does): the same numbers it enforces, in the contract's shape."""

from __future__ import annotations

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from shared.uploads import ACCEPTED_FORMATS, UploadLimits, detect_format
from tests.support.documents import text_image, text_pdf
from tests.support.processes import UNREACHABLE_URL
from tests.support.schema import validate


def test_health_publishes_the_limits_it_enforces(tmp_path):
    limits = UploadLimits(max_bytes=12_345, max_pixels=6_789, max_pdf_pages=7)
    config = OrchestratorConfig(backends={"rapidocr": [UNREACHABLE_URL]}, data_dir=tmp_path, limits=limits)
    health = create_app(config, monitor=False).test_client().get("/health").get_json()
    validate(health, "orchestrator_health")
    assert health["limits"] == {
        "max_bytes": 12_345,
        "max_pixels": 6_789,
        "max_pdf_pages": 7,
        "formats": ["png", "jpeg", "webp", "tiff", "bmp", "pdf"],
    }


def test_the_published_formats_are_those_detected():
    assert detect_format(text_image(["x"])).name in ACCEPTED_FORMATS
    assert detect_format(text_image(["x"], fmt="JPEG")).name in ACCEPTED_FORMATS
    assert detect_format(text_pdf([["x"]])).name in ACCEPTED_FORMATS
