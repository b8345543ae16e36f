"""Typed views of the service's answers (the shapes of shared/contract.schema.json): what a caller
reads, for editors and type checkers. The answers stay plain dicts parsed from JSON; the contract's
JSON Schema is what they are checked against (tests/unit/test_ocr_client.py keeps their keys in step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict


class Block(TypedDict):
    type: str
    bbox: list[float]
    text: str
    score: float | None


class Page(TypedDict):
    page: int
    width: int
    height: int
    markdown: str
    blocks: list[Block]
    warnings: list[str]


class _OCRResultFields(TypedDict):
    success: bool
    backend: str
    model: str
    request_id: str
    image_name: str | None
    document_type: str
    raw_result: dict[str, Any]
    markdown: str
    source_markdown: str
    boxes_image: str | None
    processing_time: float
    timings: dict[str, float]
    warnings: list[str]


class OCRResult(_OCRResultFields, total=False):
    """``POST /ocr``; a job's result has no ``pages`` (they are the job's own)."""

    options: dict[str, Any]
    cache: dict[str, Any]
    dispatch: dict[str, Any]
    pages: list[Page]


class ReferenceScore(TypedDict):
    cer: float
    wer: float


class Agreement(TypedDict):
    backends: list[str]
    agreement: float


class _ComparisonFields(TypedDict):
    success: bool
    comparison: bool
    request_id: str
    document_type: str
    backends: list[str]
    results: dict[str, Any]
    times: dict[str, float]
    agreement: list[Agreement]


class ComparisonResult(_ComparisonFields, total=False):
    """``POST /ocr/compare``: ``results`` maps each backend to its :class:`OCRResult` or its error."""

    image_name: str | None
    reference_scores: dict[str, ReferenceScore]


class Progress(TypedDict):
    pages_done: int
    pages_total: int | None
    backends: dict[str, Any]


class _JobStatusFields(TypedDict):
    success: bool
    job_id: str
    kind: str
    status: str
    backends: list[str]
    progress: Progress
    pages: dict[str, list[Page]]
    created_at: str
    updated_at: str


class JobStatus(_JobStatusFields, total=False):
    result: dict[str, Any]
    error: dict[str, Any]


class JobProgress(TypedDict):
    pages_done: int
    pages_total: int | None


class _JobSummaryFields(TypedDict):
    job_id: str
    kind: str
    status: str
    backends: list[str]
    created_at: str
    updated_at: str
    progress: JobProgress
    status_url: str


class JobSummary(_JobSummaryFields, total=False):
    """A job in ``GET /jobs``: what it is and how far it got."""

    image_name: str | None
    document_type: str | None
    expires_at: str | None


class JobList(TypedDict):
    success: bool
    jobs: list[JobSummary]
    limit: int


class PreviewPage(TypedDict):
    page: int
    width: int
    height: int
    #: A PNG data URI.
    image: str


class _PdfPreviewFields(TypedDict):
    success: bool
    page_count: int
    dpi: int
    pages: list[PreviewPage]


class PdfPreview(_PdfPreviewFields, total=False):
    image_name: str | None


class BackendStatus(TypedDict, total=False):
    name: str
    url: str
    status: str
    model: str | None
    reason: str | None
    checked_at: str | None


class BackendsList(TypedDict):
    default: str
    backends: list[BackendStatus]


class EvaluationAccepted(TypedDict):
    id: str
    status: str
    url: str


class EvaluationResult(TypedDict):
    """One document through one backend, scored (rates ``None`` when it failed)."""

    document: str
    kind: str
    backend: str
    cer: float | None
    wer: float | None
    word_f1: float | None
    pages: int
    seconds: float
    seconds_per_page: float | None
    cached: bool
    error: dict[str, Any] | None


class _EvaluationFields(TypedDict):
    id: str
    status: str
    created: str
    finished: str | None
    backends: list[str]
    documents: list[dict[str, Any]]
    progress: dict[str, dict[str, int]]
    url: str
    normalization: dict[str, bool]
    options: dict[str, Any]
    results: list[EvaluationResult]
    leaderboard: list[dict[str, Any]]
    events_url: str


class Evaluation(_EvaluationFields, total=False):
    """``GET /evaluations/<id>``: status, progress, each result, the leaderboard (best CER first)."""

    error: dict[str, Any]


@dataclass(frozen=True)
class JobEvent:
    """One server-sent event of a job: ``type`` is ``status``, ``progress``, ``page`` or ``end``."""

    id: int | None
    type: str
    data: Any
