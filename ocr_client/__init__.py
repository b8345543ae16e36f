"""A Python client and a command line (``ocr-service``) for the OCR service's HTTP API.

from ocr_client import OCRClient
client = OCRClient("http://127.0.0.1:8080", api_key="...")
print(client.ocr("page.png", backend="rapidocr")["markdown"])
"""

from ocr_client.client import Job, OCRClient
from ocr_client.errors import AccessDenied, BackendDown, BadInput, OCRServiceError, ServiceTimeout
from ocr_client.models import (
    BackendsList,
    ComparisonResult,
    Evaluation,
    EvaluationAccepted,
    EvaluationResult,
    JobEvent,
    JobList,
    JobStatus,
    JobSummary,
    OCRResult,
    Page,
    PdfPreview,
)

__all__ = [
    "AccessDenied",
    "BackendDown",
    "BackendsList",
    "BadInput",
    "ComparisonResult",
    "Evaluation",
    "EvaluationAccepted",
    "EvaluationResult",
    "Job",
    "JobEvent",
    "JobList",
    "JobStatus",
    "JobSummary",
    "OCRClient",
    "OCRResult",
    "OCRServiceError",
    "Page",
    "PdfPreview",
    "ServiceTimeout",
]
