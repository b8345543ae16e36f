"""A chat-completions request and answer checked against the real source of the pinned packages:
the openai client's request and response types and vLLM's OpenAI-compatible server (its
``ChatCompletionRequest``, response models, routes and ``vllm serve`` flags). Shared by the
DeepSeek-OCR ``openai`` engine's check (tests/support/deepseek_conformance.py) and the VLM backend's
(tests/conformance/test_vlm_conformance.py); each says what its body holds, this checks it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.api_check import find_class, find_class_anywhere, members, strings
from tests.support.wheel_source import WheelSource

OPENAI_TYPES = "openai/types/"
VLLM_PROTOCOL = "vllm/entrypoints/"
#: The openai client's type of each part of a request, by its kind (:func:`part_kinds`).
PART_TYPES = {
    "role=user": "ChatCompletionUserMessageParam",
    "role=system": "ChatCompletionSystemMessageParam",
    "type=image_url": "ChatCompletionContentPartImageParam",
    "url": "ImageURL",
    "type=text": "ChatCompletionContentPartTextParam",
}


@dataclass
class Report:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, problem: str | None = None) -> None:
        self.checked.append(what)
        if not ok:
            self.problems.append(problem or f"missing upstream: {what}")


def read_keys(function: ast.FunctionDef) -> set[str]:
    """String keys read with ``x["key"]`` or ``x.get("key")`` in ``function``."""
    keys = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            keys.add(node.slice.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(str(node.args[0].value))
    return keys


def fields_of(src: WheelSource, names: Iterable[str], under: str) -> set[str]:
    found: set[str] = set()
    for name in names:
        hit = find_class_anywhere(src, name, under)
        if hit:
            found |= members(src, hit)
    return found


def part_kinds(body: Any) -> dict[str, set[str]]:
    """The keys of each object of a request body by what it is: the request (``model``), a message
    (``role=<role>``), an image URL (``url``), a content part (``type=<type>``)."""
    found: dict[str, set[str]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            kind = next(
                (name for name in ("model", "url") if name in value),
                f"role={value['role']}" if "role" in value else f"type={value['type']}" if "type" in value else None,
            )
            if kind is not None:
                found.setdefault(kind, set()).update(str(key) for key in value)
            for item in value.values():
                walk(item)

    walk(body)
    return found


def check_request(
    report: Report,
    client: WheelSource,
    server: WheelSource,
    parts: Mapping[str, set[str]],
    *,
    openai_fields: Collection[str],
) -> None:
    """Every top-level key is a field of vLLM's ``ChatCompletionRequest``, those in
    ``openai_fields`` also of the openai client's ``CompletionCreateParams`` (the rest are vLLM's own,
    sent as ``extra_body`` by that client), and every part's keys are fields of its openai type."""
    request_openai = fields_of(client, ["CompletionCreateParamsBase"], OPENAI_TYPES)
    request_vllm = fields_of(server, ["ChatCompletionRequest"], VLLM_PROTOCOL)
    for key in sorted(parts["model"]):
        report.check(key in request_vllm, f"vLLM ChatCompletionRequest.{key}")
        if key in openai_fields:
            report.check(key in request_openai, f"openai CompletionCreateParams.{key}")
    unknown = set(parts) - {"model", *PART_TYPES}
    report.check(not unknown, f"request parts are among {sorted(PART_TYPES)}", f"parts of unknown kinds: {unknown}")
    for kind, keys in sorted(parts.items()):
        cls = PART_TYPES.get(kind)
        if cls is None:
            continue
        part_fields = fields_of(client, [cls], OPENAI_TYPES)
        for key in sorted(keys):
            report.check(key in part_fields, f"openai {cls}.{key}")
        literal = kind.split("=", 1)[1] if "=" in kind else None
        if literal is not None:
            hit = find_class_anywhere(client, cls, OPENAI_TYPES)
            report.check(
                hit is not None and literal in strings(hit.node), f"openai {cls}.{kind.split('=')[0]} == {literal!r}"
            )


def check_answer(report: Report, client: WheelSource, server: WheelSource, keys: Iterable[str]) -> None:
    """Keys read from a chat completion answer are fields on both sides' response models."""
    answer_openai = fields_of(
        client, ["ChatCompletion", "Choice", "ChatCompletionMessage", "CompletionUsage"], OPENAI_TYPES
    )
    answer_vllm = fields_of(
        server, ["ChatCompletionResponse", "ChatCompletionResponseChoice", "ChatMessage", "UsageInfo"], VLLM_PROTOCOL
    )
    for key in sorted(keys):
        report.check(key in answer_openai, f"openai chat completion answer field {key}")
        report.check(key in answer_vllm, f"vLLM chat completion answer field {key}")


def check_models_answer(report: Report, server: WheelSource, keys: Iterable[str]) -> None:
    models = fields_of(server, ["ModelList", "ModelCard"], VLLM_PROTOCOL)
    for key in sorted(keys):
        report.check(key in models, f"vLLM /v1/models answer field {key}")


def check_routes(report: Report, server: WheelSource, paths: Iterable[str]) -> None:
    routes: set[str] = set()
    for file in server._names:
        if file.startswith(VLLM_PROTOCOL) and file.endswith(".py") and "router" in server.text(file):
            routes |= strings(ast.parse(server.text(file)))
    for path in paths:
        report.check(path in routes, f"vllm serve route {path}")


def check_serve_flags(report: Report, server: WheelSource, flags: Iterable[str]) -> None:
    """``vllm serve`` flags are its engine's and frontend's fields (``--max-model-len`` is
    ``EngineArgs.max_model_len``): each flag used is one."""
    engine = find_class(server, "vllm.engine.arg_utils", "EngineArgs")
    frontend = find_class(server, "vllm.entrypoints.openai.cli_args", "FrontendArgs")
    known = (members(server, engine) if engine else set()) | (members(server, frontend) if frontend else set())
    for flag in sorted(set(flags)):
        report.check(flag.lstrip("-").replace("-", "_") in known, f"vllm serve {flag}")
