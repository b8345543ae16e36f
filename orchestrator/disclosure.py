"""What ``/health`` and ``/backends`` tell a caller who is not an operator: no internal addresses
and no filesystem paths (where the backends listen, where their models lie), which only help an
attacker. An operator key (``ORCHESTRATOR_OPERATOR_KEYS``) sees everything."""

from __future__ import annotations

import re
from typing import Any

from flask import g

#: URLs and absolute paths inside any text value (a reason, a detail).
_INTERNAL = re.compile(r"(?:dns\+)?https?://[^\s,;)'\"]*[^\s,;)'\":.]|(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*")
HIDDEN = "<internal>"
#: Keys whose whole value is an address.
_ADDRESS_KEYS = frozenset({"url", "source"})


def is_operator() -> bool:
    return bool(g.get("operator"))


def public_view(value: Any) -> Any:
    """``value`` (a backend's status as JSON) with addresses and paths replaced by ``<internal>``."""
    if isinstance(value, dict):
        return {key: HIDDEN if key in _ADDRESS_KEYS else public_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [public_view(item) for item in value]
    if isinstance(value, str):
        return _INTERNAL.sub(HIDDEN, value)
    return value


def for_caller(value: Any) -> Any:
    return value if is_operator() else public_view(value)
