"""The project's packaging: an extra per role, and no folder of ours shadowing a real package."""
from __future__ import annotations

import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Import names of what the backends load; a folder of ours with one of these names on sys.path
# (the repository root is on it under gunicorn and pytest) would be imported instead.
THIRD_PARTY = {"mineru", "vllm", "torch", "transformers", "rapidocr_onnxruntime", "pytesseract", "flask",
               "requests", "pymupdf", "fitz", "PIL", "gunicorn", "deepseek_ocr", "python_multipart"}


def test_an_extra_per_role():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert {"orchestrator", "rapidocr", "deepseek-ocr", "mineru", "test"} <= set(project["optional-dependencies"])


def test_no_top_level_folder_shadows_a_real_package():
    ours = {path.name for path in REPO_ROOT.iterdir() if path.is_dir()}
    assert not ours & THIRD_PARTY


def test_backend_packages_live_under_backends():
    names = {path.name for path in (REPO_ROOT / "backends").iterdir() if (path / "__init__.py").exists()}
    assert "rapidocr_backend" in names and "mineru" not in names


def test_the_mineru_pin_is_the_same_everywhere():
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    requirements = (REPO_ROOT / "backends" / "mineru_backend" / "requirements.txt").read_text().splitlines()
    assert extras["mineru"] == ["mineru[full]==4.0.12"] and "mineru==4.0.12" in extras["test"]
    assert "mineru[full]==4.0.12" in requirements
