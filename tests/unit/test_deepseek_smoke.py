"""The smoke gate applies to DeepSeek-OCR: with the catalogue's limits for it, the gate passes a
backend whose model reads the known page and fails one that answers unrelated text (what vLLM
issue #39919 reports for DeepSeek-OCR on vLLM 0.19), so deploy.sh rolls such a release back.
The real backend server and parser, a scripted model in the engine seam, on a loopback port."""

from __future__ import annotations

import hashlib
import threading

import pytest
from werkzeug.serving import make_server

from backends.deepseek_ocr.backend import DeepSeekOCRBackend
from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Generation, GenerationRequest
from deployment import smoke_gate
from deployment.plan import make_plan
from shared.backend_server import BackendServerConfig, create_backend_app
from shared.pdf import open_pdf, render_page
from shared.uploads import UploadLimits, decode_image, detect_format
from tests.support.deepseek import ScriptedEngine


def _digest(image) -> str:
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def _grounded(lines: list[str]) -> str:
    """The lines as DeepSeek-OCR writes a document: one tagged text block each."""
    return "\n\n".join(
        f"<|ref|>text<|/ref|><|det|>[[50, {100 + 80 * n}, 950, {160 + 80 * n}]]<|/det|>\n{line}"
        for n, line in enumerate(lines)
    )


def _known_pages() -> dict[str, list[str]]:
    """The gate's documents as the backend will see them (decoded image, PDF pages at 144 dpi)."""
    limits = UploadLimits()
    png = smoke_gate.render_image(smoke_gate.IMAGE_LINES)
    image, _ = decode_image(png, detect_format(png), limits)
    pages = {_digest(image): smoke_gate.IMAGE_LINES}
    with open_pdf(smoke_gate.render_pdf(smoke_gate.PDF_PAGES), limits) as document:
        for index, lines in enumerate(smoke_gate.PDF_PAGES):
            pages[_digest(render_page(document, index, 144, limits))] = lines
    return pages


@pytest.fixture
def serve():
    servers = []

    def start(engine) -> str:
        backend = DeepSeekOCRBackend(DeepSeekConfig(), engine=engine)
        app = create_backend_app(backend, BackendServerConfig(background_load=False))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def test_the_gate_uses_deepseeks_catalogue_limits():
    limits = smoke_gate.limits_for(make_plan({}, read_service_env=False), "deepseek-ocr")
    assert limits == smoke_gate.Limits(max_cer=0.15, pdf=True)


def test_a_model_that_reads_the_page_passes_and_one_that_answers_gibberish_fails(serve):
    known = _known_pages()

    def reads(request: GenerationRequest) -> Generation:
        return Generation(_grounded(known[_digest(request.image)]), "stop", 40)

    def gibberish(request: GenerationRequest) -> Generation:
        return Generation(_grounded(["In the beginning God created the heaven and the earth."]), "stop", 40)

    limits = smoke_gate.limits_for(make_plan({}, read_service_env=False), "deepseek-ocr")
    good = smoke_gate.check_backend(serve(ScriptedEngine(reads)), "deepseek-ocr", limits, timeout=30)
    assert good["passed"] is True, good
    assert [check["input"] for check in good["checks"]] == ["image", "pdf page 1", "pdf page 2"]
    bad = smoke_gate.check_backend(serve(ScriptedEngine(gibberish)), "deepseek-ocr", limits, timeout=30)
    assert bad["passed"] is False and all(check["cer"] > 0.15 for check in bad["checks"]), bad
