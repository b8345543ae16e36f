"""The options a backend publishes (issue #21): read back from a ``/health`` answer, and the one check
of a request's own options against them, run by the backend server and by the orchestrator alike.

A backend's own options are ``prompt`` and ``mode`` when sent and every field that is not a common
option (:data:`shared.options.COMMON_FIELDS`) nor the orchestrator's (``ORCHESTRATOR_FIELDS``): each
must be one the backend publishes (:meth:`shared.ocr_backend.OCRBackend.option_fields`), with a value
of its type, among its choices (case and surrounding spaces aside, as the backends read them) and
within its bounds. Anything else is 400 ``invalid_option`` naming the option and the backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.config import ConfigError, parse_bool
from shared.errors import InvalidOption
from shared.options import COMMON_OPTIONS, DOCUMENT_PARTS, ORCHESTRATOR_FIELDS, FormField, OCROptions

FIELD_TYPES = ("string", "integer", "boolean")
#: The options a backend publishes or not: refused unless it does.
OWN_COMMON = ("prompt", "mode")
#: The fields a backend may not publish: every backend's (handled before its own options), the
#: document's and the orchestrator's.
RESERVED = frozenset({*COMMON_OPTIONS, *DOCUMENT_PARTS, *ORCHESTRATOR_FIELDS}) - set(OWN_COMMON)
_ALWAYS = ", ".join(name for name in COMMON_OPTIONS if name not in OWN_COMMON)


def publish(fields: Sequence[FormField]) -> list[dict[str, Any]]:
    """A backend's fields as ``/health`` carries them (``options``)."""
    return [field.to_json() for field in fields]


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an integer: {value!r}")
    return value


def read_field(item: Any) -> FormField:
    """One published option back into a :class:`FormField`; ``ValueError`` when it is not one."""
    if not isinstance(item, Mapping):
        raise ValueError(f"an option is an object, got {item!r}")
    name, kind, description = item.get("name"), item.get("type"), item.get("description", "")
    choices = item.get("enum", [])
    if not isinstance(name, str) or not name or name in RESERVED:
        raise ValueError(f"bad option name {name!r}")
    if kind not in FIELD_TYPES or not isinstance(description, str):
        raise ValueError(f"option {name!r}: bad type or description")
    if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
        raise ValueError(f"option {name!r}: enum is not a list of strings")
    default = item.get("default")
    if default is not None and not isinstance(default, (str, int, bool)):
        raise ValueError(f"option {name!r}: bad default {default!r}")
    return FormField(
        name,
        kind,
        description,
        default,
        tuple(choices),
        _int_or_none(item.get("minimum")),
        _int_or_none(item.get("maximum")),
    )


def read_published(value: Any) -> tuple[FormField, ...] | None:
    """The options a health answer publishes; None when it has none in this shape (then the schema is
    unknown and nothing is checked against it)."""
    if not isinstance(value, list):
        return None
    try:
        return tuple(read_field(item) for item in value)
    except ValueError:
        return None


def check_value(backend: str, field: FormField, value: str) -> None:
    """400 naming the option and the backend unless ``value`` fits ``field``."""
    where = f"option '{field.name}' of backend '{backend}'"
    if field.type == "integer":
        try:
            number = int(value.strip())
        except ValueError:
            raise InvalidOption(f"{where} must be an integer, got {value!r}") from None
        low, high = field.minimum, field.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"between {low} and {high}" if low is not None and high is not None else None
            bounds = bounds or (f"at least {low}" if low is not None else f"at most {high}")
            raise InvalidOption(f"{where} must be {bounds}, got {number}")
    elif field.type == "boolean":
        try:
            parse_bool(field.name, value)
        except ConfigError:
            raise InvalidOption(f"{where} must be true or false, got {value!r}") from None
    if field.choices and value.strip().lower() not in {choice.lower() for choice in field.choices}:
        raise InvalidOption(f"{where} must be one of {', '.join(field.choices)}, got {value!r}")


def _names(fields: Sequence[FormField]) -> str:
    return ", ".join(field.name for field in fields) or "none"


def check_options(options: OCROptions, published: Mapping[str, Sequence[FormField] | None]) -> dict[str, OCROptions]:
    """``options`` checked against what each backend in ``published`` publishes (None: not known yet,
    nothing checked); the options each backend is to get.

    One backend: each of its own options must be one it publishes. Several (a comparison, where one
    set of options goes to all): each option must be published by one of them at least, its value
    must fit every backend that publishes it, and each backend gets only the ones it publishes.
    """
    own = options.own()
    known = {name: tuple(fields) for name, fields in published.items() if fields is not None}
    for backend, fields in known.items():
        by_name = {field.name: field for field in fields}
        for name, value in own.items():
            if name in by_name:
                check_value(backend, by_name[name], value)
    if known and len(known) == len(published):
        for name in own:
            if not any(name in {field.name for field in fields} for fields in known.values()):
                if len(known) == 1:
                    [(backend, fields)] = known.items()
                    raise InvalidOption(
                        f"option '{name}' is not accepted by backend '{backend}'; its options: {_names(fields)}"
                        f" (besides {_ALWAYS})"
                    )
                raise InvalidOption(
                    f"option '{name}' is not accepted by any of the backends {', '.join(known)}; their options: "
                    + "; ".join(f"{backend}: {_names(fields)}" for backend, fields in known.items())
                )
    return {
        backend: options if fields is None else options.keeping({field.name for field in fields})
        for backend, fields in published.items()
    }
