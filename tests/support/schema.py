"""Validate response bodies against the published contract schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from shared.api_contract import load_schema

_SCHEMA = load_schema()
Draft202012Validator.check_schema(_SCHEMA)


def validate(body: Any, definition: str | None = None) -> None:
    """Raise if ``body`` does not match the contract (the whole, or one of its ``$defs``)."""
    schema = _SCHEMA if definition is None else {"$ref": f"#/$defs/{definition}", "$defs": _SCHEMA["$defs"]}
    Draft202012Validator(schema).validate(body)
