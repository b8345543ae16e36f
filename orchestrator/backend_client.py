"""Sends a validated upload to the chosen backend and brings back its answer, untouched.

Only transport failures become the orchestrator's own errors, each naming the backend:
unreachable → 503, too slow (to take the upload, or to answer) → 504, an answer that is not our
JSON → 502. There is no fallback to another backend, ever.

Three timeouts: connecting (short: a backend that is not there fails fast), sending the upload (a
busy backend reads a request's body only when one of its threads takes it, so a large PDF may wait
that long; urllib3 alone would send it under the connect timeout and call a busy backend "not
reachable"), and waiting for the answer.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection

from shared.credentials import BACKEND_TOKEN_HEADER
from shared.errors import BackendTimeout, BackendUnavailable, BadBackendAnswer
from shared.http_common import REQUEST_ID_HEADER, REQUEST_TIMEOUT_HEADER
from shared.metrics import STAGES
from shared.options import OCROptions
from shared.timing import elapsed


@dataclass(frozen=True)
class BackendAnswer:
    status: int
    body: bytes
    content_type: str


def _upload_connection(base: type[HTTPConnection], write_timeout: float) -> type[HTTPConnection]:
    """``base`` that connects under the connect timeout and then sends under ``write_timeout``."""

    class UploadConnection(base):  # type: ignore[valid-type,misc]
        def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
            if self.sock is None:
                self.connect()  # self.timeout is the connect timeout here (urllib3 set it)
            self.timeout = write_timeout  # urllib3 sets the read timeout after the request is sent
            super().request(method, url, body=body, headers=headers, **kwargs)

    return UploadConnection


class UploadAdapter(HTTPAdapter):
    """requests' adapter whose connection pools send request bodies under a write timeout."""

    def __init__(self, write_timeout: float) -> None:
        self.write_timeout = write_timeout
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {
            scheme: type(
                f"Upload{pool.__name__}",
                (pool,),
                {"ConnectionCls": _upload_connection(pool.ConnectionCls, self.write_timeout)},
            )
            for scheme, pool in pools.items()
        }


def _sending_timed_out(exc: requests.ConnectionError) -> bool:
    """The upload could not be sent in time (urllib3 reports it as an aborted connection)."""
    reason = exc.args[0] if exc.args else None
    if not isinstance(reason, urllib3.exceptions.ProtocolError):
        return False
    return isinstance(reason.args[1] if len(reason.args) > 1 else None, TimeoutError)


class BackendClient:
    def __init__(
        self, *, connect_timeout: float, read_timeout: float, write_timeout: float | None = None, token: str = ""
    ) -> None:
        self.timeouts = (connect_timeout, read_timeout)
        self.write_timeout = read_timeout if write_timeout is None else write_timeout
        self._auth = {BACKEND_TOKEN_HEADER: token} if token else {}
        self._local = threading.local()

    def _session(self) -> requests.Session:
        # One session (and its connection pool) per thread: requests does not promise thread safety.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # Backends are our own services: no proxy or .netrc from the environment (looking them
            # up costs half a millisecond per request, and a proxy would see every document).
            session.trust_env = False
            for prefix in ("http://", "https://"):
                session.mount(prefix, UploadAdapter(self.write_timeout))
        return session

    def _send(
        self, target: str, files: dict[str, tuple[str, bytes, str]], fields: dict[str, str], headers: dict[str, str]
    ) -> tuple[requests.Response, bytes]:
        response = self._session().post(
            target, files=files, data=fields, headers=headers, timeout=self.timeouts, stream=True
        )
        # One read of the whole body: requests' default 10 KiB chunk loop costs milliseconds on the
        # megabyte-sized answers that carry a boxes image.
        with response:
            return response, response.raw.read(decode_content=True)

    def post_document(
        self,
        name: str,
        url: str,
        path: str,
        filename: str,
        data: bytes,
        mime: str,
        options: OCROptions,
        request_id: str,
        *,
        slice_of_pdf: bool = False,
    ) -> BackendAnswer:
        """``options`` become form fields here and only here; a PDF slice holds only the selected
        pages, so its ``page_range`` is left out."""
        target = url + path
        files = {"file": (filename, data, mime)}
        fields = options.to_form(page_range=not slice_of_pdf)
        headers = {REQUEST_ID_HEADER: request_id, REQUEST_TIMEOUT_HEADER: f"{self.timeouts[1]:g}", **self._auth}
        try:
            with elapsed(STAGES.labels("orchestrator", name, "backend_call").observe):
                try:
                    response, body = self._send(target, files, fields, headers)
                except requests.ConnectionError as exc:
                    if not dropped_without_answer(exc):
                        raise
                    # Most often a kept-alive connection the backend closed (its keep-alive timeout)
                    # just as we reused it: once more, on a new connection. The document is in memory
                    # and OCR has no side effects; a backend that is really gone fails again at once.
                    response, body = self._send(target, files, fields, headers)
        except requests.ConnectTimeout:
            raise BackendUnavailable(f"backend '{name}' did not accept a connection at {url} in time") from None
        except requests.ConnectionError as exc:
            if _sending_timed_out(exc):
                raise BackendTimeout(
                    f"backend '{name}' did not take the upload within {self.write_timeout:g} s (is it busy?)"
                ) from None
            if isinstance(exc.__context__, requests.ReadTimeout) or "Read timed out" in str(exc):
                raise BackendTimeout(f"backend '{name}' did not answer within {self.timeouts[1]:g} s") from None
            raise BackendUnavailable(f"backend '{name}' is not reachable at {url} (is it running?)") from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            raise BackendTimeout(f"backend '{name}' did not answer within {self.timeouts[1]:g} s") from None
        except urllib3.exceptions.HTTPError:  # the connection broke while the answer was being read
            raise BackendUnavailable(f"backend '{name}' at {url} closed the connection mid-answer") from None
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            raise BadBackendAnswer(
                f"backend '{name}' answered HTTP {response.status_code} with "
                f"{content_type or 'no content type'}, not JSON"
            )
        return BackendAnswer(response.status_code, body, content_type)


def dropped_without_answer(exc: requests.ConnectionError) -> bool:
    """The connection was closed or reset before any answer came (not a timeout, not a refusal)."""
    reason = exc.args[0] if exc.args else None
    if not isinstance(reason, urllib3.exceptions.ProtocolError):
        return False
    cause = reason.args[1] if len(reason.args) > 1 else None
    return isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
