"""A VLM instance in the one catalogue: the commented example in deployment/services.toml (the
README's instructions) parses once uncommented, and the plan, supervisord's configuration and
setup.sh's declarations run it as two services, its model server first, on its GPU or not at all."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest
import tomllib

from deployment import supervisor_config as conf
from deployment.plan import REPO_ROOT, make_plan, shell_declarations
from shared.catalogue import CatalogueError, catalogue, parse_catalogue
from tests.support.vlm_example import example_text, with_example


def plan_with_example(tmp_path: Path, env: dict[str, str] | None = None):
    return make_plan(
        {"RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs"), "FRONT": "off", **(env or {})},
        parse_catalogue(with_example()),
        read_service_env=False,
    )


def test_the_shipped_catalogue_deploys_no_vlm_on_the_designs_two_gpus():
    assert all(entry.model_server is None for entry in catalogue().backends.values())
    assert "[backends.dots-ocr]" in example_text()


def test_the_readmes_entry_is_the_catalogues_example():
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index("```toml\n[backends.dots-ocr]") + len("```toml\n")
    shown = tomllib.loads(readme[start : readme.index("```", start)])
    assert shown == tomllib.loads(example_text())


def test_the_example_entry_parses_into_a_vlm_instance():
    entry = parse_catalogue(with_example()).backends["dots-ocr"]
    assert entry.model_server is not None
    server = entry.model_server
    assert (server.preset, server.model, server.port) == ("dots-ocr", "rednote-hilab/dots.ocr", 8110)
    assert server.served_model_name == "dots-ocr" and "--trust-remote-code" in server.server_args
    assert (entry.port, entry.gpu, entry.without_gpu) == (5010, 2, False)
    assert (entry.app, entry.venv) == ("backends.vlm_backend.wsgi:app", "venvs/vlm")  # from [vlm]
    assert (REPO_ROOT / entry.requirements).is_file() and (REPO_ROOT / entry.package).is_dir()
    assert (REPO_ROOT / entry.app.split(":")[0].replace(".", "/")).with_suffix(".py").is_file()
    from backends.vlm_backend.presets import presets

    assert server.preset in presets()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_port": None}, "[backends.dots-ocr]: missing 'model_port'"),
        ({"model": None}, "[backends.dots-ocr]: missing 'model'"),
        ({"server_args": ["--x", 1]}, "'server_args' must be a list of strings"),
        ({"model_port": 5000}, "two services share a port"),
    ],
)
def test_bad_vlm_entries_are_refused_with_the_reason(change, message):
    data = with_example()
    for key, value in change.items():
        if value is None:
            del data["backends"]["dots-ocr"][key]
        else:
            data["backends"]["dots-ocr"][key] = value
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(data)


def test_the_plan_runs_the_model_server_and_the_backend_pointed_at_it(tmp_path):
    plan = plan_with_example(tmp_path)
    server, backend = plan.get("dots-ocr-server"), plan.get("dots-ocr")
    names = [s.name for s in plan.services]
    assert names.index("dots-ocr-server") < names.index("dots-ocr")
    assert [b.name for b in plan.backends][-1] == "dots-ocr" and server not in plan.backends
    vllm = str(REPO_ROOT / "venvs" / "vlm" / "bin" / "vllm")
    assert server.argv == (
        vllm, "serve", "rednote-hilab/dots.ocr", "--host", "127.0.0.1", "--port", "8110",
        "--served-model-name", "dots-ocr",
        "--trust-remote-code", "--gpu-memory-utilization", "0.9", "--max-model-len", "24000",
    )  # fmt: skip
    assert server.environment["CUDA_VISIBLE_DEVICES"] == "2" and backend.environment["CUDA_VISIBLE_DEVICES"] == "2"
    assert {key: backend.environment[key] for key in backend.environment if key.startswith("VLM_")} == {
        "VLM_NAME": "dots-ocr",
        "VLM_PRESET": "dots-ocr",
        "VLM_SERVER_URL": "http://127.0.0.1:8110",
        "VLM_SERVED_MODEL": "dots-ocr",
    }
    assert "dots-ocr=http://127.0.0.1:5010" in plan.ocr_backends and "8110" not in plan.ocr_backends


def test_machine_settings_move_the_vlm_and_a_local_model_folder_is_used(tmp_path):
    (tmp_path / "models" / "rednote-hilab" / "dots.ocr").mkdir(parents=True)
    env = {"DOTS_OCR_MODEL_PORT": "9110", "DOTS_OCR_GPU": "0", "MODELS_DIR": str(tmp_path / "models")}
    plan = plan_with_example(tmp_path, env)
    server = plan.get("dots-ocr-server")
    assert server.port == 9110 and server.argv[2] == str(tmp_path / "models" / "rednote-hilab" / "dots.ocr")
    assert server.environment["CUDA_VISIBLE_DEVICES"] == "0"
    assert plan.get("dots-ocr").environment["VLM_SERVER_URL"] == "http://127.0.0.1:9110"


def test_without_its_gpu_both_are_skipped_and_with_it_both_start(tmp_path):
    venv = tmp_path / "vlm"
    (venv / "bin").mkdir(parents=True)
    for tool in ("gunicorn", "vllm"):
        (venv / "bin" / tool).write_text("")
    plan = plan_with_example(tmp_path, {"DOTS_OCR_VENV": str(venv)})
    for name in ("dots-ocr-server", "dots-ocr"):
        assert plan.get(name).not_startable(2) == "no GPU 2 here (nvidia-smi lists 2)"
        assert plan.get(name).not_startable(3) is None
    bare = plan_with_example(tmp_path, {"DOTS_OCR_VENV": str(tmp_path / "none")})
    assert bare.get("dots-ocr-server").not_startable(3).startswith("not installed: no ")


def test_supervisord_starts_the_model_server_first_on_the_gpu(tmp_path):
    from supervisor.options import ServerOptions

    plan = plan_with_example(tmp_path)
    plan.log_dir.mkdir()
    text = conf.render(plan, plan.services, logs=conf.LogSettings(), stop_timeout=30)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    server, backend = parser["program:dots-ocr-server"], parser["program:dots-ocr"]
    assert int(server["priority"]) < int(backend["priority"]) < int(parser["program:orchestrator"]["priority"])
    assert (
        " -m deployment.bound_to_parent " in server["command"] and " serve rednote-hilab/dots.ocr " in server["command"]
    )
    assert 'CUDA_VISIBLE_DEVICES="2"' in server["environment"]
    assert 'VLM_PRESET="dots-ocr"' in backend["environment"]
    path = conf.write(plan, text)
    options = ServerOptions()
    options.realize(["-c", str(path)])
    assert {"dots-ocr-server", "dots-ocr"} <= {group.name for group in options.process_group_configs}


def test_setup_builds_the_vlm_venv_only_where_its_gpu_is(tmp_path):
    text = shell_declarations(plan_with_example(tmp_path))
    script = (
        text + 'echo "${OWN_VENV_BACKENDS[*]} | ${SERVICE_NEEDS_GPU[dots-ocr]} | ${SERVICE_REQUIREMENTS[dots-ocr]}"\n'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    backends, gpu, requirements = (part.strip() for part in result.stdout.split("|"))
    assert backends.split() == ["deepseek-ocr", "mineru", "dots-ocr"] and gpu == "2"
    assert requirements == str(REPO_ROOT / "backends" / "vlm_backend" / "requirements.txt")
