"""deployment/deploy.sh end to end on this machine: a bare repository is the remote, a second clone
is "the server", and an ``ssh`` stand-in first on PATH runs the remote command locally. A good
commit deploys and ends healthy; running it again changes nothing; a commit whose orchestrator
cannot start is rolled back, and so is one whose backend is healthy but reads garbage (the smoke
gate); the previous commit serves again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.integration.test_deployment_scripts import status_table
from tests.support.documents import text_image
from tests.support.garbage_backend import APP as GARBAGE_APP
from tests.support.processes import REPO_ROOT, plan_ports

pytestmark = pytest.mark.integration

# Drops ssh's options and the destination, records them, and runs the command here (stdin passes through).
SSH_STANDIN = """#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$SSH_STANDIN_LOG"
while [[ "$1" == -* ]]; do
    case "$1" in -p|-o|-i|-l) shift 2 ;; *) shift ;; esac
done
shift
exec bash -c "$*"
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def project_files() -> list[str]:
    """The working tree as the project has it: tracked files and new ones git does not ignore."""
    listing = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listing.split("\0") if name and (REPO_ROOT / name).is_file()]


@pytest.fixture
def setting(tmp_path):
    """dev (where deploy.sh runs), remote.git, server (the server's checkout), and the environment."""
    dev, remote, server = tmp_path / "dev", tmp_path / "remote.git", tmp_path / "server"
    for name in project_files():
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, dev / name)
    identity = ["-c", "user.name=Deploy Test", "-c", "user.email=deploy@test.invalid"]
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(dev, "init", "--quiet", "--initial-branch=main")
    git(dev, "add", "-A")
    git(dev, *identity, "commit", "--quiet", "-m", "first")
    git(dev, "remote", "add", "origin", str(remote))
    git(dev, "push", "--quiet", "origin", "main")
    git(tmp_path, "clone", "--quiet", str(remote), str(server))

    ports = plan_ports()
    # The server's own settings, in the (git-ignored) file that survives deploys.
    service_env = {
        **{name: str(port) for name, port in ports.items()},
        "ORCHESTRATOR_HOST": "127.0.0.1",
        "VENV": sys.prefix,
        "SETUP_GPU": "none",
        "DEEPSEEK_VENV": str(tmp_path / "no-deepseek"),
        "MINERU_VENV": str(tmp_path / "no-mineru"),
        "HEALTH_INTERVAL": "0.5",
        "STOP_TIMEOUT": "15",
        "RAPIDOCR_THREADS": "1",
        "TESSERACT_WORKERS": "1",
    }
    (server / "deployment" / "service.env").write_text("".join(f"{k}={v}\n" for k, v in service_env.items()))
    (dev / "deployment" / "deploy.env").write_text(
        f"DEPLOY_HOST=gpu-box\nDEPLOY_PORT=2222\nDEPLOY_USER=ocr\nDEPLOY_PATH={server}\nDEPLOY_BRANCH=main\n"
        "DEPLOY_HEALTH_TIMEOUT=90\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(SSH_STANDIN)
    (bin_dir / "ssh").chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key not in service_env and not key.startswith("DEPLOY_")}
    env.update(
        {
            "PATH": f"{bin_dir}:{env['PATH']}",
            "SSH_STANDIN_LOG": str(tmp_path / "ssh.log"),
            "GIT_AUTHOR_NAME": "Deploy Test",
            "GIT_AUTHOR_EMAIL": "deploy@test.invalid",
            "GIT_COMMITTER_NAME": "Deploy Test",
            "GIT_COMMITTER_EMAIL": "deploy@test.invalid",
        }
    )
    url = f"http://127.0.0.1:{ports['ORCHESTRATOR_PORT']}"
    try:
        yield dev, remote, server, env, url, tmp_path
    finally:
        subprocess.run(["bash", "deployment/stop.sh"], cwd=server, env=env, capture_output=True, timeout=120)


