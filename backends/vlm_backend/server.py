"""The model server as the backend sees it: one chat call per page (its failures as the service's
errors, never a 500) and a background check of its health.

The check asks ``/health`` (200 when vLLM's engine is alive) and ``/v1/models`` (it must list the
served model name this instance expects). While it fails, :meth:`ModelServer.failure` says why and
the backend answers 503 naming itself; it recovers by itself when the server is back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from backends.vlm_backend.chat import CHAT_PATH, HEALTH_PATH, MODELS_PATH, Answer, BadAnswer, read_answer, served_models
from shared.errors import BadBackendAnswer, InferenceTimeout, ModelNotLoaded

CONNECT_TIMEOUT_S = 5.0
CHECK_TIMEOUT_S = 3.0
#: While waiting for a model server that is still starting: seconds between two tries.
STARTUP_POLL_S = 1.0


class ModelServer:
    def __init__(self, url: str, model: str, *, backend: str, api_key: str = "", interval: float = 5.0) -> None:
        self.url = url
        self.model = model
        self.backend = backend
        self.api_key = api_key
        self.interval = interval
        self._local = threading.local()
        self._failure: str | None = "not checked yet"
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # pages never go through a proxy from the environment
            if self.api_key:
                session.headers["Authorization"] = f"Bearer {self.api_key}"
            self._local.session = session
        return session

    # -- health -----------------------------------------------------------------------------------

    def check(self) -> tuple[str | None, bool]:
        """``(why it cannot serve or None, whether it answered at all)``."""
        try:
            health = self._session().get(f"{self.url}{HEALTH_PATH}", timeout=CHECK_TIMEOUT_S)
            if health.status_code != 200:
                return f"the model server at {self.url} answers {HEALTH_PATH} with {health.status_code}", True
            listing = self._session().get(f"{self.url}{MODELS_PATH}", timeout=CHECK_TIMEOUT_S)
            listing.raise_for_status()
            names = served_models(listing.json())
        except requests.RequestException as exc:
            return f"the model server at {self.url} does not answer ({type(exc).__name__})", False
        except (ValueError, BadAnswer) as exc:
            return f"the model server at {self.url} answers {MODELS_PATH} with no model list ({exc})", True
        if self.model not in names:
            return f"the model server at {self.url} serves {names}, not {self.model!r} (VLM_SERVED_MODEL)", True
        return None, True

    def failure(self) -> str | None:
        """Why the model server cannot serve now (the last check's answer), or ``None``."""
        return self._failure

    def wait_until_up(self, seconds: float) -> None:
        """Check until the server answers (started, or definitely serving something else) or
        ``seconds`` pass; then keep checking in the background every ``interval`` seconds."""
        deadline = time.monotonic() + seconds
        while True:
            self._failure, answered = self.check()
            if answered or time.monotonic() >= deadline or self._stop.wait(STARTUP_POLL_S):
                break
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name=f"{self.backend}-model-server", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._failure = self.check()[0]

    def close(self) -> None:
        self._stop.set()

    # -- one page -----------------------------------------------------------------------------------

    def not_ready(self, reason: str) -> ModelNotLoaded:
        return ModelNotLoaded(f"{self.backend} model is not loaded: {reason}")

    def chat(self, body: dict[str, Any], *, request_id: str, timeout: float) -> Answer:
        """POST one page; 503 when the server is down, 504 past ``timeout``, 502 for an answer that
        is not a chat completion (an HTTP error, not JSON, no choices)."""
        try:
            answer = self._session().post(
                f"{self.url}{CHAT_PATH}",
                json=body,
                headers={"X-Request-ID": request_id},
                timeout=(CONNECT_TIMEOUT_S, timeout),
            )
        except requests.Timeout as exc:
            if isinstance(exc, requests.ConnectTimeout):
                raise self.not_ready(f"the model server at {self.url} does not accept connections") from None
            raise InferenceTimeout(
                f"{self.backend}: the model server took longer than {timeout:g} s for a page (VLM_PAGE_TIMEOUT)"
            ) from None
        except requests.ConnectionError as exc:
            self._failure = f"the model server at {self.url} does not answer ({type(exc).__name__})"
            raise self.not_ready(self._failure) from None
        except requests.RequestException as exc:
            raise BadBackendAnswer(f"{self.backend}: the model server's answer failed ({exc})") from None
        if answer.status_code != 200:
            raise BadBackendAnswer(
                f"{self.backend}: the model server answered {answer.status_code}: {answer.text[:300]}"
            )
        try:
            return read_answer(answer.json())
        except ValueError as exc:  # not JSON, or BadAnswer
            detail = exc if isinstance(exc, BadAnswer) else "not JSON"
            raise BadBackendAnswer(
                f"{self.backend}: the model server's answer is not a chat completion: {detail}"
            ) from None
