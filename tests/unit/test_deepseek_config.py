"""DeepSeek-OCR's configuration from the environment, and the GPU pin applied before torch loads."""

import pytest

from backends.deepseek_ocr.config import DeepSeekConfig
from shared.config import ConfigError
from shared.gpu_pin import pin_gpu


def test_defaults():
    config = DeepSeekConfig.from_env({})
    assert (config.engine, config.model, config.gpu, config.max_tokens) == (
        "vllm",
        "deepseek-ai/DeepSeek-OCR",
        "0",
        8192,
    )
    assert config.concurrency == config.max_num_seqs == 32


def test_values_from_the_environment():
    config = DeepSeekConfig.from_env(
        {
            "DEEPSEEK_ENGINE": "Transformers",
            "DEEPSEEK_MODEL": "/models/DeepSeek-OCR-2",
            "DEEPSEEK_GPU": "2",
            "DEEPSEEK_MAX_TOKENS": "4096",
            "DEEPSEEK_GPU_MEMORY_UTILIZATION": "0.6",
            "DEEPSEEK_MAX_NUM_SEQS": "8",
            "DEEPSEEK_OPENAI_URL": "http://gpu:8000/",
            "DEEPSEEK_PAGE_TIMEOUT": "90",
        }
    )
    assert config.engine == "transformers" and config.model == "/models/DeepSeek-OCR-2" and config.gpu == "2"
    assert (config.max_tokens, config.gpu_memory_utilization, config.max_num_seqs) == (4096, 0.6, 8)
    assert config.openai_url == "http://gpu:8000" and config.page_timeout == 90.0
    assert config.concurrency == 1  # the remote code runs one page at a time


@pytest.mark.parametrize(
    "env",
    [
        {"DEEPSEEK_ENGINE": "tensorrt"},
        {"DEEPSEEK_GPU_MEMORY_UTILIZATION": "1.5"},
        {"DEEPSEEK_MAX_TOKENS": "many"},
        {"DEEPSEEK_MAX_NUM_SEQS": "0"},
    ],
)
def test_bad_values_fail_at_start(env):
    with pytest.raises(ConfigError):
        DeepSeekConfig.from_env(env)


def test_gpu_pin():
    env = {"DEEPSEEK_GPU": "3"}
    assert pin_gpu("DEEPSEEK_GPU", "0", env) == "3" and env["CUDA_VISIBLE_DEVICES"] == "3"
    env = {"CUDA_VISIBLE_DEVICES": "1"}
    assert pin_gpu("DEEPSEEK_GPU", "0", env) == "1"  # set by whoever started us: kept
    env = {}
    assert pin_gpu("DEEPSEEK_GPU", "0", env) == "0"
    env = {"DEEPSEEK_GPU": "2", "CUDA_VISIBLE_DEVICES": "1"}
    assert pin_gpu("DEEPSEEK_GPU", "0", env) == "2"
