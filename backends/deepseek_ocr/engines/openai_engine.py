"""DeepSeek-OCR served by a separately run ``vllm serve`` (OpenAI-compatible chat API).

For people who already run one. The request carries what the offline engine sets itself:
temperature 0, special tokens kept (the grounding tags) and the no-repeat n-gram arguments
(``vllm_xargs``), which only take effect when that server was started with
``--logits_processors vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor``.

The server's ``/health`` is polled in the background: while it does not answer 200 (stopped,
its engine dead: vLLM answers 503) this engine reports the failure, the backend answers 503, and
it recovers by itself when the server is back. The body's fields are checked against the pinned
``openai`` client's request types and vLLM's ``ChatCompletionRequest`` by tests/conformance.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import (
    EngineDead,
    EngineUnavailable,
    Generation,
    GenerationRequest,
    ThreadedEngine,
    ngram_arguments,
)
from backends.deepseek_ocr.ngram import NGramRule, ngram_rule
from backends.deepseek_ocr.prompts import chat_text
from shared.data_uri import image_data_uri

CONNECT_TIMEOUT_S = 5.0
HEALTH_TIMEOUT_S = 2.0
HEALTH_INTERVAL_S = 5.0
MODELS_PATH = "/v1/models"
CHAT_PATH = "/v1/chat/completions"
HEALTH_PATH = "/health"
#: Body fields that are vLLM's own (sent as ``extra_body`` by the openai client), not OpenAI's.
VLLM_ONLY_FIELDS = ("skip_special_tokens", "vllm_xargs")


def chat_body(model: str, request: GenerationRequest, rule: NGramRule) -> dict[str, Any]:
    """One page as a chat completion request."""
    return {
        "model": model,
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
        "max_completion_tokens": request.max_tokens,
        "skip_special_tokens": False,
        "vllm_xargs": ngram_arguments(rule),
    }


def read_answer(body: Any) -> Generation:
    """The first choice of a chat completion answer."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
        usage = body.get("usage") or {}
        return Generation(
            text=message.get("content") or "",
            finish_reason=choice.get("finish_reason") or "",  # missing: a failure (finish.py)
            output_tokens=usage.get("completion_tokens"),
        )
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise RuntimeError(f"the vLLM server's answer has no choice with a message: {exc}") from None


def served_models(body: Any) -> list[tuple[str, str]]:
    """(id, root) of each model a ``/v1/models`` answer lists; ``root`` is the weights' path."""
    return [(str(entry["id"]), str(entry.get("root") or "")) for entry in body["data"]]


def variant_of(*names: str) -> str:
    """DeepSeek-OCR-2 when the served name or the weights' path says so."""
    text = " ".join(names).lower().replace("_", "-")
    return "DeepSeek-OCR-2" if "ocr-2" in text or "ocr2" in text else "DeepSeek-OCR"


class OpenAIEngine(ThreadedEngine):
    name = "openai"

    def __init__(self, config: DeepSeekConfig, health_interval: float = HEALTH_INTERVAL_S) -> None:
        super().__init__(workers=config.max_num_seqs)
        self.config = config
        self.served_model = config.openai_model
        self.health_interval = health_interval
        self._local = threading.local()
        self._down: str | None = None
        self._stop = threading.Event()

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
        url = f"{self.config.openai_url}{MODELS_PATH}"
        try:
            answer = self._session().get(url, timeout=CONNECT_TIMEOUT_S)
            answer.raise_for_status()
            served = served_models(answer.json())
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EngineUnavailable(
                f"the vLLM server at {self.config.openai_url} (DEEPSEEK_OPENAI_URL) does not answer {url}: {exc}"
            ) from None
        if not served:
            raise EngineUnavailable(f"the vLLM server at {self.config.openai_url} serves no model")
        names = [name for name, _ in served]
        if self.config.openai_model and self.config.openai_model not in names:
            raise EngineUnavailable(
                f"the vLLM server at {self.config.openai_url} serves {names}, not "
                f"{self.config.openai_model!r} (DEEPSEEK_OPENAI_MODEL)"
            )
        self.served_model, root = next(entry for entry in served if entry[0] == (self.config.openai_model or names[0]))
        self.variant = variant_of(self.served_model, root)
        threading.Thread(target=self._watch, name="openai-health", daemon=True).start()

    def _check(self) -> str | None:
        url = f"{self.config.openai_url}{HEALTH_PATH}"
        try:
            answer = self._session().get(url, timeout=HEALTH_TIMEOUT_S)
        except requests.RequestException as exc:
            return f"the vLLM server at {self.config.openai_url} stopped answering ({type(exc).__name__})"
        if answer.status_code != 200:
            return f"the vLLM server at {self.config.openai_url} answers {url} with {answer.status_code}"
        return None

    def _watch(self) -> None:
        while not self._stop.wait(self.health_interval):
            self._down = self._check()

    def failure(self) -> str | None:
        return self._down

    def generate(self, request: GenerationRequest) -> Generation:
        try:
            answer = self._session().post(
                f"{self.config.openai_url}{CHAT_PATH}",
                json=chat_body(self.served_model, request, ngram_rule(self.variant, self.config)),
                headers={"X-Request-ID": request.request_id},
                timeout=(CONNECT_TIMEOUT_S, self.config.page_timeout),
            )
        except requests.ConnectionError as exc:
            self._down = f"the vLLM server at {self.config.openai_url} stopped answering ({type(exc).__name__})"
            raise EngineDead(self._down) from exc
        if answer.status_code != 200:
            raise RuntimeError(f"the vLLM server answered {answer.status_code}: {answer.text[:300]}")
        try:
            body = answer.json()
        except ValueError:
            raise RuntimeError("the vLLM server's answer is not JSON") from None
        return read_answer(body)

    def details(self) -> dict[str, Any]:
        return {"openai_url": self.config.openai_url, "served_model": self.served_model or None}

    def close(self) -> None:
        self._stop.set()
        super().close()
