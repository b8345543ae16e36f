"""The clean page images the orchestrator serves (#20): a job's page as uploaded or rendered
(``GET /jobs/<id>/pages/<n>/image``), the newest jobs (``GET /jobs``) and a PDF's pages before it
runs (``POST /pdf/preview``), each with the status codes of the API's rules (404 unknown job or page,
400 a bad number, 401 without a key, another key's job as unknown, 413/415/422 for a preview's upload
as for ``/ocr/pdf``)."""

from __future__ import annotations

import base64
import io
import time

import pymupdf
import pytest
from PIL import Image

from orchestrator import create_app
from orchestrator.config import OrchestratorConfig
from orchestrator.database import Database
from orchestrator.job_store import JobStore, StoredDocument
from orchestrator.page_images import PREVIEW_DPI, PREVIEW_MAX_PAGES, pdf_page
from shared.uploads import UploadLimits
from tests.support.client import post_file
from tests.support.documents import text_image, text_pdf
from tests.support.processes import UNREACHABLE_URL

IMAGE = text_image(["clean page"], width=300)
OWNER, OTHER = {"X-API-Key": "key-one"}, {"X-API-Key": "key-two"}
PDF = text_pdf([["first"], ["second"], ["third"]])


def client(tmp_path, **settings):
    config = OrchestratorConfig(backends={"rapidocr": [UNREACHABLE_URL]}, data_dir=tmp_path, **settings)
    return create_app(config, monitor=False).test_client()


