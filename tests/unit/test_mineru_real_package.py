"""The real parser path with the real mineru package and no models installed (as in CI).

Runs in a fresh interpreter: MinerU reads its environment once, at import, and the backend must be
the one to set it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.schema import validate

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, os
from backends.mineru_backend.wsgi import app  # what gunicorn serves; loads in the foreground here
from tests.support.documents import text_image, text_pdf
from tests.support.multipart import multipart

client = app.test_client()
out = {"health": client.get("/health").get_json()}
for name, data, fields in [("image", text_image(["x"]), {}), ("pdf", text_pdf([["x"]]), {"tier": "flash"})]:
    body, content_type = multipart({"file": (name, data)}, fields)
    response = client.post("/ocr", data=body, content_type=content_type)
    out[name] = [response.status_code, response.get_json()]

# MinerU's own parse() under the environment the backend set: it must agree that models are missing.
import mineru.parser
path = os.path.join(os.environ["MINERU_TMP_DIR"], "page.pdf")
with open(path, "wb") as handle:
    handle.write(text_pdf([["x"]]))
try:
    mineru.parser.parse(path, tier="basic")
    out["parse"] = "parsed"
except Exception as exc:
    out["parse"] = [type(exc).__name__, str(exc)]
os.unlink(path)
out["env"] = {name: os.environ.get(name) for name in (
    "CUDA_VISIBLE_DEVICES", "MINERU_MODEL_SOURCE", "MINERU_MODEL_BASE_DIR", "MINERU_DEVICE_MODE", "MINERU_MALLOC_TRIM")}
from mineru.config import config
out["mineru_config"] = {"base_dir": str(config.model.base_dir), "source": str(config.model.source)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("mineru")
    for name in ("models", "home", "uploads"):
        (base / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINERU_") and k != "CUDA_VISIBLE_DEVICES"}
    env.update(
        MINERU_MODEL_BASE_DIR=str(base / "models"),
        MINERU_HOME=str(base / "home"),
        MINERU_TMP_DIR=str(base / "uploads"),
        MINERU_GPU="7",
        MINERU_DEVICE_MODE="cpu",
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        BACKEND_BACKGROUND_LOAD="false",
    )
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return base, json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_backend_sets_minerus_environment_before_importing_it(run):
    base, out = run
    assert out["env"] == {
        "CUDA_VISIBLE_DEVICES": "7",
        "MINERU_MODEL_SOURCE": "local",
        "MINERU_MODEL_BASE_DIR": str(base / "models"),
        "MINERU_DEVICE_MODE": "cpu",
        "MINERU_MALLOC_TRIM": "1",
    }
    assert out["mineru_config"] == {"base_dir": str(base / "models"), "source": "local"}


def test_without_models_health_gives_minerus_reason_and_the_download_command(run):
    base, out = run
    health = out["health"]
    validate(health, "backend_health")
    assert health["model_loaded"] is False and health["status"] == "unavailable"
    reason = health["reason"]
    onnx = base / "models" / "MinerU-4_models_onnx"
    assert reason.startswith(
        f"tier 'standard' needs model files that are not installed. Model repo "
        f"MinerU-4_models_onnx is not ready under {onnx}; missing: Layout/PP-DocLayoutV2/inference.onnx, "
    )
    assert "OCR/paddleocr/ch_PP-OCRv6_tiny_det_infer.onnx" in reason
    assert "Model repo MinerU2.5-Pro-2605-1.2B" in reason  # the VLM weights for standard
    assert reason.endswith("Run: mineru-kit models download --tier standard")
    assert health["tiers_ready"] == {"flash": False, "basic": False, "standard": False, "advanced": False}
    assert health["mineru_version"] == "4.0.12" and health["model"] == "MinerU 4.0.12 (standard)"


def test_without_models_ocr_requests_get_503_with_that_reason(run):
    base, out = run
    for name in ("image", "pdf"):
        status, body = out[name]
        validate(body)
        assert status == 503 and body["backend"] == "mineru"
        assert body["error"]["code"] == "model_not_loaded"
        assert body["error"]["message"] == f"mineru model is not loaded: {out['health']['reason']}"
    assert list((base / "uploads").iterdir()) == []


def test_minerus_own_parser_agrees_the_models_are_missing(run):
    base, out = run
    kind, message = out["parse"]
    assert kind == "FileNotFoundError"
    assert message.startswith(f"Model repo MinerU-4_models_onnx is not ready under {base / 'models'}")
