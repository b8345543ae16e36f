"""What a page's ``finish_reason`` means for the request.

vLLM's reasons (``FINISH_REASON_STRINGS`` in ``vllm/v1/engine/__init__.py``, checked against the
pinned wheel by tests/conformance): ``stop`` the model ended the page; ``length`` it reached
``max_tokens`` (or ``max_model_len``); ``repetition`` vLLM cut a repeating pattern; ``abort`` the
request was aborted; ``error`` "retryable request-level internal error … always converted to 500".
A page that ended in ``abort`` or ``error`` has no usable text: the request fails, retryably.
"""

from __future__ import annotations

from enum import Enum


class PageEnd(str, Enum):
    COMPLETE = "complete"
    TRUNCATED = "truncated"  # text kept, flagged: the model did not end the page itself
    FAILED = "failed"  # no usable text: the request fails (retryable)


FINISH_REASONS: dict[str, PageEnd] = {
    "stop": PageEnd.COMPLETE,
    "length": PageEnd.TRUNCATED,
    "repetition": PageEnd.TRUNCATED,
    "abort": PageEnd.FAILED,
    "error": PageEnd.FAILED,
}


def page_end(finish_reason: str | None) -> PageEnd:
    """An unknown or missing reason is a failure, never an empty page passed off as read."""
    return FINISH_REASONS.get(finish_reason or "", PageEnd.FAILED)
