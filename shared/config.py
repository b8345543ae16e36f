"""Typed reading of configuration from the environment, with defaults.

Each process builds frozen dataclasses from these helpers once, at start, so a bad value fails
loudly at start-up instead of in the middle of a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class ConfigError(ValueError):
    """A configuration variable holds a value of the wrong kind."""


def _raw(env: Mapping[str, str] | None, name: str) -> str | None:
    value = (os.environ if env is None else env).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str, env: Mapping[str, str] | None = None) -> str:
    value = _raw(env, name)
    return default if value is None else value


def env_int(name: str, default: int, env: Mapping[str, str] | None = None, *, minimum: int | None = None) -> int:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(
    name: str, default: float, env: Mapping[str, str] | None = None, *, minimum: float | None = None
) -> float:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    value = _raw(env, name)
    return default if value is None else parse_bool(name, value)


def env_list(name: str, default: list[str], env: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(env, name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]
