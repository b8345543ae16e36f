"""A Python client of the orchestrator's HTTP API (described at ``/openapi.json``): one method per
thing a caller does, answers as the contract's typed dicts, errors as :mod:`ocr_client.errors`."""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Union, cast

import requests

from ocr_client.errors import BackendDown, BadInput, OCRServiceError, ServiceTimeout, from_error
from ocr_client.models import (
    BackendsList,
    ComparisonResult,
    Evaluation,
    EvaluationAccepted,
    JobEvent,
    JobList,
    JobStatus,
    OCRResult,
    PdfPreview,
)
from ocr_client.sse import parse_events

#: A document: a path, its bytes, or a binary file object.
Document = Union[str, "os.PathLike[str]", bytes, IO[bytes]]

DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV = "OCR_SERVICE_URL"
API_KEY_ENV = "OCR_SERVICE_API_KEY"
API_KEY_HEADER = "X-API-Key"
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
CONNECT_TIMEOUT = 10.0


def form_value(value: Any) -> str:
    """An option's form text: booleans as ``true``/``false`` (what the service reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_document(file: Document) -> tuple[str, bytes]:
    """The file's name and bytes; a path that cannot be read is :class:`BadInput` here, before any call."""
    if isinstance(file, bytes):
        return "document", file
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        try:
            return path.name, path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from None
    return Path(str(getattr(file, "name", "document"))).name, file.read()


