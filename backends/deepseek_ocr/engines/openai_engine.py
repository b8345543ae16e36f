"""DeepSeek-OCR served by a separately run ``vllm serve`` (OpenAI-compatible chat API).

For people who already run one. The request carries what the offline engine sets itself:
temperature 0, special tokens kept (the grounding tags) and the no-repeat n-gram arguments
(``vllm_xargs``), which only take effect when that server was started with
``--logits_processors vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor``.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import (
    EngineUnavailable,
    Generation,
    GenerationRequest,
    ThreadedEngine,
    ngram_arguments,
)
from backends.deepseek_ocr.prompts import chat_text
from shared.data_uri import image_data_uri

CONNECT_TIMEOUT_S = 5.0


class OpenAIEngine(ThreadedEngine):
    name = "openai"

    def __init__(self, config: DeepSeekConfig) -> None:
        super().__init__(workers=config.max_num_seqs)
        self.config = config
        self.served_model = config.openai_model
        self._local = threading.local()

    @property
    def model_label(self) -> str:
        return f"{self.served_model or 'DeepSeek-OCR'} (vllm serve at {self.config.openai_url})"

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # documents never go through a proxy from the environment
            if self.config.openai_api_key:
                session.headers["Authorization"] = f"Bearer {self.config.openai_api_key}"
            self._local.session = session
        return session

    def load(self) -> None:
        url = f"{self.config.openai_url}/v1/models"
        try:
            answer = self._session().get(url, timeout=CONNECT_TIMEOUT_S)
            answer.raise_for_status()
            served = [entry["id"] for entry in answer.json().get("data", [])]
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EngineUnavailable(
                f"the vLLM server at {self.config.openai_url} (DEEPSEEK_OPENAI_URL) does not answer {url}: {exc}"
            ) from None
        if not served:
            raise EngineUnavailable(f"the vLLM server at {self.config.openai_url} serves no model")
        if self.config.openai_model and self.config.openai_model not in served:
            raise EngineUnavailable(
                f"the vLLM server at {self.config.openai_url} serves {served}, not "
                f"{self.config.openai_model!r} (DEEPSEEK_OPENAI_MODEL)"
            )
        self.served_model = self.config.openai_model or served[0]

    def generate(self, request: GenerationRequest) -> Generation:
        body: dict[str, Any] = {
            "model": self.served_model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": image_data_uri(request.image, fmt="PNG")}},
                        {"type": "text", "text": chat_text(request.prompt)},
                    ],
                }
            ],
            "temperature": 0.0,
            "max_tokens": request.max_tokens,
            "skip_special_tokens": False,
            "vllm_xargs": ngram_arguments(self.config.ngram_size, self.config.ngram_window),
        }
        answer = self._session().post(
            f"{self.config.openai_url}/v1/chat/completions",
            json=body,
            headers={"X-Request-ID": request.request_id},
            timeout=(CONNECT_TIMEOUT_S, self.config.page_timeout),
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the vLLM server answered {answer.status_code}: {answer.text[:300]}")
        choice = _first_choice(answer.json())
        usage = answer.json().get("usage") or {}
        return Generation(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            output_tokens=usage.get("completion_tokens"),
        )

    def details(self) -> dict[str, Any]:
        return {"openai_url": self.config.openai_url, "served_model": self.served_model or None}


def _first_choice(body: Any) -> dict[str, Any]:
    try:
        choice = body["choices"][0]
        if not isinstance(choice["message"], dict):
            raise TypeError("message is not an object")
        return dict(choice)
    except (KeyError, IndexError, TypeError) as exc:
        raise RuntimeError(f"the vLLM server's answer has no choice with a message: {exc}") from None
