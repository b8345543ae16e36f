"""The Python client (ocr_client) and the ``ocr-service`` command against the real processes
(orchestrator, rapidocr, tesseract, and a mineru nobody runs): an image, a PDF job with its progress
to 100 % and a cancel, a comparison with a reference, a backend that is down, a bad file, a timeout
and a missing key, each with the exit status and message a script relies on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from ocr_client import AccessDenied, BackendDown, BadInput, OCRClient, ServiceTimeout
from tests.support.documents import cer, text_image, text_pdf
from tests.support.processes import REPO_ROOT, start_orchestrator, wait_healthy
from tests.support.schema import validate

pytestmark = pytest.mark.integration

LINES = ["Invoice number 4711", "Total amount 93 euros"]
PAGES = [[f"Report page {n}", f"Section {n} results"] for n in range(1, 4)]
FAST = {"dpi": 100, "boxes_image": False}


@pytest.fixture(scope="module")
def client(api_system):
    return OCRClient(api_system.with_down.url, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("documents")
    (folder / "page.png").write_bytes(text_image(LINES))
    (folder / "report.pdf").write_bytes(text_pdf(PAGES))
    (folder / "truth.txt").write_text("\n".join(LINES) + "\n")
    (folder / "notes.txt").write_text("not an image\n")
    return folder


def cli(url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``ocr-service ARGS`` as a script runs it: the service's URL from the environment."""
    env = {**os.environ, "OCR_SERVICE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "ocr_client", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_client_reads_an_image(client, files):
    result = client.ocr(files / "page.png", "rapidocr", boxes_image=False)
    validate(result, "ocr_result")
    assert result["backend"] == "rapidocr"
    assert cer("\n".join(LINES), result["markdown"]) < 0.2


def test_cli_reads_an_image_as_markdown_and_json(api_system, files):
    markdown = cli(api_system.with_down.url, "ocr", str(files / "page.png"), "--backend", "rapidocr")
    assert markdown.returncode == 0, markdown.stderr
    assert "4711" in markdown.stdout and markdown.stderr == ""
    as_json = cli(api_system.with_down.url, "ocr", str(files / "page.png"), "--backend", "tesseract", "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    validate(body, "ocr_result")
    assert body["backend"] == "tesseract"


def test_pdf_job_reports_progress_to_the_end(client, files):
    job = client.submit_job(files / "report.pdf", "rapidocr", cache=False, **FAST)
    events = list(job.events())
    for event in events:
        validate(event.data, f"job_event_{event.type}")
    progress = [event.data for event in events if event.type == "progress"]
    assert progress[-1] == {"backend": "rapidocr", "pages_done": len(PAGES), "pages_total": len(PAGES)}
    assert [event.data["page"]["page"] for event in events if event.type == "page"] == [1, 2, 3]
    assert events[-1].type == "end" and events[-1].data == {"status": "succeeded"}
    final = job.wait(timeout=60)
    validate(final, "job_status")
    assert final["progress"]["pages_done"] == final["progress"]["pages_total"] == len(PAGES)
    assert "Report page 3" in final["result"]["markdown"]


def test_a_jobs_clean_page_fits_its_boxes_and_the_newest_jobs_list_it(client, files):
    """The page image a job's boxes are drawn over, at the result's size; the job in the newest ones;
    the PDF's pages before running, as thumbnails and at the result's dpi."""
    job = client.submit_job(files / "report.pdf", "rapidocr", page_range="2-3", **FAST)
    final = job.wait(timeout=120)
    page = final["pages"]["rapidocr"][0]
    image = Image.open(io.BytesIO(client.page_image(job.id, 2)))
    assert (image.width, image.height) == (page["width"], page["height"])  # the boxes fit as they are
    assert client.page_image(job.id, 2, dpi=50)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(BadInput) as missing:
        client.page_image(job.id, 1)  # not in its page_range
    assert missing.value.code == "page_not_found" and missing.value.status == 404
    listed = client.jobs(limit=5)
    validate(listed, "job_list")
    assert listed["jobs"][0]["job_id"] == job.id and listed["jobs"][0]["document_type"] == "pdf"
    preview = client.preview_pdf(files / "report.pdf")
    validate(preview, "pdf_preview")
    assert preview["page_count"] == len(PAGES) and [p["page"] for p in preview["pages"]] == [1, 2, 3]
    at_dpi = client.preview_pdf(files / "report.pdf", page_range="2", dpi=FAST["dpi"])["pages"][0]
    assert (at_dpi["width"], at_dpi["height"]) == (page["width"], page["height"])


def test_cli_job_shows_progress_and_prints_the_markdown(api_system, files):
    options = ("-O", "cache=false", "-O", "dpi=100", "-O", "boxes_image=false")
    done = cli(api_system.with_down.url, "job", str(files / "report.pdf"), "--backend", "rapidocr", *options)
    assert done.returncode == 0, done.stderr
    assert "rapidocr" in done.stderr and "3/3" in done.stderr and "100%" in done.stderr
    for lines in PAGES:
        assert lines[0] in done.stdout
    assert "\n---\n" in done.stdout  # the pages' separator: the whole document's markdown


def test_a_job_can_be_cancelled(client):
    pdf = text_pdf([[f"Cancel me {n}"] for n in range(1, 13)])
    job = client.submit_job(pdf, "rapidocr", cache=False, dpi=300)
    cancelled = job.cancel()
    validate(cancelled, "job_status")
    assert cancelled["status"] == "cancelled"
    final = job.wait(timeout=60)
    assert final["status"] == "cancelled" and final["progress"]["pages_done"] < 12
    assert list(job.events())[-1].data == {"status": "cancelled"}


def test_comparison_with_a_reference(client, api_system, files):
    result = client.compare(files / "page.png", ["rapidocr", "tesseract"], reference="\n".join(LINES), **FAST)
    validate(result, "comparison_result")
    assert set(result["reference_scores"]) == {"rapidocr", "tesseract"}
    assert all(score["cer"] < 0.3 for score in result["reference_scores"].values())
    shown = cli(
        api_system.with_down.url,
        "compare",
        str(files / "page.png"),
        "--backends",
        "rapidocr,tesseract",
        "--reference",
        str(files / "truth.txt"),
    )
    assert shown.returncode == 0, shown.stderr
    assert "CER" in shown.stdout and "tesseract" in shown.stdout and "agreement rapidocr vs tesseract" in shown.stdout


def test_a_backend_that_is_down(client, api_system, files):
    with pytest.raises(BackendDown) as raised:
        client.ocr(files / "page.png", "mineru")
    assert raised.value.code == "backend_unavailable" and raised.value.status == 503
    shown = cli(api_system.with_down.url, "ocr", str(files / "page.png"), "--backend", "mineru")
    assert shown.returncode == BackendDown.exit_code
    assert shown.stdout == ""
    assert "backend_unavailable" in shown.stderr and "mineru" in shown.stderr
    assert "Traceback" not in shown.stderr
    unreachable = cli("http://127.0.0.1:9", "backends")
    assert unreachable.returncode == BackendDown.exit_code and "cannot reach" in unreachable.stderr


def test_a_bad_file(client, api_system, files):
    with pytest.raises(BadInput) as raised:
        client.ocr(files / "notes.txt", "rapidocr")
    assert raised.value.code == "unsupported_media_type" and raised.value.status == 415
    for args, expected in (
        (("ocr", str(files / "notes.txt"), "--backend", "rapidocr"), "unsupported_media_type"),
        (("ocr", str(files / "missing.png")), "cannot read"),
        (("ocr", str(files / "page.png"), "--backend", "nonesuch"), "unknown_backend"),
        (("ocr", str(files / "page.png"), "-O", "dpi=many"), "invalid_option"),
    ):
        shown = cli(api_system.with_down.url, *args)
        assert shown.returncode == BadInput.exit_code, (args, shown.stderr)
        assert expected in shown.stderr and shown.stdout == "" and "Traceback" not in shown.stderr


def test_cli_lists_the_backends(api_system):
    shown = cli(api_system.with_down.url, "backends")
    assert shown.returncode == 0, shown.stderr
    assert "rapidocr (default)" in shown.stdout and "unreachable" in shown.stdout
    listing = json.loads(cli(api_system.with_down.url, "backends", "--json").stdout)
    validate(listing, "backends_list")


def test_api_key_from_the_environment_or_the_flag(api_system, tmp_path):
    key = "client-test-key-0123456789"
    keyed = start_orchestrator({"rapidocr": api_system.rapidocr.url}, tmp_path, env={"ORCHESTRATOR_API_KEYS": key})
    try:
        wait_healthy(keyed, need_model=False)
        refused = cli(keyed.url, "backends")
        assert refused.returncode == AccessDenied.exit_code and "unauthorized" in refused.stderr
        assert cli(keyed.url, "--api-key", key, "backends").returncode == 0
        env = {**os.environ, "OCR_SERVICE_URL": keyed.url, "OCR_SERVICE_API_KEY": key}
        by_env = subprocess.run(
            [sys.executable, "-m", "ocr_client", "backends", "--json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert by_env.returncode == 0 and json.loads(by_env.stdout)["default"] == "rapidocr"
        assert OCRClient(keyed.url, api_key=key).backends()["default"] == "rapidocr"
    finally:
        keyed.stop()


def test_a_timeout(faulty_system, files):
    """The backend's timeout (504 from the orchestrator) and this client's own are both exit 5."""
    backend_timeout = cli(faulty_system.url, "ocr", str(files / "page.png"), "--backend", "slow", timeout=60)
    assert backend_timeout.returncode == ServiceTimeout.exit_code, backend_timeout.stderr
    assert "backend_timeout" in backend_timeout.stderr and "Traceback" not in backend_timeout.stderr
    own = cli(faulty_system.url, "--timeout", "0.5", "ocr", str(files / "page.png"), "--backend", "stalled", timeout=60)
    assert own.returncode == ServiceTimeout.exit_code, own.stderr
    assert "client_timeout" in own.stderr and "0.5 s" in own.stderr
