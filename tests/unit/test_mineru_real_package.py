"""The real backend with the real mineru package and no model files (as on a CPU machine and in CI):
``mineru.parser.parse`` reads the generated born-digital PDFs at the flash tier, and everything that
needs models is refused with the exact command that installs them.

Runs in a fresh interpreter: MinerU reads its environment once, at import, and the backend must be
the one to set it. Also checks that each recording in ``tests/fixtures/mineru/`` is still what
MinerU answers (``python -m tests.fixtures.mineru.record`` writes them).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mineru import RECORDINGS, recorded
from tests.support.schema import validate

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).with_name("mineru-kit")

SCRIPT = r"""
import json, os, sys
from backends.mineru_backend.wsgi import app  # what gunicorn serves; loads (and warms up) in the foreground
from tests.support.documents import text_image
from tests.support.mineru_documents import report_pdf, truncated_pdf
from tests.support.multipart import multipart

client = app.test_client()
out = {"health": client.get("/health").get_json()}
for name, data, fields in [
    ("report", report_pdf(), {}),
    ("range_auto", report_pdf(), {"page_range": "2-3"}),
    ("range_txt", report_pdf(), {"page_range": "2-3", "ocr_mode": "txt"}),
    ("ocr", report_pdf(), {"ocr_mode": "ocr"}),
    ("basic", report_pdf(), {"tier": "basic"}),
    ("standard", report_pdf(), {"tier": "standard"}),
    ("image", text_image(["x"]), {}),
    ("image_txt", text_image(["x"]), {"ocr_mode": "txt"}),
    ("truncated", truncated_pdf(), {}),
]:
    body, content_type = multipart({"file": (name, data)}, fields)
    response = client.post("/ocr", data=body, content_type=content_type)
    out[name] = [response.status_code, response.get_json()]

# Each recording, parsed again by MinerU's own parse() under the environment the backend set.
import tempfile
import mineru.parser
from tests.support.mineru import RECORDINGS
out["recordings"] = {}
for recording in RECORDINGS.values():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "doc.pdf")
        with open(path, "wb") as handle:
            handle.write(recording.pdf())
        out["recordings"][recording.name] = mineru.parser.parse(path, **recording.settings()).to_dict()
out["env"] = {name: os.environ.get(name) for name in (
    "CUDA_VISIBLE_DEVICES", "MINERU_MODEL_SOURCE", "MINERU_MODEL_BASE_DIR", "MINERU_DEVICE_MODE", "MINERU_MALLOC_TRIM")}