def error_code(answer) -> str:
    return answer.get_json()["error"]["code"]


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def image_bytes(image: Image.Image, fmt: str, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def pdf_width_pt(data: bytes, index: int = 0) -> float:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return document[index].rect.width


def rendered_width(data: bytes, index: int, dpi: int) -> int:
    """The width PyMuPDF renders a page at (as a backend does): it rounds up."""
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return document[index].get_pixmap(dpi=dpi).width


# -- GET /jobs/<id>/pages/<n>/image ---------------------------------------------------------------------


def test_an_image_jobs_page_is_the_upload_as_it_came(tmp_path):
    http = client(tmp_path)
    job = post_file(http, IMAGE, "/jobs", "clean.png").get_json()
    answer = http.get(f"/jobs/{job['job_id']}/pages/1/image")
    assert answer.status_code == 200
    assert answer.content_type == "image/png"
    assert answer.data == IMAGE
    assert "private" in answer.headers["Cache-Control"]


def test_an_image_that_a_browser_would_turn_or_not_show_comes_as_png_as_the_backends_read_it(tmp_path):
    http = client(tmp_path)
    wide = Image.new("RGB", (120, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: the backends read it upright, 40 x 120
    turned = image_bytes(wide, "JPEG", exif=exif)
    tiff = image_bytes(wide, "TIFF")
    for data, size in ((turned, (40, 120)), (tiff, (120, 40))):
        job = post_file(http, data, "/jobs", "scan").get_json()
        answer = http.get(f"/jobs/{job['job_id']}/pages/1/image")
        assert answer.status_code == 200 and answer.content_type == "image/png"
        assert png_size(answer.data) == size


def test_a_pdf_jobs_page_is_rendered_at_the_dpi_asked_or_the_jobs_own(tmp_path):
    http = client(tmp_path)
    job = post_file(http, PDF, "/jobs", "three.pdf", dpi="100").get_json()
    url = f"/jobs/{job['job_id']}/pages/2/image"
    own = http.get(url)
    assert own.status_code == 200 and own.content_type == "image/png"
    assert png_size(own.data)[0] == rendered_width(PDF, 1, 100)
    asked = http.get(url + "?dpi=72")
    assert png_size(asked.data)[0] == round(pdf_width_pt(PDF, 1))


def test_a_pdf_page_comes_at_the_dpi_its_result_was_read_at(tmp_path):
    """The result's page width in pixels says the dpi: the image has that width."""
    store = JobStore(Database(tmp_path / "state.sqlite3"), 60)
    job_id = store.create("ocr", ["rapidocr"], "a.pdf", {}, document=StoredDocument("pdf", PDF))
    width = rendered_width(PDF, 0, 300)
    store.add_page(job_id, "rapidocr", {"page": 1, "width": width, "height": 10, "markdown": "", "blocks": []})
    assert store.page_width(job_id, 1) == width and store.page_width(job_id, 2) is None
    image = pdf_page(PDF, 0, UploadLimits(), dpi=None, width_px=store.page_width(job_id, 1), default=144)
    assert image.width == width


def test_page_numbers_unknown_pages_and_jobs(tmp_path):
    http = client(tmp_path)
    pdf_job = post_file(http, PDF, "/jobs", "three.pdf", page_range="2-3").get_json()["job_id"]
    image_job = post_file(http, IMAGE, "/jobs", "one.png").get_json()["job_id"]
    for url, status, code in (
        (f"/jobs/{pdf_job}/pages/x/image", 400, "invalid_option"),
        (f"/jobs/{pdf_job}/pages/0/image", 400, "invalid_option"),
        (f"/jobs/{pdf_job}/pages/-1/image", 400, "invalid_option"),
        (f"/jobs/{pdf_job}/pages/2/image?dpi=10", 400, "invalid_option"),
        (f"/jobs/{pdf_job}/pages/2/image?dpi=many", 400, "invalid_option"),
        (f"/jobs/{pdf_job}/pages/1/image", 404, "page_not_found"),  # not in its page_range
        (f"/jobs/{pdf_job}/pages/4/image", 404, "page_not_found"),  # past the document
        (f"/jobs/{image_job}/pages/2/image", 404, "page_not_found"),
        ("/jobs/" + "0" * 32 + "/pages/1/image", 404, "job_not_found"),
    ):
        answer = http.get(url)
        assert (answer.status_code, error_code(answer)) == (status, code), url
    assert "pages (2–3)" in http.get(f"/jobs/{pdf_job}/pages/1/image").get_json()["error"]["message"]
    assert http.get(f"/jobs/{pdf_job}/pages/3/image").status_code == 200


def test_a_jobs_page_image_is_its_keys_only(tmp_path):
    http = client(tmp_path, api_keys=["key-one", "key-two"])
    job = post_file(http, IMAGE, "/jobs", "a.png", headers=OWNER).get_json()
    url = f"/jobs/{job['job_id']}/pages/1/image"
    assert http.get(url, headers=OWNER).status_code == 200
    other = http.get(url, headers=OTHER)
    assert (other.status_code, error_code(other)) == (404, "job_not_found")
    nobody = http.get(url)
    assert (nobody.status_code, error_code(nobody)) == (401, "unauthorized")


def test_without_kept_documents_there_is_no_page_image(tmp_path):
    http = client(tmp_path, job_keep_documents=False)
    job = post_file(http, IMAGE, "/jobs", "a.png").get_json()
    answer = http.get(f"/jobs/{job['job_id']}/pages/1/image")
    assert (answer.status_code, error_code(answer)) == (404, "page_not_found")
    assert "JOB_KEEP_DOCUMENTS" in answer.get_json()["error"]["message"]


def test_a_kept_document_counts_in_the_jobs_bytes_and_goes_with_the_job(tmp_path):
    store = JobStore(Database(tmp_path / "state.sqlite3"), 0.01)
    job_id = store.create("ocr", ["rapidocr"], "a.png", {}, document=StoredDocument("png", IMAGE))
    assert store.total_bytes() == len(IMAGE)
    assert store.document(job_id) == StoredDocument("png", IMAGE)
    store.set_status(job_id, "failed", error={"code": "x", "message": "x", "retryable": False})
    time.sleep(0.05)
    assert store.delete_expired() == 1
    assert store.document(job_id) is None
    with store.database.read() as connection:
        assert connection.execute("SELECT COUNT(*) FROM job_documents").fetchone()[0] == 0


# -- GET /jobs --------------------------------------------------------------------------------------------


def test_the_newest_jobs_newest_first_bounded_and_each_keys_own(tmp_path):
    http = client(tmp_path, api_keys=["key-one", "key-two"])
    mine = [post_file(http, IMAGE, "/jobs", f"{n}.png", headers=OWNER).get_json()["job_id"] for n in range(3)]
    pdf = post_file(http, PDF, "/jobs", "doc.pdf", headers=OWNER).get_json()["job_id"]
    theirs = post_file(http, IMAGE, "/jobs", "theirs.png", headers=OTHER).get_json()["job_id"]
    listed = http.get("/jobs", headers=OWNER).get_json()
    assert listed["limit"] == 20
    assert [job["job_id"] for job in listed["jobs"]] == [pdf, *reversed(mine)]
    first = listed["jobs"][0]
    assert first["image_name"] == "doc.pdf" and first["document_type"] == "pdf" and first["kind"] == "ocr"
    assert first["status_url"] == f"/jobs/{pdf}" and first["backends"] == ["rapidocr"]
    assert listed["jobs"][1]["document_type"] == "image"
    assert [job["job_id"] for job in http.get("/jobs?limit=2", headers=OWNER).get_json()["jobs"]] == [pdf, mine[2]]
    assert [job["job_id"] for job in http.get("/jobs", headers=OTHER).get_json()["jobs"]] == [theirs]
    assert http.get("/jobs").status_code == 401
    for bad in ("0", "101", "many", "-3"):
        answer = http.get(f"/jobs?limit={bad}", headers=OWNER)
        assert (answer.status_code, error_code(answer)) == (400, "invalid_option"), bad


def test_without_keys_the_listing_is_every_job(tmp_path):
    http = client(tmp_path)
    ids = [post_file(http, IMAGE, "/jobs", f"{n}.png").get_json()["job_id"] for n in range(2)]
    assert [job["job_id"] for job in http.get("/jobs").get_json()["jobs"]] == ids[::-1]


# -- POST /pdf/preview ------------------------------------------------------------------------------------


def decoded(page: dict) -> bytes:
    prefix = "data:image/png;base64,"
    assert page["image"].startswith(prefix)
    return base64.b64decode(page["image"][len(prefix) :])


def test_a_preview_is_the_first_pages_as_thumbnails(tmp_path):
    http = client(tmp_path)
    long = text_pdf([[f"page {n}"] for n in range(1, 11)])
    answer = post_file(http, long, "/pdf/preview", "long.pdf")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["page_count"] == 10 and body["dpi"] == PREVIEW_DPI and body["image_name"] == "long.pdf"
    assert [page["page"] for page in body["pages"]] == [1, 2, 3, 4]
    first = body["pages"][0]
    assert png_size(decoded(first)) == (first["width"], first["height"])
    assert first["width"] == rendered_width(long, 0, PREVIEW_DPI)


def test_a_preview_of_chosen_pages_at_a_chosen_dpi(tmp_path):
    http = client(tmp_path)
    body = post_file(http, PDF, "/pdf/preview", "three.pdf", page_range="3,1", dpi="72").get_json()
    assert [page["page"] for page in body["pages"]] == [1, 3]
    assert body["pages"][0]["width"] == round(pdf_width_pt(PDF))


@pytest.mark.parametrize(
    ("data", "fields", "status", "code"),
    [
        (IMAGE, {}, 415, "unsupported_media_type"),
        (b"just some text", {}, 415, "unsupported_media_type"),
        (b"%PDF-1.7 broken", {}, 422, "corrupt_file"),
        (b"", {}, 400, "empty_upload"),
        (PDF, {"page_range": "1-9"}, 400, "invalid_option"),
        (PDF, {"page_range": "5"}, 400, "invalid_option"),
        (PDF, {"dpi": "9"}, 400, "invalid_option"),
        (PDF, {"dpi": "many"}, 400, "invalid_option"),
        (PDF, {"dpi": "600", "page_range": "1-3"}, 413, "too_many_pixels"),
    ],
)
def test_a_preview_refuses_what_ocr_pdf_refuses(tmp_path, data, fields, status, code):
    http = client(tmp_path, limits=UploadLimits(max_pixels=20_000_000))
    answer = post_file(http, data, "/pdf/preview", "doc.pdf", **fields)
    assert (answer.status_code, error_code(answer)) == (status, code)


def test_a_preview_keeps_the_upload_limits_and_the_access_rules(tmp_path):
    small = client(tmp_path / "small", limits=UploadLimits(max_bytes=len(PDF) - 1, max_pdf_pages=2))
    answer = post_file(small, PDF, "/pdf/preview", "doc.pdf")
    assert (answer.status_code, error_code(answer)) == (413, "payload_too_large")
    pages = client(tmp_path / "pages", limits=UploadLimits(max_pdf_pages=2))
    answer = post_file(pages, PDF, "/pdf/preview", "doc.pdf")
    assert (answer.status_code, error_code(answer)) == (413, "too_many_pages")
    keyed = client(tmp_path / "keyed", api_keys=["key-one"])
    assert post_file(keyed, PDF, "/pdf/preview", "doc.pdf").status_code == 401
    assert post_file(keyed, PDF, "/pdf/preview", "doc.pdf", headers=OWNER).status_code == 200
    open_ = client(tmp_path / "open")
    answer = post_file(open_, PDF, "/pdf/preview", "doc.pdf", headers={"Origin": "https://elsewhere.example"})
    assert (answer.status_code, error_code(answer)) == (403, "cross_site_refused")
    assert PREVIEW_MAX_PAGES == 8
