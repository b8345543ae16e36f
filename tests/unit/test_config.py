"""Typed configuration from the environment."""

import pytest

from orchestrator.config import DEFAULT_BACKENDS, OrchestratorConfig, parse_backends
from shared.backend_server import BackendServerConfig
from shared.config import ConfigError
from shared.uploads import UploadLimits


def test_defaults():
    config = OrchestratorConfig.from_env({})
    assert config.backends == DEFAULT_BACKENDS
    assert config.backends["deepseek-ocr"] == ["http://127.0.0.1:5000"]
    assert config.backends["mineru"] == ["http://127.0.0.1:5001"]
    assert config.replica_max_failures == 2
    assert config.default_backend == "rapidocr"
    assert config.limits == UploadLimits()


def test_backends_from_env():
    config = OrchestratorConfig.from_env(
        {
            "OCR_BACKENDS": "rapidocr=http://127.0.0.1:9002/, tesseract=http://10.0.0.5:5003",
            "OCR_DEFAULT_BACKEND": "tesseract",
            "CORS_ORIGINS": "https://a.example, https://b.example",
            "BACKEND_READ_TIMEOUT": "12.5",
            "OCR_MAX_UPLOAD_BYTES": "1000",
        }
    )
    assert config.backends == {"rapidocr": ["http://127.0.0.1:9002"], "tesseract": ["http://10.0.0.5:5003"]}
    assert config.default_backend == "tesseract"
    assert config.cors_origins == ["https://a.example", "https://b.example"]
    assert config.read_timeout == 12.5 and config.limits.max_bytes == 1000


def test_replicas_from_env():
    config = OrchestratorConfig.from_env(
        {
            "OCR_BACKENDS": "rapidocr=http://a:5002/ | http://b:5002,mineru=dns+http://mineru-replicas:5001",
            "REPLICA_MAX_FAILURES": "3",
        }
    )
    assert config.backends == {
        "rapidocr": ["http://a:5002", "http://b:5002"],
        "mineru": ["dns+http://mineru-replicas:5001"],
    }
    assert config.replica_max_failures == 3


@pytest.mark.parametrize(
    "spec",
    [
        "rapidocr",
        "=http://x",
        "rapidocr=ftp://x",
        " , ",
        "rapidocr=http://a|",
        "rapidocr=http://a|ftp://b",
        "rapidocr=http://a|http://a",
        "rapidocr=http://a,rapidocr=http://b",
    ],
)
def test_bad_backend_spec(spec):
    with pytest.raises(ConfigError):
        parse_backends(spec)


@pytest.mark.parametrize(
    "env",
    [
        {"OCR_DEFAULT_BACKEND": "nope"},
        {"BACKEND_READ_TIMEOUT": "soon"},
        {"OCR_MAX_UPLOAD_BYTES": "0"},
    ],
)
def test_bad_values_fail_at_start(env):
    with pytest.raises(ConfigError):
        OrchestratorConfig.from_env(env)


def test_backend_server_config():
    config = BackendServerConfig.from_env({"BACKEND_MAX_CONCURRENCY": "4", "OCR_MAX_PDF_PAGES": "7"})
    assert config.max_concurrency == 4 and config.limits.max_pdf_pages == 7
    assert BackendServerConfig.from_env({}).max_concurrency is None


@pytest.mark.parametrize("replicas", ["http://127.0.0.1:5002", []])
def test_backends_given_in_code_must_be_lists_of_urls(replicas):
    with pytest.raises(ConfigError, match="list of one or more replica URLs"):
        OrchestratorConfig(backends={"rapidocr": replicas})
