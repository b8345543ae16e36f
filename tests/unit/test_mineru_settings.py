"""MinerU configuration from the environment, and the variables handed to MinerU."""

import pytest

from backends.mineru_backend.settings import MineruConfig, apply_mineru_environment
from shared.config import ConfigError


def test_defaults():
    config = MineruConfig.from_env({})
    assert config == MineruConfig(
        device_mode="auto",
        model_dir="~/.mineru/models",
        tier="auto",
        ocr_mode="auto",
        vlm_server_url="",
        max_concurrency=1,
        tmp_dir=None,
    )


def test_every_variable_is_read():
    config = MineruConfig.from_env(
        {
            "MINERU_DEVICE_MODE": "cuda:0",
            "MINERU_MODEL_BASE_DIR": "/srv/models",
            "MINERU_TIER": "Basic",
            "MINERU_OCR_MODE": "txt",
            "MINERU_VLM_SERVER_URL": "http://127.0.0.1:30000",
            "MINERU_MAX_CONCURRENCY": "2",
            "MINERU_TMP_DIR": "/var/tmp/ocr",
        }
    )
    assert config == MineruConfig(
        device_mode="cuda:0",
        model_dir="/srv/models",
        tier="basic",
        ocr_mode="txt",
        vlm_server_url="http://127.0.0.1:30000",
        max_concurrency=2,
        tmp_dir="/var/tmp/ocr",
    )


@pytest.mark.parametrize(
    "env, gpu",
    [({}, "1"), ({"CUDA_VISIBLE_DEVICES": "3"}, "3"), ({"CUDA_VISIBLE_DEVICES": "3", "MINERU_GPU": "2"}, "2")],
)
def test_the_gpu_is_minerus_own_else_the_one_the_deployment_gave(env, gpu):
    apply_mineru_environment(MineruConfig(), env)
    assert env["CUDA_VISIBLE_DEVICES"] == gpu


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MINERU_TIER": "pro"}, "MINERU_TIER must be one of auto, flash, basic, standard, advanced, got 'pro'"),
        (
            {"MINERU_VLM_SERVER_URL": "127.0.0.1:30000"},
            "MINERU_VLM_SERVER_URL must be an http(s) URL of a MinerU VLM server such as http://127.0.0.1:30000 "
            "(no credentials, query or fragment), got '127.0.0.1:30000'",
        ),
        ({"MINERU_OCR_MODE": "x"}, "MINERU_OCR_MODE must be one of auto, txt, ocr, got 'x'"),
        ({"MINERU_MAX_CONCURRENCY": "0"}, "MINERU_MAX_CONCURRENCY must be at least 1, got 0"),
    ],
)
def test_bad_values_fail_at_start(env, message):
    with pytest.raises(ConfigError) as caught:
        MineruConfig.from_env(env)
    assert str(caught.value) == message


def test_minerus_environment_is_offline_on_the_configured_gpu_with_malloc_trim(monkeypatch):
    monkeypatch.setenv("HOME", "/home/ocr")
    environ = {"CUDA_VISIBLE_DEVICES": "0,1", "MINERU_GPU": "1", "PATH": "/bin"}
    apply_mineru_environment(MineruConfig(model_dir="~/models", device_mode="cuda"), environ)
    assert environ == {
        "PATH": "/bin",
        "MINERU_GPU": "1",
        "CUDA_VISIBLE_DEVICES": "1",
        "MINERU_MODEL_SOURCE": "local",
        "MINERU_MODEL_BASE_DIR": "/home/ocr/models",
        "MINERU_DEVICE_MODE": "cuda",
        "MINERU_MALLOC_TRIM": "1",
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:30000",
        "https://vlm.example.org/v1",
        "127.0.0.1:30000",
        "ftp://host",
        "http://user:secret@host",
        "http://host/?q=1",
        "http://host:port",
        "http:///nohost",
        "http://ho st",
    ],
)
def test_a_vlm_server_url_is_refused_at_start_exactly_when_minerus_own_config_refuses_it(url):
    # A URL MinerU refuses used to make every /health a 500 with pydantic's dump: now the process
    # stops at start with a plain message, and every URL we let through MinerU takes.
    from mineru.config import VlmConfig
    from pydantic import ValidationError

    try:
        VlmConfig(server_url=url)
        mineru_takes = True
    except ValidationError:
        mineru_takes = False
    try:
        MineruConfig.from_env({"MINERU_VLM_SERVER_URL": url})
        we_take = True
    except ConfigError:
        we_take = False
    assert we_take is mineru_takes
    assert mineru_takes is url.startswith(("http://127", "https://"))


@pytest.mark.parametrize("visible, control, device", [("0", True, "cuda"), ("", True, "cpu"), ("0", False, "cpu")])
def test_the_device_is_cuda_only_where_a_gpu_is_visible(monkeypatch, visible, control, device):
    from backends.mineru_backend import settings

    monkeypatch.setattr(settings.Path, "exists", lambda self: control)
    env = {"CUDA_VISIBLE_DEVICES": visible} if visible else {"CUDA_VISIBLE_DEVICES": "-1"}
    assert MineruConfig().mineru_environment(env)["MINERU_DEVICE_MODE"] == device
    assert MineruConfig(device_mode="cuda:1").mineru_environment(env)["MINERU_DEVICE_MODE"] == "cuda:1"
