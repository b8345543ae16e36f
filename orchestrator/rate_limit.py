"""A per-client token bucket (in this process): ``per_minute`` requests on average, ``burst`` at once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    #: Clients remembered at once; the least recently seen are forgotten first (bounded memory).
    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            if wait == 0.0:
                tokens -= 1
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait
