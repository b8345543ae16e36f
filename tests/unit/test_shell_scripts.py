"""Every deployment script is shellcheck clean (CI installs shellcheck: see .ci/run)."""
from __future__ import annotations

import shutil
import subprocess

from tests.support.processes import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "deployment").glob("*.sh"))


def test_there_are_scripts_to_check():
    names = {script.name for script in SCRIPTS}
    assert {"setup.sh", "startup.sh", "stop.sh", "status.sh", "deploy.sh", "remote_deploy.sh", "lib.sh"} <= names


def test_shellcheck_finds_nothing():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed (apt-get install -y shellcheck; .ci/run does it)"
    result = subprocess.run([shellcheck, "--external-sources", *map(str, SCRIPTS)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
