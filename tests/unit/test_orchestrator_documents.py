"""The orchestrator's document logic on its own: slices, the text layer, text metrics, the result
cache and the job store."""

import json
import os
import time

import pymupdf
import pytest

from orchestrator.config import OrchestratorConfig, parse_per_backend
from orchestrator.database import Database
from orchestrator.document import Document
from orchestrator.job_store import JobStore
from orchestrator.ocr_request import parse_request
from orchestrator.pdf_pages import plan_slices, read_text_layer, slice_pdf
from orchestrator.result_cache import ResultCache, cache_key
from orchestrator.text_metrics import agreement, character_error_rate, pairwise_agreement, word_error_rate
from shared.config import ConfigError
from shared.uploads import UploadLimits
from tests.support.documents import text_pdf


def test_slices_keep_the_selected_order():
    assert plan_slices([0, 1, 2, 6], 1) == [[0], [1], [2], [6]]
    assert plan_slices([0, 1, 2, 6], 3) == [[0, 1, 2], [6]]
    assert plan_slices([], 8) == []


def test_slice_pdf_holds_only_its_pages():
    pdf = text_pdf([["one"], ["two"], ["three"]])
    document = pymupdf.open(stream=slice_pdf(pdf, [2, 0]), filetype="pdf")
    assert [page.get_text().strip() for page in document] == ["three", "one"]


def test_text_layer_pages_and_pixel_boxes():
    pdf = text_pdf([["A line that is long enough to count."], [], ["short"]])
    pages = read_text_layer(pdf, [0, 1, 2], dpi=144, min_chars=20)
    assert list(pages) == [0]
    page = pages[0].to_json(1)
    assert page["markdown"] == "A line that is long enough to count." and page["source"] == "text_layer"
    assert (page["width"], page["height"]) == (1190, 1684)
    x1, y1, x2, y2 = page["blocks"][0]["bbox"]
    assert x1 == pytest.approx(144) and 0 < y1 < y2 < 400 and x2 > x1


def test_text_metrics():
    assert agreement("Hello  world\n", "Hello world") == 1.0
    assert agreement("abcd", "abcf") == 0.75
    assert character_error_rate("hello world", "hallo world") == pytest.approx(1 / 11, abs=1e-4)
    assert word_error_rate("the cat sat down", "the dog sat") == 0.5
    assert character_error_rate("", "") == 0.0 and word_error_rate("", "x") == 1.0
    assert pairwise_agreement({"a": "x", "b": "x"}) == [{"backends": ["a", "b"], "agreement": 1.0}]


THREE_PAGES = Document.from_upload(text_pdf([["one"], ["two"], ["three"]]), "a.pdf", UploadLimits())


def request_key(
    fields: dict[str, str], document: Document = THREE_PAGES, *, backend: str = "rapidocr", fingerprint: str = "f1"
) -> str:
    request = parse_request(fields, document=document, backends=(backend,), request_id="r")
    return cache_key(document.sha256, backend, request.cache_options(), fingerprint)


def test_cache_key_covers_document_backend_options_and_fingerprint():
    base = request_key({"dpi": "200", "cache": "true", "backend": "rapidocr"})
    assert base == request_key({"dpi": "200"})
    other_document = Document.from_upload(text_pdf([["four"]]), "a.pdf", UploadLimits())
    others = {
        request_key({"dpi": "200"}, other_document),
        request_key({"dpi": "200"}, backend="tesseract"),
        request_key({"dpi": "300"}),
        request_key({"dpi": "200"}, fingerprint="f2"),
        request_key({"dpi": "200", "pdf_mode": "auto"}),
    }
    assert base not in others and len(others) == 5


def test_cache_key_values_are_exact_and_defaults_filled_in():
    """Prompts that differ only in line breaks are two requests; an explicit default is the same one."""
    assert request_key({"prompt": "Read it.\nAll of it."}) != request_key({"prompt": "Read it. All of it."})
    assert request_key({"prompt": " x"}) != request_key({"prompt": "x"})
    assert request_key({"boxes_image": "true"}) == request_key({})
    assert request_key({"boxes_image": "false"}) != request_key({})
    assert request_key({"pdf_mode": "ocr"}) == request_key({})
    assert request_key({"page_range": "1-3"}) == request_key({"page_range": "1,2,3"}) == request_key({})
    assert request_key({"page_range": "1-2"}) != request_key({})
    assert request_key({"phrase": "a  b"}) != request_key({"phrase": "a b"})


