"""One page as an OpenAI chat-completions request, and the answer read back: pure functions, so
tests/conformance can check the body against the pinned openai client's types and vLLM's
``ChatCompletionRequest``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from backends.vlm_backend.presets.base import Sampling
from shared.data_uri import image_data_uri

MODELS_PATH = "/v1/models"
CHAT_PATH = "/v1/chat/completions"
HEALTH_PATH = "/health"


class BadAnswer(ValueError):
    """The model server's answer is not a chat completion with a message."""


@dataclass(frozen=True)
class Answer:
    text: str
    #: ``stop``, ``length`` (the token cap was hit: the page is cut short)...; empty when not sent.
    finish_reason: str
    output_tokens: int | None


def chat_body(
    model: str, image: Image.Image, prompt: str, sampling: Sampling, max_tokens: int, system: str | None = None
) -> dict[str, Any]:
    """The request for one page: a system message where the mode has one, the image (a PNG data URI)
    then the prompt, and the preset's sampling settings (vLLM's own fields, such as
    ``repetition_penalty``, as vLLM reads them)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system is not None else []
    body: dict[str, Any] = {
        "model": model,
        "messages": messages
        + [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": image_data_uri(image, fmt="PNG")}},
                    {"type": "text", "text": prompt},
                ],
            }
        ],
        "temperature": sampling.temperature,
        "max_completion_tokens": max_tokens,
    }
    if sampling.top_p is not None:
        body["top_p"] = sampling.top_p
    if sampling.repetition_penalty is not None:
        body["repetition_penalty"] = sampling.repetition_penalty
    body.update(sampling.extra)
    return body


def read_answer(body: Any) -> Answer:
    """The first choice of a chat completion; :class:`BadAnswer` when there is none."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise TypeError("content is not text")
        usage = body.get("usage") or {}
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        return Answer(
            text=content or "",
            finish_reason=str(choice.get("finish_reason") or ""),
            output_tokens=tokens if isinstance(tokens, int) else None,
        )
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadAnswer(f"the answer has no choice with a message ({exc})") from None


def served_models(body: Any) -> list[str]:
    """The ids a ``/v1/models`` answer lists."""
    try:
        return [str(entry["id"]) for entry in body["data"]]
    except (KeyError, TypeError) as exc:
        raise BadAnswer(f"the /v1/models answer lists no models ({exc})") from None