from mineru.config import config
out["mineru_config"] = {"base_dir": str(config.model.base_dir), "source": str(config.model.source)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("mineru")
    for name in ("models", "home"):
        (base / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINERU_") and k != "CUDA_VISIBLE_DEVICES"}
    env.update(
        MINERU_MODEL_BASE_DIR=str(base / "models"),
        MINERU_HOME=str(base / "home"),
        MINERU_TMP_DIR=str(base / "uploads"),  # not there yet: the backend makes it
        MINERU_GPU="7",
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        BACKEND_BACKGROUND_LOAD="false",
    )
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return base, json.loads(completed.stdout.strip().splitlines()[-1])


def download(base: Path, tier: str) -> str:
    command = f"MINERU_MODEL_BASE_DIR={base / 'models'} {KIT} models download --tier {tier} --small-backend onnx"
    return command + (" --vlm-engine llama-cpp" if tier == "standard" else "")


def test_the_backend_sets_minerus_environment_before_importing_it(run):
    base, out = run
    assert out["env"] == {
        "CUDA_VISIBLE_DEVICES": "7",
        "MINERU_MODEL_SOURCE": "local",
        "MINERU_MODEL_BASE_DIR": str(base / "models"),
        "MINERU_DEVICE_MODE": "cpu",  # no GPU here: MinerU's ONNX and llama.cpp runtime
        "MINERU_MALLOC_TRIM": "1",
    }
    assert out["mineru_config"] == {"base_dir": str(base / "models"), "source": "local"}


def test_without_models_the_backend_is_healthy_at_flash_and_says_what_each_tier_needs(run):
    base, out = run
    health = out["health"]
    validate(health, "backend_health")
    assert health["status"] == "healthy" and health["model_loaded"] is True and health["reason"] is None
    assert health["default_tier"] == "flash" and health["model"] == "MinerU 4.0.12 (flash)"
    assert health["device"] == "cpu" and health["gpu_available"] is False
    assert health["tiers_ready"] == {"flash": True, "basic": False, "standard": False, "advanced": False}
    assert health["scans_ready"] is False
    onnx = base / "models" / "MinerU-4_models_onnx"
    basic = health["missing_models"]["basic"]
    assert basic.startswith(
        f"tier 'basic' needs model files that are not installed. Model repo MinerU-4_models_onnx is not ready "
        f"under {onnx}; missing: Layout/PP-DocLayoutV2/inference.onnx, "
    )
    assert basic.endswith(f". Run: {download(base, 'basic')}")
    standard = health["missing_models"]["standard"]
    assert "Model repo MinerU2.5-Pro-2605-1.2B-GGUF is not ready" in standard  # llama.cpp's VLM on a CPU
    assert standard.endswith(f". Run: {download(base, 'standard')}")
    assert set(health["missing_models"]) == {"basic", "standard", "advanced"}


def test_a_born_digital_pdf_is_parsed_by_minerus_real_parser(run):
    _, out = run
    status, body = out["report"]
    validate(body)
    assert status == 200 and body["model"] == "MinerU 4.0.12 (flash)"
    assert body["raw_result"]["mineru"]["content"] == recorded("report")
    assert [p["page"] for p in body["pages"]] == [1, 2, 3, 4]
    assert [[b["type"] for b in p["blocks"]] for p in body["pages"]] == [
        ["doc_title", "paragraph_title", "text", "table", "table_caption", "image", "image_caption", "page_number"],
        ["paragraph_title", "text", "page_number"],
        ["image"],
        ["paragraph_title", "text"],
    ]
    assert "data:" not in body["markdown"] and body["source_markdown"].count("](data:image/jpeg;base64,") == 2
    status, body = out["range_txt"]
    assert status == 200 and body["raw_result"]["mineru"]["content"] == recorded("report-pages-2-3")


@pytest.mark.parametrize(
    "case, tier",
    [("range_auto", "basic"), ("ocr", "basic"), ("image", "basic"), ("basic", "basic"), ("standard", "standard")],
)
def test_what_needs_models_is_a_503_with_the_command_that_installs_them(run, case, tier):
    # range_auto: MinerU itself classifies pages 2-3 (a scan and one sentence) as needing OCR and
    # finds the models missing while parsing (its FileNotFoundError used to be a 500).
    base, out = run
    status, body = out[case]
    validate(body)
    assert status == 503 and body["backend"] == "mineru" and body["error"]["code"] == "model_not_loaded"
    assert body["error"]["message"].endswith(f"Run: {download(base, tier)}")
    assert list((base / "uploads").iterdir()) == []


def test_an_image_with_ocr_mode_txt_and_a_pdf_pdfium_refuses_are_client_errors(run):
    _, out = run
    status, body = out["image_txt"]
    assert status == 400 and body["error"]["code"] == "invalid_option"
    status, body = out["truncated"]  # PyMuPDF repairs it; MinerU's pdfium refuses it (was a retryable 500)
    assert status == 422 and body["error"]["code"] == "corrupt_file" and body["error"]["retryable"] is False
    assert "pdfium" in body["error"]["message"]


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_each_recording_is_what_mineru_answers_now(run, name):
    _, out = run
    assert out["recordings"][name] == recorded(name), f"re-record: python -m tests.fixtures.mineru.record {name}"
