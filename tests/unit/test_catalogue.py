"""The one catalogue of services (deployment/services.toml): it parses, refuses bad entries, and every
place that names the services reads it or agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

from orchestrator.config import DEFAULT_BACKENDS, OrchestratorConfig
from shared.catalogue import CATALOGUE_PATH, CatalogueError, catalogue, parse_catalogue
from tests.support import processes
from tests.support.processes import REPO_ROOT

SERVICES = catalogue()


def raw() -> dict:
    return tomllib.loads(CATALOGUE_PATH.read_text())


def test_the_catalogue_lists_the_designs_services():
    ports = {name: entry.port for name, entry in SERVICES.backends.items()}
    assert ports == {"rapidocr": 5002, "tesseract": 5003, "deepseek-ocr": 5000, "mineru": 5001}
    assert SERVICES.orchestrator.port == 8080 and SERVICES.default_backend == "rapidocr"
    assert {name: entry.gpu for name, entry in SERVICES.backends.items()} == {
        "rapidocr": None,
        "tesseract": None,
        "deepseek-ocr": 0,
        "mineru": 1,
    }
    assert SERVICES.installed_extras() == ["orchestrator", "deployment", "rapidocr", "tesseract"]


@pytest.mark.parametrize("name", sorted(SERVICES.backends))
def test_each_entry_names_what_exists(name):
    entry = SERVICES.backends[name]
    module = entry.app.split(":")[0]
    assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file(), entry.app
    assert (REPO_ROOT / entry.package).is_dir()
    assert module.startswith(entry.package.replace("/", ".") + ".")
    assert (REPO_ROOT / "deployment" / "docker" / f"{entry.container_image}.Dockerfile").is_file()
    if entry.requirements:
        assert (REPO_ROOT / entry.requirements).is_file()
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in entry.extras + SERVICES.main_extras:
        assert extra in pyproject, extra
    assert 0 < entry.smoke_max_cer < 1


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("backends", "rapidocr", "port"), True, "'port' is True"),
        (("backends", "rapidocr", "port"), 5003, "two services share a port"),
        (("backends", "rapidocr", "device"), "gpu", 'say "cpu" or a GPU index'),
        (("backends", "rapidocr", "venv"), "venvs/x", "give 'venv' and 'requirements' together"),
        (("backends", "tesseract", "env_prefix"), "RAPIDOCR", "its own env_prefix"),
        (("defaults", "default_backend"), "nope", "default_backend 'nope' is not a backend"),
        (("backends", "mineru", "slice_pages"), 0, "'slice_pages' must be at least 1"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(path, value, message):
    data = raw()
    table = data
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(data)


def test_a_missing_field_is_named():
    data = raw()
    del data["backends"]["mineru"]["app"]
    with pytest.raises(CatalogueError, match=r"\[backends.mineru\]: missing 'app'"):
        parse_catalogue(data)


# -- every place that names the services ---------------------------------------------------------


def test_orchestrator_defaults_come_from_the_catalogue():
    config = OrchestratorConfig.from_env({})
    assert {name: [f"http://127.0.0.1:{entry.port}"] for name, entry in SERVICES.backends.items()} == DEFAULT_BACKENDS
    assert config.backends == DEFAULT_BACKENDS and config.default_backend == SERVICES.default_backend
    for name, entry in SERVICES.backends.items():
        assert config.slice_size(name) == entry.slice_pages and config.concurrency_for(name) == entry.pdf_concurrency
    assert config.slice_size("not-catalogued") == SERVICES.slice_pages
    overridden = OrchestratorConfig.from_env({"PDF_SLICE_PAGES": "mineru=3", "PDF_CONCURRENCY": "rapidocr=5"})
    assert overridden.slice_size("mineru") == 3 and overridden.concurrency_for("rapidocr") == 5


def test_the_test_helpers_start_the_catalogues_apps():
    catalogued = {name: entry.app for name, entry in SERVICES.backends.items()}
    assert catalogued | {"vlm": processes.VLM_APP} == processes.BACKEND_APPS


def words_naming_backends(text: str) -> set[str]:
    return set(re.findall(r"\b(deepseek-ocr|mineru|rapidocr|tesseract)\b", text))


@pytest.mark.parametrize(
    "script", ["lib.sh", "startup.sh", "stop.sh", "status.sh", "deploy.sh", "remote_deploy.sh", "smoke", "systemd-unit"]
)
def test_deployment_scripts_name_no_backend(script):
    """The scripts take the services from the catalogue (through deployment/plan.py): none lists them."""
    code = "\n".join(
        line
        for line in (REPO_ROOT / "deployment" / script).read_text().splitlines()
        if not line.lstrip().startswith("#")
    )
    assert not words_naming_backends(code), script


def test_setup_names_only_catalogued_backends_for_their_model_downloads():
    """setup.sh's one backend-specific part is how each model is downloaded (each has its own tool)."""
    text = (REPO_ROOT / "deployment" / "setup.sh").read_text()
    body = text[text.index("download_models() {") : text.index("\nmain() {")]
    rest = text.replace(body, "")
    code = "\n".join(line for line in rest.splitlines() if not line.lstrip().startswith("#"))
    assert not words_naming_backends(code)
    assert words_naming_backends(body) <= set(SERVICES.backends)


def test_the_web_client_names_only_catalogued_backends():
    """It lists the backends and their options from /backends; where it names a backend (how its
    markdown is written) that is a catalogued one."""
    for path in (REPO_ROOT / "web-client" / "src").rglob("*.ts*"):
        if ".test." in path.name:
            continue
        names = set(re.findall(r'"([a-z][a-z0-9-]*-ocr|mineru|rapidocr|tesseract)"', path.read_text()))
        assert names <= set(SERVICES.backends), (path, names)


def test_service_env_example_uses_the_catalogues_prefixes():
    text = (REPO_ROOT / "deployment" / "service.env.example").read_text()
    prefixes = {entry.env_prefix for entry in SERVICES.backends.values()} | {
        "ORCHESTRATOR",
        "OCR",
        "MODELS",
        "VENV",
        "BACKEND",
    }
    for variable in re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE):
        assert variable.split("_")[0] in prefixes, variable


def test_a_new_backend_is_one_entry(tmp_path: Path):
    """An entry added to the catalogue reaches the orchestrator's defaults and the deployment plan."""
    from deployment.plan import make_plan

    data = raw()
    data["backends"]["newocr"] = {**data["backends"]["tesseract"], "env_prefix": "NEWOCR", "port": 5009}
    extended = parse_catalogue(data)
    assert extended.default_urls()["newocr"] == ["http://127.0.0.1:5009"]
    plan = make_plan({"NEWOCR_PORT": "6009"}, extended, read_service_env=False)
    assert plan.get("newocr").port == 6009 and "newocr=http://127.0.0.1:6009" in plan.ocr_backends
