"""How MinerU is deployed: on the CPU with flash where its GPU is not there, from a light venv."""

from pathlib import Path

from deployment.plan import make_plan
from deployment.smoke_gate import limits_for
from shared.catalogue import catalogue

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "backends" / "mineru_backend"


def requirements(name: str) -> list[str]:
    lines = (FOLDER / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith(("#", "-r"))]


def test_mineru_runs_without_its_gpu_and_is_smoke_checked_with_the_pdf_only():
    entry = catalogue().backends["mineru"]
    assert entry.without_gpu is True and entry.gpu == 1 and entry.smoke_pdf is True
    assert entry.smoke_image is False  # an image needs OCR models a CPU machine may not have
    assert all(other.smoke_image for name, other in catalogue().backends.items() if name != "mineru")
    limits = limits_for(make_plan({}, read_service_env=False), "mineru")
    assert (limits.pdf, limits.image) == (True, False)
    assert make_plan({}, read_service_env=False).get("mineru").not_startable(0) != "no GPU 1 here (nvidia-smi lists 0)"


def test_the_cpu_venv_is_the_base_package_at_the_gpu_venvs_pin():
    assert requirements("requirements.txt") == ["mineru[full]==4.0.12"]
    assert requirements("requirements-cpu.txt") == ["mineru==4.0.12"]  # no torch, no vLLM
    assert "-r ../server-requirements.txt" in (FOLDER / "requirements-cpu.txt").read_text().splitlines()
