"""The DeepSeek-OCR engines against the real source of the pinned packages (constraints.txt): the
vLLM wheel (``vllm.engine``, ``vllm.v1``, the model, the OpenAI server's protocol) and the openai
client's request and response types. The wheels are downloaded once without dependencies and
cached (tests/support/wheel_source.py); their source is read with ``ast``, nothing is imported.

A rename or a removed keyword upstream fails here: the last test plays such changes on the real
source and checks that each one is caught.
"""

from __future__ import annotations

import pytest

from tests.support.deepseek_conformance import check_openai, check_vllm
from tests.support.wheel_source import pins


def test_the_wheels_are_the_pinned_versions(vllm_source, openai_source):
    pinned = pins()
    assert f"vllm-{pinned['vllm']}-" in vllm_source.path.name
    assert f"openai-{pinned['openai']}-" in openai_source.path.name
    assert f"Version: {pinned['vllm']}" in vllm_source.metadata()


def test_the_vllm_engine_uses_only_what_the_pinned_vllm_has(vllm_source):
    report = check_vllm(vllm_source)
    assert report.problems == []
    assert len(report.checked) >= 60, report.checked  # imports, keywords, fields, reasons, env, NVML, pins


def test_the_openai_engine_sends_and_reads_only_fields_both_sides_have(openai_source, vllm_source):
    report = check_openai(openai_source, vllm_source)
    assert report.problems == []
    assert len(report.checked) >= 35, report.checked


# (module in the wheel, text there, what it becomes upstream, the check that must catch it)
UPSTREAM_CHANGES = [
    ("vllm", "vllm.engine.arg_utils", "mm_processor_cache_gb", "mm_processor_cache_gib", "mm_processor_cache_gb"),
    ("vllm", "vllm.sampling_params", "extra_args", "extra_arguments", "SamplingParams(extra_args"),
    ("vllm", "vllm.v1.engine.async_llm|vllm.engine.protocol", "def errored", "def has_errored", "AsyncLLM.errored"),
    (
        "vllm",
        "vllm.v1.engine.async_llm",
        "request_id: str,\n        *,\n        prompt_text",
        "*,\n        request_id: str,\n        prompt_text",
        "generate() takes 2 positional arguments",
    ),
    ("vllm", "vllm.outputs", "finish_reason", "end_reason", "CompletionOutput.finish_reason"),
    ("vllm", "vllm.v1.engine", '"repetition")', '"repetition", "cancelled")', "finish reasons"),
    ("vllm", "vllm.model_executor.models.deepseek_ocr", '"window_size"', '"window"', "window_size"),
    ("vllm", "vllm.model_executor.models.registry", '"DeepseekOCR2ForCausalLM"', '"DSOCR2"', "DeepseekOCR2"),
    ("vllm", "vllm.engine.async_llm_engine", "AsyncLLMEngine = AsyncLLM", "AsyncEngine = AsyncLLM", "AsyncLLMEngine"),
    ("vllm", "vllm.third_party.pynvml", "def nvmlDeviceGetMemoryInfo(", "def nvmlDeviceGetMemInfo(", "MemoryInfo"),
    ("openai", "openai.types.chat.completion_create_params", "max_completion_tokens", "max_output_tokens", "openai"),
    ("server", "vllm.entrypoints.openai.chat_completion.protocol", "vllm_xargs", "vllm_extra", "vllm_xargs"),
]


@pytest.mark.parametrize(
    "side, module, old, new, caught", UPSTREAM_CHANGES, ids=[c[2].split("\n")[0] for c in UPSTREAM_CHANGES]
)
def test_an_upstream_rename_fails_a_check(vllm_source, openai_source, side, module, old, new, caught):
    source = openai_source if side == "openai" else vllm_source
    changed = source
    for name in module.split("|"):
        file = source.file_of(name)
        assert file is not None, name
        text = source.text(file)
        assert old in text, f"{old!r} is not in {file}: update this change to the pinned version"
        changed = changed.with_replaced(file, text.replace(old, new))
    if side == "vllm":
        problems = check_vllm(changed).problems
    elif side == "openai":
        problems = check_openai(changed, vllm_source).problems
    else:
        problems = check_openai(openai_source, changed).problems
    assert any(caught in problem for problem in problems), problems
