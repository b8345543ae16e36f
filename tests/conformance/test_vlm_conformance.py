"""The VLM backend's requests against the real source of the pinned packages (the openai client and
the vLLM wheel of backends/deepseek_ocr/constraints.txt, which venvs/vlm is built with): the body it
sends for every preset and every mode, the answer fields it reads, the routes it calls and the
``vllm serve`` flags the deployment passes. Read with ``ast`` (tests/support/chat_conformance.py);
an upstream rename fails here, as the last test shows on the real source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PIL import Image

from backends.vlm_backend import chat
from backends.vlm_backend.chat import chat_body
from backends.vlm_backend.presets import presets
from backends.vlm_backend.presets.base import Sampling
from deployment.plan import make_plan
from shared.catalogue import parse_catalogue
from tests.support.api_check import strings
from tests.support.chat_conformance import (
    Report,
    check_answer,
    check_models_answer,
    check_request,
    check_routes,
    check_serve_flags,
    part_kinds,
    read_keys,
)
from tests.support.vlm_example import with_example
from tests.support.wheel_source import REPO_ROOT, WheelSource

CHAT = REPO_ROOT / "backends" / "vlm_backend" / "chat.py"


def bodies() -> list[dict]:
    """What the backend sends, for every preset and mode (a system message where a mode has one)."""
    image = Image.new("RGB", (56, 56))
    return [
        chat_body("served", image, mode.prompt, preset.sampling, preset.sampling.max_tokens, mode.system)
        for preset in presets().values()
        for mode in preset.modes.values()
    ]


def merged_parts() -> dict[str, set[str]]:
    parts: dict[str, set[str]] = {}
    for body in bodies():
        for kind, keys in part_kinds(body).items():
            parts.setdefault(kind, set()).update(keys)
    return parts


#: The fields every body has (the rest are a preset's sampling): OpenAI's own, so any
#: OpenAI-compatible server takes them.
OPENAI_FIELDS = set(chat_body("m", Image.new("RGB", (28, 28)), "p", Sampling(top_p=0.5), 16))


def chat_function(name: str) -> ast.FunctionDef:
    tree = ast.parse(CHAT.read_text())
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def serve_flags(tmp_path: Path) -> list[str]:
    """The flags of the model server the catalogue's example entry gets from the plan."""
    plan = make_plan(
        {"RUN_DIR": str(tmp_path), "LOG_DIR": str(tmp_path), "FRONT": "off"},
        parse_catalogue(with_example()),
        read_service_env=False,
    )
    return [word for word in plan.get("dots-ocr-server").argv if word.startswith("--")]


def check(client: WheelSource, server: WheelSource, flags: list[str]) -> Report:
    report = Report()
    check_request(report, client, server, merged_parts(), openai_fields=OPENAI_FIELDS)
    check_answer(report, client, server, read_keys(chat_function("read_answer")))
    check_models_answer(report, server, read_keys(chat_function("served_models")))
    check_routes(report, server, (chat.MODELS_PATH, chat.CHAT_PATH, chat.HEALTH_PATH))
    check_serve_flags(report, server, flags)
    return report


def test_every_presets_request_and_the_deployments_flags_are_what_the_pinned_packages_take(
    openai_source, vllm_source, tmp_path
):
    parts = merged_parts()
    assert {"role=system", "role=user", "type=image_url", "type=text", "url"} <= set(parts)
    assert {"repetition_penalty", "top_k", "skip_special_tokens", "stop"} <= parts["model"]  # presets' own
    report = check(openai_source, vllm_source, serve_flags(tmp_path))
    assert report.problems == []
    assert len(report.checked) >= 40, report.checked


# (side, module in the wheel, text there, what it becomes upstream, the check that must catch it)
UPSTREAM_CHANGES = [
    ("openai", "openai.types.chat.completion_create_params", "max_completion_tokens", "max_output_tokens", "openai"),
    ("server", "vllm.entrypoints.openai.chat_completion.protocol", "repetition_penalty", "rep_penalty", "repetition"),
    ("server", "vllm.entrypoints.openai.chat_completion.protocol", "skip_special_tokens", "skip_special", "skip_"),
    ("server", "vllm.engine.arg_utils", "served_model_name", "model_names", "--served-model-name"),
    ("server", "vllm.entrypoints.openai.cli_args", "port: int", "listen_port: int", "--port"),
    ("openai", "openai.types.chat.chat_completion_system_message_param", '"system"', '"developer"', "system"),
]


@pytest.mark.parametrize("side, module, old, new, caught", UPSTREAM_CHANGES, ids=[c[2] for c in UPSTREAM_CHANGES])
def test_an_upstream_rename_fails_a_check(openai_source, vllm_source, tmp_path, side, module, old, new, caught):
    source = openai_source if side == "openai" else vllm_source
    file = source.file_of(module)
    assert file is not None, module
    text = source.text(file)
    assert old in text, f"{old!r} is not in {file}: update this change to the pinned version"
    changed = source.with_replaced(file, text.replace(old, new))
    client, server = (changed, vllm_source) if side == "openai" else (openai_source, changed)
    problems = check(client, server, serve_flags(tmp_path)).problems
    assert any(caught in problem for problem in problems), problems


#: The architecture each preset's model runs as in vLLM (from the models' config.json; the
#: fine-tunes run through their base: olmOCR-2 and Nanonets-OCR2 on Qwen2.5-VL, Chandra on Qwen3-VL).
ARCHITECTURES = {
    "qwen2.5-vl": "Qwen2_5_VLForConditionalGeneration",
    "olmocr-2": "Qwen2_5_VLForConditionalGeneration",
    "nanonets-ocr2": "Qwen2_5_VLForConditionalGeneration",
    "qwen3-vl": "Qwen3VLForConditionalGeneration",
    "chandra": "Qwen3VLForConditionalGeneration",
    # datalab-to/chandra-ocr-2's model card: model type qwen3_5 (4B).
    "chandra-2": "Qwen3_5ForConditionalGeneration",
    "dots-ocr": "DotsOCRForCausalLM",
    "paddleocr-vl": "PaddleOCRVLForConditionalGeneration",
    "glm-ocr": "GlmOcrForConditionalGeneration",
    "granite-docling": "Idefics3ForConditionalGeneration",
}


def test_the_pinned_vllm_serves_every_presets_model_natively(vllm_source):
    assert set(ARCHITECTURES) == set(presets()), "a new preset: name the architecture its model runs as"
    registry = vllm_source.module("vllm.model_executor.models.registry")
    known = strings(registry) if registry else set()
    assert {name: arch for name, arch in ARCHITECTURES.items() if arch not in known} == {}
