"""The backends the orchestrator knows, and what it last heard from each one's ``/health``.

A background thread polls every backend; a failed call through the orchestrator also marks its
backend unreachable at once, so ``/backends`` never shows a dead backend as healthy for long.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from shared.api_contract import utc_timestamp
from shared.credentials import BACKEND_TOKEN_HEADER

log = logging.getLogger(__name__)


@dataclass
class BackendStatus:
    name: str
    url: str
    status: str = "unknown"  # healthy | loading | unavailable | unreachable | unknown
    model: str | None = None
    reason: str | None = None
    checked_at: str | None = None
    health: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "status": self.status,
            "model": self.model,
            "reason": self.reason,
            "checked_at": self.checked_at,
            "health": self.health,
        }


class BackendRegistry:
    def __init__(self, backends: dict[str, str], *, health_timeout: float, health_interval: float,
                 token: str = "") -> None:
        self._headers = {BACKEND_TOKEN_HEADER: token} if token else {}
        self._statuses = {name: BackendStatus(name, url) for name, url in backends.items()}
        self._lock = threading.Lock()
        self.health_timeout = health_timeout
        self.health_interval = health_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def names(self) -> list[str]:
        return list(self._statuses)

    def __contains__(self, name: object) -> bool:
        return name in self._statuses

    def url(self, name: str) -> str:
        return self._statuses[name].url

    def snapshot(self) -> list[BackendStatus]:
        with self._lock:
            return [BackendStatus(**vars(s)) for s in self._statuses.values()]

    def status(self, name: str) -> BackendStatus:
        with self._lock:
            return BackendStatus(**vars(self._statuses[name]))

    def _record(self, name: str, **fields: Any) -> None:
        with self._lock:
            status = self._statuses[name]
            for key, value in fields.items():
                setattr(status, key, value)
            status.checked_at = utc_timestamp()

    def mark_unreachable(self, name: str, reason: str) -> None:
        self._record(name, status="unreachable", reason=reason, health=None)

    def check(self, name: str) -> BackendStatus:
        """Ask one backend for its health now and record the answer."""
        url = self.url(name) + "/health"
        try:
            response = requests.get(url, timeout=self.health_timeout, headers=self._headers)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            self.mark_unreachable(name, f"no health answer from {url}: {type(exc).__name__}")
            return self.status(name)
        if not isinstance(body, dict):
            self.mark_unreachable(name, f"{url} answered with something other than a JSON object")
            return self.status(name)
        loaded = bool(body.get("model_loaded"))
        if loaded and response.ok:
            state = "healthy"
        else:
            state = "loading" if body.get("status") == "loading" else "unavailable"
        self._record(
            name,
            status=state,
            model=body.get("model"),
            reason=None if loaded else (body.get("reason") or "model not loaded"),
            health=body,
        )
        return self.status(name)

    def check_all(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(self._statuses))) as pool:
            list(pool.map(self.check, self.names()))

    def start_monitor(self) -> None:
        """Poll every backend in the background, every ``health_interval`` seconds."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._monitor, name="backend-health", daemon=True)
        self._thread.start()

    def stop_monitor(self) -> None:
        self._stop.set()

    def _monitor(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_all()
            except Exception:  # the monitor must outlive any surprise
                log.exception("health poll failed")
            self._stop.wait(self.health_interval)
