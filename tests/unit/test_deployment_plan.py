"""The deployment plan (catalogue + this machine's settings), the supervisord configuration and the
systemd unit generated from it, the system-package check of `make test`/`make run`, script modes."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deployment import supervision
from deployment import supervisor_config as conf
from deployment.plan import REPO_ROOT, PlanError, make_plan, shell_declarations


def plan_for(env: dict[str, str], tmp_path: Path):
    """The plan without the front unless ``env`` asks for it (whether nginx is installed here must
    not change what these tests see)."""
    return make_plan(
        {"RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs"), "FRONT": "off", **env},
        read_service_env=False,
    )


def test_defaults_are_the_catalogues(tmp_path):
    plan = plan_for({}, tmp_path)
    assert [s.name for s in plan.services] == ["rapidocr", "tesseract", "deepseek-ocr", "mineru", "orchestrator"]
    assert plan.get("deepseek-ocr").environment["CUDA_VISIBLE_DEVICES"] == "0"
    assert plan.get("mineru").environment["CUDA_VISIBLE_DEVICES"] == "1"
    assert "CUDA_VISIBLE_DEVICES" not in plan.get("rapidocr").environment
    assert plan.get("rapidocr").environment["MALLOC_ARENA_MAX"] == "2", "CPU backends: two malloc arenas"
    assert "MALLOC_ARENA_MAX" not in plan.get("deepseek-ocr").environment, "not measured on the GPU ones"
    assert plan.get("deepseek-ocr").venv == REPO_ROOT / "venvs" / "deepseek-ocr"
    assert plan.get("rapidocr").venv == REPO_ROOT / ".venv" and plan.get("rapidocr").bind == "127.0.0.1:5002"
    assert plan.orchestrator.bind == "127.0.0.1:8080", "loopback unless keys are set or the host is named"
    assert plan.orchestrator.local_url == "http://127.0.0.1:8080" and not plan.exposed_without_key
    assert plan.ocr_backends == (
        "rapidocr=http://127.0.0.1:5002,tesseract=http://127.0.0.1:5003,"
        "deepseek-ocr=http://127.0.0.1:5000,mineru=http://127.0.0.1:5001"
    )
    assert plan.get("deepseek-ocr").environment["BACKEND_THREADS"] == "64"


def test_machine_settings_override_the_catalogue(tmp_path):
    (tmp_path / "models" / "DeepSeek-OCR").mkdir(parents=True)
    plan = plan_for(
        {
            "RAPIDOCR_PORT": "7002",
            "DEEPSEEK_GPU": "3",
            "MINERU_VENV": "/opt/mineru",
            "MODELS_DIR": str(tmp_path / "models"),
            "ORCHESTRATOR_HOST": "::",
            "GPU_BACKEND_THREADS": "8",
            "FRONT": "off",
        },
        tmp_path,
    )
    assert plan.get("rapidocr").port == 7002 and "rapidocr=http://127.0.0.1:7002" in plan.ocr_backends
    assert plan.get("deepseek-ocr").environment["CUDA_VISIBLE_DEVICES"] == "3"
    assert plan.get("deepseek-ocr").environment["DEEPSEEK_MODEL"] == str(tmp_path / "models" / "DeepSeek-OCR")
    assert "MINERU_MODEL_BASE_DIR" not in plan.get("mineru").environment, "no such folder: not set"
    assert plan.get("mineru").venv == Path("/opt/mineru")
    assert plan.orchestrator.bind == "[::]:8080" and plan.orchestrator.local_url == "http://[::1]:8080"
    assert plan.exposed_without_key, "a named public host without keys: startup.sh warns"
    assert plan.get("mineru").environment["BACKEND_THREADS"] == "8"


def test_front_listens_on_the_public_port_and_the_orchestrator_behind_it_on_loopback(tmp_path):
    plan = plan_for({"FRONT": "nginx", "NGINX": "/usr/sbin/nginx"}, tmp_path)
    assert [s.name for s in plan.services][-2:] == ["orchestrator", "front"]
    assert plan.public is plan.front and plan.front.bind == "127.0.0.1:8080"
    assert plan.orchestrator.bind == "127.0.0.1:8079"
    assert plan.orchestrator.environment["ORCHESTRATOR_BEHIND_FRONT"] == "1"
    command = plan.front.command()
    assert command[1:3] == ["-m", "deployment.bound_to_parent"], "nginx exits with supervisord"
    assert command[3:] == [
        "/usr/sbin/nginx",
        "-e",
        str(tmp_path / "logs" / "front-error.log"),
        "-c",
        str(tmp_path / "run" / "nginx.conf"),
    ]
    assert plan.front.health_path == "/_front/health"


def test_public_address_is_loopback_unless_keys_are_set_or_the_host_is_named(tmp_path):
    keyed = plan_for({"FRONT": "nginx", "NGINX": "/usr/sbin/nginx", "ORCHESTRATOR_API_KEYS": "k1"}, tmp_path)
    assert keyed.public.bind == "0.0.0.0:8080" and not keyed.exposed_without_key
    assert keyed.orchestrator.bind == "127.0.0.1:8079", "behind the front it never leaves loopback"
    named = plan_for({"FRONT": "nginx", "NGINX": "/usr/sbin/nginx", "ORCHESTRATOR_HOST": "0.0.0.0"}, tmp_path)
    assert named.exposed_without_key
    with pytest.raises(PlanError, match="FRONT must be nginx or off"):
        plan_for({"FRONT": "apache"}, tmp_path)


def test_service_env_fills_what_the_environment_does_not_set(tmp_path):
    (tmp_path / "service.env").write_text("RAPIDOCR_PORT=7100\nTESSERACT_PORT=7101\n# a comment\nnot a line\n")
    environ = {"TESSERACT_PORT": "7200", "SERVICE_ENV_FILE": str(tmp_path / "service.env")}
    plan = make_plan(environ)
    assert plan.get("rapidocr").port == 7100 and plan.get("tesseract").port == 7200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAPIDOCR_PORT": "7000", "MINERU_PORT": "7000"}, "rapidocr and mineru are both set to port 7000"),
        ({"ORCHESTRATOR_PORT": "eighty"}, "ORCHESTRATOR_PORT must be a whole number"),
    ],
)
def test_bad_settings_are_refused(tmp_path, env, message):
    with pytest.raises(PlanError, match=message):
        plan_for(env, tmp_path)


def test_not_startable_says_why(tmp_path):
    plan = plan_for({"DEEPSEEK_VENV": str(tmp_path / "none"), "VENV": str(tmp_path / "empty")}, tmp_path)
    assert plan.get("deepseek-ocr").not_startable(2).startswith("not installed: no ")
    assert plan.get("rapidocr").not_startable(0).startswith("not installed")
    venv = tmp_path / "ds"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "gunicorn").write_text("")
    plan = plan_for({"DEEPSEEK_VENV": str(venv)}, tmp_path)
    assert plan.get("deepseek-ocr").not_startable(1) is None
    assert plan.get("deepseek-ocr").not_startable(0) == "no GPU 0 here (nvidia-smi lists 0)"


def test_shell_declarations_are_bash_that_setup_reads(tmp_path):
    text = shell_declarations(plan_for({"DEEPSEEK_PORT": "6000"}, tmp_path))
    needs = "${SERVICE_NEEDS_GPU[deepseek-ocr]} ${SERVICE_NEEDS_GPU[mineru]:-none} ${SERVICE_GPU[mineru]}"
    script = text + f'echo "${{SERVICE_PORT[deepseek-ocr]}} ${{OWN_VENV_BACKENDS[*]}} {needs}"\n'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    # mineru runs without its GPU (on the CPU, flash): pinned to GPU 1, needing none
    assert result.stdout.strip() == "6000 deepseek-ocr mineru 0 none 1"


# -- supervisord's configuration --------------------------------------------------------------------


def test_supervisor_config_runs_each_service_with_its_settings(tmp_path):
    plan = plan_for({"OCR_BACKENDS": "rapidocr=http://127.0.0.1:5002,x=http://h:1|http://h:2"}, tmp_path)
    services = [plan.get("rapidocr"), plan.get("deepseek-ocr"), plan.orchestrator]
    text = conf.render(plan, services, logs=conf.LogSettings(1000, 3), stop_timeout=12)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert {s for s in parser.sections() if s.startswith("program:")} == {
        "program:rapidocr",
        "program:deepseek-ocr",
        "program:orchestrator",
    }
    rapidocr = parser["program:rapidocr"]
    assert rapidocr["command"].split() == [
        str(REPO_ROOT / ".venv/bin/python"),
        "-m",
        "gunicorn",
        "-c",
        str(REPO_ROOT / "deployment/gunicorn/backend.conf.py"),
        "backends.rapidocr_backend.wsgi:app",
    ]
    assert rapidocr["autorestart"] == "true" and rapidocr["killasgroup"] == "true"
    assert rapidocr["stopwaitsecs"] == "12" and rapidocr["stdout_logfile_maxbytes"] == "1000"
    assert rapidocr["stdout_logfile"] == str(tmp_path / "logs" / "rapidocr.log")
    assert 'CUDA_VISIBLE_DEVICES="0"' in parser["program:deepseek-ocr"]["environment"]
    assert 'OCR_EXIT_WITH_PARENT="1"' in rapidocr["environment"]
    assert (
        'OCR_BACKENDS="rapidocr=http://127.0.0.1:5002,x=http://h:1|http://h:2"'
        in parser["program:orchestrator"]["environment"]
    )
    assert parser["unix_http_server"]["file"] == str(tmp_path / "run" / "supervisor.sock")
    assert "program:smoke-gate" not in parser


def test_supervisor_reads_the_generated_config(tmp_path):
    """supervisord's own parser accepts it (percent signs and quotes in values included)."""
    from supervisor.options import ServerOptions

    plan = plan_for({"OCR_BACKENDS": "rapidocr=http://127.0.0.1:5002/100%"}, tmp_path)
    plan.log_dir.mkdir()
    path = conf.write(
        plan, conf.render(plan, plan.services, logs=conf.LogSettings(), stop_timeout=30, foreground=True, smoke_wait=60)
    )
    options = ServerOptions()
    options.realize(["-c", str(path)])
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert set(programs) == {"rapidocr", "tesseract", "deepseek-ocr", "mineru", "orchestrator", "smoke-gate"}
    assert programs["orchestrator"].environment["OCR_BACKENDS"] == "rapidocr=http://127.0.0.1:5002/100%"
    assert programs["smoke-gate"].autorestart is False
    assert "--backend rapidocr" in programs["smoke-gate"].command and options.nodaemon


