"""The backends the orchestrator knows, their replicas, and what it last heard from each one's ``/health``.

A backend has one or more replicas (URLs that serve the same model). A background thread polls
every replica's ``/health``; each request goes to the healthy replica of the backend it names with
the least work (the replica's own ``in_flight + queued`` from its last health answer, plus this
process's requests to it now; equal ones in turn). A replica that cannot be reached is counted a
failure and the request goes to the next healthy replica of the *same* backend — never to another
backend. After ``max_failures`` failures in a row a healthy replica is marked down (one dropped poll
does not take it out); it comes back when its ``/health`` answers healthy again.

A configured URL that starts with ``dns+`` (``dns+http://rapidocr-headless:5002``) is resolved at
every poll: each address is a replica. A Kubernetes headless Service lists one address per ready pod,
so ``kubectl scale`` adds and removes replicas without touching the orchestrator's configuration.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import gevent
import requests
from gevent import monkey

from shared.api_contract import utc_timestamp
from shared.credentials import BACKEND_TOKEN_HEADER
from shared.errors import BackendUnavailable
from shared.health import HealthState, most_hopeful, read_health
from shared.options import FormField
from shared.published_options import publish, read_published

log = logging.getLogger(__name__)

DNS_PREFIX = "dns+"
T = TypeVar("T")
Resolver = Callable[[str, int], list[str]]


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a headless Service: one per ready pod), sorted."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def expand_source(source: str, resolve: Resolver) -> list[str]:
    """A configured replica URL → the URLs to call: itself, or for ``dns+`` one per address of its host.

    Raises ``OSError`` when the host does not resolve.
    """
    if not source.startswith(DNS_PREFIX):
        return [source]
    parts = urllib.parse.urlsplit(source[len(DNS_PREFIX) :])
    if not parts.hostname:
        raise OSError(f"{source} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    urls = []
    for address in resolve(parts.hostname, port):
        host = f"[{address}]" if ":" in address else address
        urls.append(urllib.parse.urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", "")))
    return urls


@dataclass
class ReplicaStatus:
    url: str
    source: str  # the configured URL it comes from (differs for dns+ ones)
    status: HealthState = HealthState.UNKNOWN
    model: str | None = None
    fingerprint: str | None = None  # what its /health said: the result cache keys on it
    reason: str | None = None
    checked_at: str | None = None
    health: dict[str, Any] | None = None
    #: The options its last health answer published; kept while it is down (None: never heard).
    options: tuple[FormField, ...] | None = None
    failures: int = 0  # in a row: health polls or requests that could not reach it
    in_flight: int = 0  # this process's requests to it now
    picked: int = 0  # when this process last chose it (equal replicas are taken in turn)

    def __post_init__(self) -> None:
        self.status = HealthState(self.status)

    @property
    def reported_load(self) -> int:
        """Work the replica said it had at its last health answer (running + waiting)."""
        health = self.health or {}
        return sum(value for key in ("in_flight", "queued") if isinstance(value := health.get(key), int))

    @property
    def load(self) -> int:
        return self.reported_load + self.in_flight

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "source": self.source,
            "status": self.status.value,
            "model": self.model,
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "checked_at": self.checked_at,
            "failures": self.failures,
            "in_flight": self.in_flight,
            "load": self.load,
        }


@dataclass
class BackendStatus:
    """One backend as a whole: healthy when any replica is."""

    name: str
    url: str  # as configured: the replicas' URLs joined with "|"
    status: HealthState = HealthState.UNKNOWN
    model: str | None = None
    reason: str | None = None
    checked_at: str | None = None
    health: dict[str, Any] | None = None
    replicas: list[ReplicaStatus] = field(default_factory=list)
    #: The healthy replicas' fingerprint when they all agree, else None (like ``model``).
    fingerprint: str | None = None
    #: The options it publishes: those of the replica it would send to, else of any that told them.
    options: tuple[FormField, ...] | None = None

    def __post_init__(self) -> None:
        self.status = HealthState(self.status)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "status": self.status.value,
            "model": self.model,
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "checked_at": self.checked_at,
            "health": self.health,
            "options": None if self.options is None else publish(self.options),
            "replicas": [replica.to_json() for replica in self.replicas],
        }


def _published(first: ReplicaStatus, replicas: list[ReplicaStatus]) -> tuple[FormField, ...] | None:
    """The options ``first`` published, else those of the first replica that published any."""
    return next((r.options for r in (first, *replicas) if r.options is not None), None)


def summarise(name: str, url: str, replicas: list[ReplicaStatus], discovery_error: str | None) -> BackendStatus:
    """The backend's status from its replicas'. Its model and fingerprint are the healthy replicas'
    only when they all agree (mixed versions during an upgrade must not share cached results)."""
    if not replicas:
        reason = discovery_error or "no replica discovered yet"
        state = HealthState.UNREACHABLE if discovery_error else HealthState.UNKNOWN
        return BackendStatus(name, url, state, reason=reason)
    checked = [r.checked_at for r in replicas if r.checked_at]
    checked_at = max(checked) if checked else None
    healthy = [r for r in replicas if r.status is HealthState.HEALTHY]
    if healthy:
        models = {r.model for r in healthy}
        fingerprints = {r.fingerprint for r in healthy}
        best = min(healthy, key=lambda r: r.load)
        return BackendStatus(
            name,
            url,
            HealthState.HEALTHY,
            models.pop() if len(models) == 1 else None,
            None,
            checked_at,
            best.health,
            replicas,
            fingerprint=fingerprints.pop() if len(fingerprints) == 1 else None,
            options=_published(best, replicas),
        )
    state = most_hopeful(r.status for r in replicas)
    best = next(r for r in replicas if r.status is state)
    reasons = [f"{r.url}: {r.reason}" if len(replicas) > 1 else r.reason for r in replicas if r.reason]
    if discovery_error:
        reasons.append(discovery_error)
    return BackendStatus(
        name,
        url,
        state,
        next((r.model for r in replicas if r.model), None),
        "; ".join(reasons) or None,
        checked_at,
        best.health,
        replicas,
        options=_published(best, replicas),
    )


class BackendRegistry:
    def __init__(
        self,
        backends: Mapping[str, Sequence[str]],
        *,
        health_timeout: float,
        health_interval: float,
        max_failures: int = 2,
        resolve: Resolver = resolve_addresses,
        token: str = "",
    ) -> None:
        self._headers = {BACKEND_TOKEN_HEADER: token} if token else {}
        self._sources = {name: list(urls) for name, urls in backends.items()}
        self._replicas: dict[str, dict[str, ReplicaStatus]] = {
            name: {url: ReplicaStatus(url, url) for url in urls if not url.startswith(DNS_PREFIX)}
            for name, urls in self._sources.items()
        }
        self._discovery_errors: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._picks = itertools.count(1)
        self.health_timeout = health_timeout
        self.health_interval = health_interval
        self.max_failures = max_failures
        self._resolve = resolve
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def names(self) -> list[str]:
        return list(self._sources)

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def status(self, name: str) -> BackendStatus:
        """What the background poll last learnt of ``name`` (no network call)."""
        with self._lock:
            replicas = [replace(r) for r in self._replicas[name].values()]
            return summarise(name, "|".join(self._sources[name]), replicas, self._discovery_errors.get(name))

    def published(self, name: str) -> tuple[FormField, ...] | None:
        """The options backend ``name`` publishes, as last heard (None: not known yet)."""
        return self.status(name).options

    def snapshot(self) -> list[BackendStatus]:
        return [self.status(name) for name in self.names()]

    # -- discovery and health -----------------------------------------------------------------------

    def discover(self, name: str) -> None:
        """Resolve the backend's ``dns+`` URLs again: new addresses become replicas, gone ones leave.
        A lookup that fails keeps the replicas it gave before (a DNS hiccup must not empty a backend)."""
        sources = self._sources[name]
        if not any(source.startswith(DNS_PREFIX) for source in sources):
            return
        found: list[tuple[str, str]] = []
        failed: list[str] = []
        errors: list[str] = []
        for source in sources:
            try:
                found += [(url, source) for url in expand_source(source, self._resolve)]
            except OSError as exc:
                failed.append(source)
                errors.append(f"{source} does not resolve: {exc}")
        with self._lock:
            current = self._replicas[name]
            kept = {url: r for url, r in current.items() if r.source in failed}
            for url, source in found:
                kept.setdefault(url, current.get(url) or ReplicaStatus(url, source))
            self._replicas[name] = kept
            self._discovery_errors[name] = "; ".join(errors) or None

    def check(self, name: str) -> BackendStatus:
        """Ask every replica of one backend for its health now and record the answers."""
        self.discover(name)
        with self._lock:
            urls = list(self._replicas[name])
        if len(urls) == 1:
            self._check_replica(name, urls[0])
        elif urls:
            with ThreadPoolExecutor(max_workers=len(urls)) as pool:
                list(pool.map(lambda url: self._check_replica(name, url), urls))
        return self.status(name)

    def _check_replica(self, name: str, url: str) -> None:
        target = url + "/health"
        try:
            response = requests.get(target, timeout=self.health_timeout, headers=self._headers)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            self._failed(name, url, f"no health answer from {target}: {type(exc).__name__}")
            return
        state, reason = read_health(body, response.ok)
        if state is HealthState.UNREACHABLE:  # it answered, but not with a health answer
            self._failed(name, url, f"{target}: {reason}")
            return
        with self._lock:
            replica = self._replicas[name].get(url)
            if replica is None:  # dropped by discovery meanwhile
                return
            replica.status, replica.model, replica.health, replica.failures = state, body.get("model"), body, 0
            replica.fingerprint = _optional_text(body.get("fingerprint"))
            replica.options = read_published(body.get("options"))
            replica.reason = reason
            replica.checked_at = utc_timestamp()

    def _failed(self, name: str, url: str, reason: str) -> None:
        """One more failure in a row; down at ``max_failures`` (at once if it was not healthy)."""
        with self._lock:
            replica = self._replicas[name].get(url)
            if replica is None:
                return
            replica.failures += 1
            replica.reason = reason
            replica.checked_at = utc_timestamp()
            if replica.status is not HealthState.HEALTHY or replica.failures >= self.max_failures:
                if replica.status is HealthState.HEALTHY:
                    log.warning(
                        "backend %s replica %s marked down after %d failures: %s", name, url, replica.failures, reason
                    )
                replica.status, replica.health = HealthState.UNREACHABLE, None

    def check_all(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(self._sources))) as pool:
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

    # -- routing ------------------------------------------------------------------------------------

    def _acquire(self, name: str, tried: list[str]) -> str | None:
        """The replica to send to next, counted in flight: the healthy one with the least work, the
        one with a recent failure last.

        With no healthy replica this is a circuit breaker: a replica that did not answer its last
        health poll (or its last request) is open, and nothing is sent to it until the health
        monitor (the half-open probe) hears from it again, so a hung backend costs a client
        nothing but an immediate 503. A replica that answers its health poll but is not ready
        (loading, overloaded) gets the request once: it answers its own 503 at once."""
        with self._lock:
            replicas = [r for r in self._replicas[name].values() if r.url not in tried]
            healthy = [r for r in replicas if r.status is HealthState.HEALTHY]
            answering = [r for r in replicas if r.status is not HealthState.UNREACHABLE]
            if healthy:
                chosen = min(healthy, key=lambda r: (r.failures > 0, r.load, r.picked))
            elif answering and not tried:
                chosen = min(answering, key=lambda r: (r.status.rank, r.failures, r.load, r.picked))
            else:
                return None
            chosen.in_flight += 1
            chosen.picked = next(self._picks)
            return chosen.url

    def _release(self, name: str, url: str, *, reached: bool) -> None:
        with self._lock:
            replica = self._replicas[name].get(url)
            if replica is not None:
                replica.in_flight -= 1
                if reached:
                    replica.failures = 0

    def _down(self, name: str, url: str) -> bool:
        with self._lock:
            replica = self._replicas[name].get(url)
            return replica is None or replica.status is HealthState.UNREACHABLE

    def _watched(self, name: str, url: str, send: Callable[[str], T]) -> T:
        """``send(url)``, cut short when the health monitor marks the replica down meanwhile (it
        hung while this request waited on it): the request is then 503 at once, or goes to another
        replica, instead of waiting out the read timeout. Cutting it closes its connection, so the
        backend drops it should it come back. Under gevent only (the orchestrator's workers): a
        greenlet can be stopped where it waits; a thread cannot."""
        if not monkey.is_module_patched("socket"):
            return send(url)

        def attempt() -> tuple[T | None, Exception | None]:
            # The outcome is handed back, not raised: gevent would log a raising greenlet's traceback.
            try:
                return send(url), None
            except Exception as exc:
                return None, exc

        task = gevent.spawn(attempt)
        while not task.ready():
            task.join(timeout=self.health_interval)
            if not task.ready() and self._down(name, url):
                task.kill(block=False)
                raise BackendUnavailable(
                    f"backend '{name}' stopped answering its health checks while this request waited on it",
                    retry_after=self.health_interval,
                )
        result, error = task.get()
        if error is not None:
            raise error
        return result

    def call(self, name: str, send: Callable[[str], T]) -> T:
        """``send(url)`` on the best replica of backend ``name``. When a replica cannot be reached
        (:class:`BackendUnavailable`) that counts as its failure and the next healthy replica of the
        same backend gets the request; when none is left, the 503 names the backend."""
        if not self._replicas[name]:
            self.discover(name)  # a dns+ backend before its first poll
        tried: list[str] = []
        errors: list[BackendUnavailable] = []
        while (url := self._acquire(name, tried)) is not None:
            tried.append(url)
            try:
                result = self._watched(name, url, send)
            except BackendUnavailable as exc:
                self._release(name, url, reached=False)
                self._failed(name, url, exc.message)
                errors.append(exc)
                continue
            except BaseException:
                self._release(name, url, reached=True)  # it answered (too slowly, or not our JSON)
                raise
            self._release(name, url, reached=True)
            return result
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BackendUnavailable(
                f"backend '{name}': none of its replicas could be reached ("
                + "; ".join(e.message for e in errors)
                + ")"
            )
        status = self.status(name)
        if status.status is HealthState.UNREACHABLE:
            raise BackendUnavailable(
                f"backend '{name}' is not reachable: its last health check failed ({status.reason}); "
                f"requests are refused until it answers again (checked every {self.health_interval:g} s)",
                retry_after=self.health_interval,
            )
        raise BackendUnavailable(f"backend '{name}' has no replica to send to ({status.reason})")
