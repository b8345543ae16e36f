"""Jobs one process holds are bounded by their documents' bytes as well as by count, and a job
cancelled while it waits lets go of its document at once."""

import gc
import threading
import time
import weakref

import pytest

from orchestrator.database import Database
from orchestrator.document import Document
from orchestrator.job_runner import JobRunner
from orchestrator.job_store import JobStore
from orchestrator.ocr_request import parse_request
from orchestrator.pipeline import RunOutcome
from shared.errors import Overloaded
from shared.uploads import UploadLimits
from tests.support.documents import text_image


class HeldPipeline:
    """Answers each document once ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def run(self, request, backend, listener=None):  # type: ignore[no-untyped-def]
        self.started.set()
        self.release.wait(20)
        return RunOutcome.of(200, {"success": True, "pages": []})


def ocr_request(width: int):
    document = Document.from_upload(text_image(["x"], width=width), "a.png", UploadLimits())
    return parse_request({}, document=document, backends=("x",), request_id="r")


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def runner(tmp_path):
    pipeline = HeldPipeline()
    first = ocr_request(400)
    size = len(first.document.data)
    runner = JobRunner(
        JobStore(Database(tmp_path / "db.sqlite3"), 60),
        pipeline,
        workers=1,
        max_pending=100,
        max_pending_bytes=int(size * 2.5),
        retry_after=7,
    )
    yield runner, pipeline, first
    pipeline.release.set()


def test_job_bytes_are_bounded(runner):
    runner, pipeline, first = runner
    runner.submit(first, compare=False)
    runner.submit(ocr_request(400), compare=False)
    with pytest.raises(Overloaded) as refused:
        runner.submit(ocr_request(400), compare=False)
    assert refused.value.retry_after == 7 and "MiB of documents" in refused.value.message
    assert runner.pending() == 2
    pipeline.release.set()
    wait_until(lambda: runner.pending() == 0)
    runner.submit(ocr_request(400), compare=False)  # room again


def test_one_job_larger_than_the_bound_runs_when_none_is_held(runner):
    runner, pipeline, _ = runner
    pipeline.release.set()
    big = ocr_request(6000)
    assert len(big.document.data) > runner.max_pending_bytes
    runner.submit(big, compare=False)


def test_a_job_cancelled_while_queued_frees_its_document_at_once(runner):
    runner, pipeline, first = runner
    runner.submit(first, compare=False)
    wait_until(pipeline.started.is_set)  # the one worker is busy
    queued = ocr_request(400)
    seen = weakref.ref(queued)
    job_id = runner.submit(queued, compare=False)
    del queued
    runner.cancel(job_id)
    gc.collect()
    assert seen() is None and runner.pending() == 1
    assert runner.store.get(job_id).status == "cancelled"