def test_cache_entries_expire_after_their_ttl(tmp_path):
    cache = ResultCache(Database(tmp_path / "db.sqlite3"), max_bytes=10_000, ttl=0.2)
    cache.put("a", "x", b"1")
    assert cache.get("a") is not None
    time.sleep(0.3)
    assert cache.get("a") is None
    cache.put("b", "x", b"2")
    assert cache.trim() == 1  # the maintenance loop drops what expired
    assert cache.stats()["entries"] == 1


def test_cache_is_bounded_least_recently_used_first(tmp_path):
    cache = ResultCache(Database(tmp_path / "db.sqlite3"), max_bytes=250, ttl=60, touch_every=0)
    for key in ("a", "b"):
        cache.put(key, "x", b"1" * 100)
        time.sleep(0.01)
    assert cache.get("a") is not None  # a is now the most recently used
    time.sleep(0.01)
    cache.put("c", "x", b"2" * 100)
    cache.trim()  # the maintenance loop keeps the bound
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.stats()["bytes"] <= 250
    cache.put("huge", "x", b"3" * 1000)
    assert cache.get("huge") is None
    assert ResultCache(Database(tmp_path / "off.sqlite3"), max_bytes=0, ttl=60).get("a") is None


def test_job_store_status_only_moves_forward(tmp_path):
    store = JobStore(Database(tmp_path / "db.sqlite3"), ttl=60)
    job_id = store.create("ocr", ["rapidocr"], "a.pdf", {"dpi": "200"})
    assert store.get(job_id).status == "queued"
    store.set_total(job_id, "rapidocr", 2)
    assert store.set_status(job_id, "running")
    store.add_page(job_id, "rapidocr", {"page": 2, "markdown": "b"})
    store.add_page(job_id, "rapidocr", {"page": 1, "markdown": "a"})
    assert store.set_status(job_id, "cancelled")
    store.add_page(job_id, "rapidocr", {"page": 3, "markdown": "late"})  # ignored: the job is final
    assert not store.set_status(job_id, "succeeded", result={"x": 1})
    job = store.get(job_id)
    assert job.status == "cancelled" and job.result is None and job.expires_at is not None
    assert job.progress == {"rapidocr": {"pages_done": 2, "pages_total": 2}}
    assert [p["page"] for p in store.pages(job_id)["rapidocr"]] == [1, 2]
    kinds = [kind for _, kind, _ in store.events_after(job_id, 0)]
    assert kinds == ["status", "progress", "status", "page", "progress", "page", "progress", "status"]


def test_orphaned_jobs_fail_and_results_expire(tmp_path):
    database = Database(tmp_path / "db.sqlite3")
    store = JobStore(database, ttl=0.2)
    dead_pid = 2**22 + 12345  # above pid_max: no such process
    gone = store.create("ocr", ["rapidocr"], None, {})
    alive = store.create("ocr", ["rapidocr"], None, {})
    with database.transaction() as connection:
        connection.execute("UPDATE jobs SET owner_pid = ?, status = 'running' WHERE id = ?", (dead_pid, gone))
        connection.execute("UPDATE jobs SET owner_pid = ? WHERE id = ?", (os.getppid(), alive))
    assert store.fail_orphans() == 1
    assert store.get(gone).status == "failed" and store.get(gone).error["code"] == "orchestrator_restarted"
    assert store.get(alive).status == "queued"  # its process is alive: not ours to fail
    time.sleep(0.3)
    assert store.get(gone) is None and store.delete_expired() == 1


def test_per_backend_settings_from_the_environment():
    assert parse_per_backend("X", "mineru=8, rapidocr=1") == {"mineru": 8, "rapidocr": 1}
    for bad in ("mineru", "mineru=0", "=3", "mineru=x"):
        with pytest.raises(ConfigError):
            parse_per_backend("PDF_SLICE_PAGES", bad)
    config = OrchestratorConfig.from_env({"PDF_SLICE_PAGES": "rapidocr=2", "CACHE_MAX_BYTES": "0"})
    assert config.slice_size("rapidocr") == 2 and config.slice_size("mineru") == 8
    assert config.slice_size("deepseek-ocr") == 1 and config.concurrency_for("deepseek-ocr") == 16
    assert json.dumps(config.cache_max_bytes) == "0"