# -- systemd ----------------------------------------------------------------------------------------


def test_systemd_unit_starts_everything_at_boot_and_verifies(tmp_path):
    plan = plan_for({}, tmp_path)
    unit = supervision.systemd_unit(plan, "root")
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit)
    assert parser["Service"]["ExecStart"] == f"{REPO_ROOT}/deployment/startup.sh --foreground"
    assert parser["Service"]["ExecStop"] == f"{REPO_ROOT}/deployment/stop.sh"
    assert parser["Service"]["Restart"] == "on-failure" and parser["Install"]["WantedBy"] == "multi-user.target"
    path = tmp_path / "ocr-service.service"
    path.write_text(unit)
    analyze = shutil.which("systemd-analyze")
    if analyze:  # systemd's own check of the unit: keys, and that the commands exist and are executable
        result = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        broken = tmp_path / "broken" / "ocr-service.service"
        broken.parent.mkdir()
        broken.write_text(unit.replace("startup.sh --foreground", "no-such-script --foreground"))
        result = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "no-such-script" in result.stderr


# -- deployment/system-packages.sh ------------------------------------------------------------------


def fake(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def bare_path(tmp_path):
    """A PATH with bash and coreutils but none of the commands asked for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "cat", "env", "chmod"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    return bin_dir


def run_packages(bin_dir: Path, *specs: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / "bash"), str(REPO_ROOT / "deployment" / "system-packages.sh"), *specs],
        env={"PATH": str(bin_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_system_packages_not_root_stops_with_the_exact_command(bare_path):
    fake(bare_path / "id", "echo 1000\n")
    result = run_packages(bare_path, "chromium", "shellcheck")
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y chromium shellcheck" in result.stderr


def test_system_packages_as_root_installs_what_is_missing(bare_path, tmp_path):
    calls = tmp_path / "apt.log"
    fake(bare_path / "id", "echo 0\n")
    # The stand-in apt-get records its calls and "installs" a command for each package.
    fake(
        tmp_path / "apt-get",
        f'echo "$*" >>{calls}\n'
        'if [[ "$1" == install ]]; then\n'
        f'    for package in "${{@:4}}"; do printf "#!/bin/bash\\n" >{bare_path}/$package; '
        f"chmod +x {bare_path}/$package; done\n"
        "fi\n",
    )
    (bare_path / "shellcheck").write_text("#!/bin/bash\n")
    (bare_path / "shellcheck").chmod(0o755)
    result = run_packages(bare_path, "chromium", "shellcheck", env={"APT_GET": str(tmp_path / "apt-get")})
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines()[0].startswith("update")
    assert calls.read_text().splitlines()[1] == "install -y -qq chromium", "only what is missing"
    again = run_packages(bare_path, "chromium", "shellcheck", env={"APT_GET": "/nonexistent"})
    assert again.returncode == 0, "nothing missing: nothing to install"


# -- scripts users run are executable in git --------------------------------------------------------


def git_modes() -> dict[str, str]:
    listing = subprocess.run(["git", "ls-files", "-s"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return {line.split("\t", 1)[1]: line.split()[0] for line in listing.stdout.splitlines()}


def named_scripts() -> set[str]:
    """Every file with a #! line that README.md or the design's scripts name (deployment/..., .ci/run)."""
    text = (REPO_ROOT / "README.md").read_text() + "deployment/deploy.sh deployment/startup.sh .ci/run"
    names = set(re.findall(r"(?:\./)?((?:deployment|\.ci|bench)/[A-Za-z0-9_./-]+)", text))
    return {
        name.rstrip(".")
        for name in names
        if (REPO_ROOT / name.rstrip(".")).is_file() and (REPO_ROOT / name.rstrip(".")).read_bytes().startswith(b"#!")
    }


def test_every_script_users_run_is_executable_in_git():
    modes = git_modes()
    scripts = named_scripts() | {
        f"deployment/{p.name}"
        for p in (REPO_ROOT / "deployment").iterdir()
        if p.is_file() and p.read_bytes().startswith(b"#!")
    }
    assert {"deployment/startup.sh", "deployment/deploy.sh", "deployment/smoke", ".ci/run"} <= scripts
    not_executable = sorted(name for name in scripts if modes.get(name) != "100755")
    assert not not_executable, f"git update-index --chmod=+x {' '.join(not_executable)}"


def test_service_env_settings_reach_every_service_and_the_config_is_private(tmp_path):
    (tmp_path / "service.env").write_text("HEALTH_INTERVAL=2\nBACKEND_TOKEN=secret\n")
    plan = make_plan(
        {
            "RUN_DIR": str(tmp_path / "run"),
            "LOG_DIR": str(tmp_path / "logs"),
            "SERVICE_ENV_FILE": str(tmp_path / "service.env"),
            "HEALTH_INTERVAL": "3",
        }
    )
    assert plan.machine_settings == {"HEALTH_INTERVAL": "3", "BACKEND_TOKEN": "secret"}
    path = conf.write(
        plan, conf.render(plan, [plan.get("rapidocr"), plan.orchestrator], logs=conf.LogSettings(), stop_timeout=5)
    )
    parser = configparser.RawConfigParser()
    parser.read(path)
    for section in ("program:rapidocr", "program:orchestrator"):
        assert 'BACKEND_TOKEN="secret"' in parser[section]["environment"]
        assert 'HEALTH_INTERVAL="3"' in parser[section]["environment"]
    assert path.stat().st_mode & 0o077 == 0, "only its owner can read the token"


def test_status_into_a_closed_pipe_exits_without_a_traceback(tmp_path):
    """`deployment/status.sh | head -1`: the reader leaves before the table is written."""
    env = {
        **os.environ,
        "VENV": sys.prefix,
        "RUN_DIR": str(tmp_path / "run"),
        "LOG_DIR": str(tmp_path / "logs"),
        "DEEPSEEK_VENV": str(tmp_path / "none"),
        "MINERU_VENV": str(tmp_path / "none"),
    }
    process = subprocess.Popen(
        ["bash", str(REPO_ROOT / "deployment" / "status.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout and process.stderr
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.wait(60)
    assert "Traceback" not in errors, errors


def test_orchestrator_gunicorn_defaults_are_loopback_gevent_and_no_request_count(monkeypatch):
    """Started by hand (no startup.sh), the orchestrator listens on loopback only; its workers are
    gevent; gunicorn's own request counter is off (recycling counts work: orchestrator/recycling.py)."""
    import importlib.util

    monkeypatch.delenv("ORCHESTRATOR_BIND", raising=False)
    monkeypatch.delenv("ORCHESTRATOR_WORKER_CLASS", raising=False)
    monkeypatch.setenv("METRICS_DIR", "/nonexistent-metrics-dir")
    # The config sets it: set here first so that monkeypatch restores what was there (nothing) after.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/nonexistent-metrics-dir")
    spec = importlib.util.spec_from_file_location(
        "orchestrator_conf", REPO_ROOT / "deployment/gunicorn/orchestrator.conf.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.bind == "127.0.0.1:8080"
    assert module.worker_class == "gevent" and module.worker_connections == 1000
    assert module.max_requests == 0 and callable(module.post_request)
