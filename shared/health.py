"""A service's health, decided in one place: the states, who may report which, and how they rank.

A backend reports its own state in ``/health`` (:data:`SELF_REPORTED`: healthy, loading,
unavailable; :func:`backend_state`). The orchestrator adds what only it can infer
(:data:`INFERRED`: unreachable when a replica gave no usable answer, unknown when it was never asked).
Every reader of a ``/health`` answer — the orchestrator's registry and ``deployment/health_probe.py``
— goes through :func:`read_health`, so they cannot disagree.

Standard library only: ``deployment/health_probe.py`` imports this before any environment is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, NamedTuple


class HealthState(str, Enum):
    """One service's state. A ``str``: compares equal to, and serialises as, its value."""

    HEALTHY = "healthy"  # the model is loaded: send work
    LOADING = "loading"  # the model is loading (or not started yet): waiting helps
    UNAVAILABLE = "unavailable"  # the model cannot load, the reason says why: waiting does not help
    UNREACHABLE = "unreachable"  # inferred: no usable answer (refused, timed out, not a health answer)
    UNKNOWN = "unknown"  # inferred: never asked yet

    def __str__(self) -> str:  # "healthy", not "HealthState.HEALTHY", in f-strings on every Python
        return self.value

    @property
    def self_reported(self) -> bool:
        """A state a backend says of itself (the others only the orchestrator infers)."""
        return self in SELF_REPORTED

    @property
    def rank(self) -> int:
        """Position in :data:`RANKING`: 0 is the most hopeful."""
        return RANKING.index(self)


#: What a backend's own ``/health`` may say.
SELF_REPORTED: tuple[HealthState, ...] = (HealthState.HEALTHY, HealthState.LOADING, HealthState.UNAVAILABLE)
#: What only the orchestrator says of a backend or replica.
INFERRED: tuple[HealthState, ...] = (HealthState.UNREACHABLE, HealthState.UNKNOWN)
#: Most hopeful first: how a backend with no healthy replica is summed up, and which replica a
#: request tries when none is healthy.
RANKING: tuple[HealthState, ...] = (
    HealthState.HEALTHY,
    HealthState.LOADING,
    HealthState.UNAVAILABLE,
    HealthState.UNREACHABLE,
    HealthState.UNKNOWN,
)

#: The reasons :func:`read_health` gives when the answer itself says none.
NOT_AN_OBJECT = "answer is not a JSON object"
NOT_A_HEALTH_ANSWER = "answer is not a health answer (no model_loaded, no status)"
DEFAULT_LOADING = "loading"
HTTP_ERROR = "model_loaded, but the health answer came with an HTTP error status"


def most_hopeful(states: Iterable[HealthState]) -> HealthState:
    """The best of ``states`` by :data:`RANKING`; :attr:`HealthState.UNKNOWN` when there are none."""
    return min(states, key=lambda state: state.rank, default=HealthState.UNKNOWN)


def backend_state(loaded: bool, loading: bool) -> HealthState:
    """What a backend says of itself: healthy once its model is loaded, loading while it loads,
    else unavailable (its load failed: the server reports the error as the reason)."""
    if loaded:
        return HealthState.HEALTHY
    return HealthState.LOADING if loading else HealthState.UNAVAILABLE


class HealthReading(NamedTuple):
    """What one ``/health`` answer says: the state and, unless healthy, why."""

    state: HealthState
    reason: str | None = None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def read_health(body: Any, http_ok: bool) -> HealthReading:
    """Read a ``/health`` answer (its parsed JSON ``body``; ``http_ok``: the HTTP status was 2xx).

    - not a JSON object, or an object that is no health answer (an error envelope: a wrong token, a
      wrong URL): **unreachable**, with the error's message when it has one;
    - ``model_loaded`` is ``true`` (the boolean) and the HTTP status is OK: **healthy**;
    - ``status: unavailable`` *with* a reason: **unavailable** (the model cannot load);
    - anything else: **loading**, with the answer's reason, or ``"loading"`` (an unavailable without
      a reason is a backend whose load has not started yet: waiting helps).
    """
    if not isinstance(body, Mapping):
        return HealthReading(HealthState.UNREACHABLE, NOT_AN_OBJECT)
    if "model_loaded" not in body and "status" not in body:
        error = body.get("error")
        message = _text(error.get("message")) if isinstance(error, Mapping) else None
        return HealthReading(
            HealthState.UNREACHABLE, f"{NOT_A_HEALTH_ANSWER}: {message}" if message else NOT_A_HEALTH_ANSWER
        )
    reason = _text(body.get("reason"))
    if body.get("model_loaded") is True and http_ok:
        return HealthReading(HealthState.HEALTHY, None)
    if body.get("status") == HealthState.UNAVAILABLE and reason:
        return HealthReading(HealthState.UNAVAILABLE, reason)
    if reason is None and body.get("model_loaded") is True:  # loaded, yet an HTTP error: say so
        reason = HTTP_ERROR
    return HealthReading(HealthState.LOADING, reason or DEFAULT_LOADING)