def deploy(dev: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "deployment/deploy.sh", *args], cwd=dev, env=env, capture_output=True, text=True, timeout=600
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def serves(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def test_deploy_then_again_then_a_broken_commit_is_rolled_back(setting):
    dev, remote, server, env, url, tmp_path = setting

    (dev / "NOTES.txt").write_text("release notes\n")
    good = deploy(dev, env, "-m", "add release notes")
    assert good.returncode == 0, output_of(good)
    good_commit = git(dev, "rev-parse", "HEAD")
    assert git(dev, "log", "-1", "--format=%s") == "add release notes"
    assert git(remote, "rev-parse", "main") == good_commit
    assert git(server, "rev-parse", "HEAD") == good_commit, "the server runs exactly the pushed commit"
    assert (server / "NOTES.txt").is_file()
    assert "ocr@gpu-box" in (tmp_path / "ssh.log").read_text() and "-p 2222" in (tmp_path / "ssh.log").read_text()
    assert "deployed and healthy" in good.stdout and "SERVICE" in good.stdout, output_of(good)
    assert serves(url)
    assert requests.get(url + "/health", timeout=10).json()["backends"]["rapidocr"]["status"] in ("healthy", "unknown")
    pid = server_pids(server, env)["orchestrator"]

    again = deploy(dev, env, "-m", "nothing new")
    assert again.returncode == 0, output_of(again)
    assert "Nothing to commit" in again.stdout and "already deployed" in again.stdout, output_of(again)
    assert git(dev, "rev-parse", "HEAD") == good_commit, "no empty commit"
    assert server_pids(server, env)["orchestrator"] == pid, "a healthy deploy of the same commit restarts nothing"

    wsgi = dev / "orchestrator" / "wsgi.py"
    wsgi.write_text(wsgi.read_text() + "\nthis is not python(\n")
    broken = deploy(dev, env, "-m", "break the orchestrator")
    assert broken.returncode == 1, output_of(broken)
    broken_commit = git(dev, "rev-parse", "HEAD")
    assert git(remote, "rev-parse", "main") == broken_commit, "it was pushed"
    assert "orchestrator: FAILED" in broken.stderr and "ROLLED BACK" in broken.stderr, output_of(broken)
    assert "NOT deployed" in broken.stderr, output_of(broken)
    assert git(server, "rev-parse", "HEAD") == good_commit, "the server is back on the previous commit"
    assert serves(url), output_of(broken)
    status = server_status(server, env)
    assert status.returncode == 0, output_of(status)

    # A backend that is healthy (model loaded) but answers garbage: the smoke gate fails, it is rolled back.
    git(dev, "checkout", good_commit, "--", "orchestrator/wsgi.py")  # the orchestrator is fine again
    catalogue = dev / "deployment" / "services.toml"
    catalogue.write_text(
        catalogue.read_text().replace('app = "backends.rapidocr_backend.wsgi:app"', f'app = "{GARBAGE_APP}"')
    )
    garbage = deploy(dev, env, "-m", "rapidocr answers garbage")
    assert garbage.returncode == 1, output_of(garbage)
    assert "rapidocr: FAILED: smoke gate" in garbage.stderr and "ROLLED BACK" in garbage.stderr, output_of(garbage)
    assert git(server, "rev-parse", "HEAD") == good_commit
    status = server_status(server, env)
    assert status.returncode == 0, output_of(status)
    assert status_table(status)["rapidocr"]["smoke"] == "pass", output_of(status)
    answer = requests.post(
        url + "/ocr",
        data={"backend": "rapidocr", "cache": "false"},
        timeout=60,
        files={"file": ("page.png", text_image(["Rolled back to real text"]))},
    )
    assert answer.status_code == 200 and "rolled" in answer.json()["markdown"].lower(), answer.text


def server_status(server: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "deployment/status.sh"], cwd=server, env=env, capture_output=True, text=True, timeout=60
    )


def server_pids(server: Path, env: dict[str, str]) -> dict[str, str]:
    return {name: row["pid"] for name, row in status_table(server_status(server, env)).items()}
