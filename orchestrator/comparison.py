"""The same document through several backends at once, each result labelled with its backend.

Not a fallback: every backend named runs, and one failing leaves the others' results standing.
The answer adds each backend's time, the pairwise agreement of their texts and, given a reference
text, each one's character and word error rates.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orchestrator.ocr_request import OCRRequest
from orchestrator.pipeline import PageListener, Pipeline
from orchestrator.text_metrics import character_error_rate, pairwise_agreement, word_error_rate
from shared.api_contract import error_body
from shared.errors import OCRError


def run_comparison(pipeline: Pipeline, request: OCRRequest, listener: PageListener | None = None) -> dict[str, Any]:
    backends = list(request.backends)

    def one(backend: str) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        try:
            body = pipeline.run(request, backend, listener).json()
        except OCRError as exc:
            body = error_body(exc, backend=backend, request_id=request.request_id)
        return body, round(time.perf_counter() - started, 4)

    with ThreadPoolExecutor(max_workers=len(backends), thread_name_prefix="compare") as pool:
        answers = dict(zip(backends, pool.map(one, backends), strict=True))
    results = {name: body for name, (body, _) in answers.items()}
    texts = {name: body["markdown"] for name, body in results.items() if body.get("success")}
    comparison: dict[str, Any] = {
        "success": bool(texts),
        "comparison": True,
        "request_id": request.request_id,
        "image_name": request.document.upload_name,
        "document_type": request.document.fmt.kind,
        "backends": backends,
        "results": results,
        "times": {name: seconds for name, (_, seconds) in answers.items()},
        "agreement": pairwise_agreement(texts),
    }
    if request.reference is not None:
        reference = request.reference
        comparison["reference_scores"] = {
            name: {"cer": character_error_rate(reference, text), "wer": word_error_rate(reference, text)}
            for name, text in texts.items()
        }
    return comparison
