"""startup.sh with access configured (API keys, backend token): it still sees every service become
ready (its health polls send the token and a key), and the running system enforces both."""

from __future__ import annotations

import os
import sys

import pytest
import requests

from tests.integration.test_deployment_scripts import STARTUP, STOP, output_of, run_script
from tests.support.documents import text_image
from tests.support.processes import plan_ports

pytestmark = pytest.mark.integration


def test_startup_with_api_keys_and_backend_token(tmp_path):
    ports = plan_ports()
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "ORCHESTRATOR_HOST": "127.0.0.1",
        "RUN_DIR": str(tmp_path / "run"),
        "LOG_DIR": str(tmp_path / "logs"),
        "VENV": sys.prefix,
        "DEEPSEEK_VENV": str(tmp_path / "none"),
        "MINERU_VENV": str(tmp_path / "none"),
        "HEALTH_INTERVAL": "0.5",
        "STARTUP_TIMEOUT": "60",
        "STOP_TIMEOUT": "15",
        "ORCHESTRATOR_API_KEYS": "first-key,second-key",
        "BACKEND_TOKEN": "between-us",
    }
    env.pop("OCR_BACKENDS", None)
    url = f"http://127.0.0.1:{ports['ORCHESTRATOR_PORT']}"
    backend = f"http://127.0.0.1:{ports['RAPIDOCR_PORT']}"
    try:
        started = run_script(STARTUP, env, timeout=120)
        assert started.returncode == 0, output_of(started)
        page = {"file": ("page.png", text_image(["Hello keys"]))}
        assert requests.post(url + "/ocr", files=page, data={"backend": "rapidocr"}, timeout=60).status_code == 401
        answer = requests.post(
            url + "/ocr",
            files=page,
            data={"backend": "rapidocr"},
            headers={"Authorization": "Bearer second-key"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert requests.get(backend + "/health", timeout=5).status_code == 401
        assert requests.get(url + "/live", timeout=5).status_code == 200
    finally:
        stopped = run_script(STOP, env, timeout=90)
    assert stopped.returncode == 0, output_of(stopped)