class Job:
    """A submitted job: its status, its events as they happen, waiting for its end, cancelling it."""

    def __init__(self, client: OCRClient, job_id: str, status_url: str, events_url: str) -> None:
        self.client = client
        self.id = job_id
        self.status_url = status_url
        self.events_url = events_url

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def status(self) -> JobStatus:
        return cast(JobStatus, self.client.request("GET", self.status_url))

    def cancel(self) -> JobStatus:
        """Cancel it (a job already final is left as it is); the job as it is afterwards."""
        return cast(JobStatus, self.client.request("DELETE", self.status_url))

    def events(self, last_event_id: int | None = None) -> Iterator[JobEvent]:
        """The job's events (``status``, ``progress``, ``page``), then ``end``, as the service sends
        them; after ``last_event_id`` when given (to resume a stream)."""
        return self.client.events(self.events_url, f"job {self.id}", last_event_id)

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> JobStatus:
        """The final job (succeeded or cancelled); a failed job raises its error, and a job not final
        after ``timeout`` seconds raises :class:`ServiceTimeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.status()
            if job["status"] == "failed":
                error = job.get("error") or {}
                raise from_error(error, error.get("status"))
            if job["status"] in FINAL_STATUSES:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise ServiceTimeout(f"job {self.id} is still {job['status']} after {timeout} s", code="client_timeout")
            time.sleep(poll)


class OCRClient:
    """``OCRClient(url, api_key)``; ``OCRClient.from_env()`` reads ``OCR_SERVICE_URL`` and
    ``OCR_SERVICE_API_KEY``. ``timeout``: seconds to wait for an answer (a long PDF takes long)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 600.0,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        if api_key:
            self.session.headers[API_KEY_HEADER] = api_key

    @classmethod
    def from_env(cls, url: str | None = None, api_key: str | None = None, **kwargs: Any) -> OCRClient:
        return cls(
            url or os.environ.get(URL_ENV) or DEFAULT_URL, api_key or os.environ.get(API_KEY_ENV) or None, **kwargs
        )

    # -- the API --------------------------------------------------------------------------------------

    def ocr(self, file: Document, backend: str | None = None, **options: Any) -> OCRResult:
        """One backend's result (``backend``: the service's default when None). ``options``: the
        form fields of ``POST /ocr`` (``dpi=200``, ``page_range="1-3"``, ``pdf_mode="auto"``, ...)."""
        fields = {"backend": backend, **options}
        return cast(OCRResult, self.request("POST", "/ocr", files=self._form(file, fields)))

    def compare(
        self,
        file: Document,
        backends: list[str] | tuple[str, ...] | str | None = None,
        reference: str | None = None,
        **options: Any,
    ) -> ComparisonResult:
        """Each backend's result side by side (every healthy backend when ``backends`` is None), with
        CER and WER against ``reference`` text when given."""
        fields = {"backends": _names(backends), "reference": reference, **options}
        return cast(ComparisonResult, self.request("POST", "/ocr/compare", files=self._form(file, fields)))

    def submit_job(
        self,
        file: Document,
        backend: str | None = None,
        *,
        backends: list[str] | tuple[str, ...] | str | None = None,
        reference: str | None = None,
        **options: Any,
    ) -> Job:
        """A job in the background: one ``backend``, or a comparison when ``backends`` is given."""
        if backends is not None:
            path, fields = "/jobs/compare", {"backends": _names(backends), "reference": reference, **options}
        else:
            path, fields = "/jobs", {"backend": backend, **options}
        body = self.request("POST", path, files=self._form(file, fields))
        return Job(self, body["job_id"], body["status_url"], body["events_url"])

    def job(self, job_id: str) -> Job:
        """A handle on a job submitted earlier."""
        return Job(self, job_id, f"/jobs/{job_id}", f"/jobs/{job_id}/events")

    def evaluate(
        self,
        labelled_set: str | os.PathLike[str] | None = None,
        backends: list[str] | tuple[str, ...] | str | None = None,
        *,
        normalization: str | None = None,
        sample: bool = False,
        **options: Any,
    ) -> EvaluationAccepted:
        """Start an evaluation of ``labelled_set`` (a folder of documents with their ``name.txt`` or
        ``name.md`` and an optional ``labels.csv``, sent as one zip; or a ``.zip`` file), or of the
        service's bundled set with ``sample=True``; ``{"id", "status", "url"}``."""
        fields = {"backends": _names(backends), "normalization": normalization, **options}
        form: dict[str, tuple[str | None, Any]] = {
            key: (None, form_value(value)) for key, value in fields.items() if value is not None
        }
        if sample:
            form["sample"] = (None, "true")
        elif labelled_set is None:
            raise BadInput("name a labelled set (a folder or a zip), or sample=True", code="missing_file")
        else:
            form["archive"] = ("set.zip", zip_labelled_set(Path(labelled_set)))
        return cast(EvaluationAccepted, self.request("POST", "/evaluations", files=form))

    def evaluation(self, evaluation_id: str) -> Evaluation:
        """The evaluation: status, progress, results and leaderboard."""
        return cast(Evaluation, self.request("GET", f"/evaluations/{evaluation_id}"))

    def evaluations(self) -> list[dict[str, Any]]:
        """This key's evaluations, newest first."""
        return cast(list[dict[str, Any]], self.request("GET", "/evaluations")["evaluations"])

    def cancel_evaluation(self, evaluation_id: str) -> Evaluation:
        """Cancel it (a final one is left as it is; finished results stay); the evaluation afterwards."""
        return cast(Evaluation, self.request("DELETE", f"/evaluations/{evaluation_id}"))

    def evaluation_events(self, evaluation_id: str, last_event_id: int | None = None) -> Iterator[JobEvent]:
        """Its events (``status``, ``result``, ``progress``), then ``end``."""
        return self.events(f"/evaluations/{evaluation_id}/events", f"evaluation {evaluation_id}", last_event_id)

    def export_evaluation(self, evaluation_id: str, format: str = "csv") -> bytes:
        """Its results as CSV (a row per document and backend) or JSON (the whole evaluation)."""
        response = self.send("GET", f"/evaluations/{evaluation_id}/export", params={"format": format})
        return response.content

    def jobs(self, limit: int | None = None) -> JobList:
        """The newest jobs, newest first (with an API key, that key's own); ``limit`` at most 100."""
        params = None if limit is None else {"limit": str(limit)}
        return cast(JobList, self.request("GET", "/jobs", params=params))

    def page_image(self, job_id: str, page: int = 1, dpi: int | None = None) -> bytes:
        """Page ``page`` of a job's document, clean: an image as uploaded (PNG where a browser would
        not show it upright), a PDF page as PNG at ``dpi`` (default: the dpi its result was read at, so
        the result's boxes, in page pixels, fit it as they are)."""
        params = None if dpi is None else {"dpi": str(dpi)}
        return self.send("GET", f"/jobs/{job_id}/pages/{page}/image", params=params).content

    def preview_pdf(self, file: Document, page_range: str | None = None, dpi: int | None = None) -> PdfPreview:
        """Pages of a PDF rendered by the service (default: the first four as thumbnails), each a PNG
        data URI; the same upload checks as ``ocr``. At a result's dpi a page is that result's page image."""
        fields = {"page_range": page_range, "dpi": dpi}
        return cast(PdfPreview, self.request("POST", "/pdf/preview", files=self._form(file, fields)))

    def backends(self, refresh: bool = False) -> BackendsList:
        params = {"refresh": "1"} if refresh else None
        return cast(BackendsList, self.request("GET", "/backends", params=params))

    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.request("GET", "/health"))

    # -- HTTP -----------------------------------------------------------------------------------------

    @staticmethod
    def _form(file: Document, fields: Mapping[str, Any]) -> dict[str, tuple[str | None, Any]]:
        name, data = read_document(file)
        form: dict[str, tuple[str | None, Any]] = {"file": (name, data)}
        for key, value in fields.items():
            if value is not None:
                form[key] = (None, form_value(value))
        return form

    def events(self, path: str, what: str, last_event_id: int | None = None) -> Iterator[JobEvent]:
        """A server-sent event stream's events until it ends (``what`` names it in errors)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        with self.send("GET", path, headers=headers, stream=True) as response:
            try:
                yield from parse_events(response.iter_lines(decode_unicode=True))
            except requests.Timeout:
                raise ServiceTimeout(f"the events of {what} stopped coming", code="client_timeout") from None
            except requests.RequestException as exc:
                raise BackendDown(f"the events of {what} broke off: {exc}", code="service_unreachable") from None

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The raw answer of a successful call; any failure raised as an :class:`OCRServiceError`."""
        url = path if path.startswith("http") else self.url + path
        try:
            response = self.session.request(method, url, timeout=(CONNECT_TIMEOUT, self.timeout), **kwargs)
        except requests.Timeout:
            raise ServiceTimeout(
                f"no answer from {self.url} within {self.timeout:g} s", code="client_timeout"
            ) from None
        except requests.ConnectionError:
            raise BackendDown(f"cannot reach the OCR service at {self.url}", code="service_unreachable") from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call's JSON answer."""
        response = self.send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise OCRServiceError(f"{method} {path}: the answer is not JSON", status=response.status_code) from None


def zip_labelled_set(path: Path) -> bytes:
    """A folder's files (not its hidden ones) as one zip in memory; a ``.zip`` file as it is."""
    try:
        if path.is_file():
            return path.read_bytes()
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise BadInput(f"{path} holds no files", code="unreadable_file")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.relative_to(path).as_posix())
        return buffer.getvalue()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from None


def _names(backends: list[str] | tuple[str, ...] | str | None) -> str | None:
    if backends is None or isinstance(backends, str):
        return backends
    return ",".join(backends)


def _error_of(response: requests.Response) -> OCRServiceError:
    request_id = response.headers.get("X-Request-ID")
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    return from_error(error, response.status_code, request_id)
