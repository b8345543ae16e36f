"""Every deployment script is shellcheck clean (CI installs shellcheck: see .ci/run)."""

from __future__ import annotations

import shutil
import subprocess

from tests.support.processes import REPO_ROOT

# Every bash script of the deployment: *.sh and the extension-less commands (smoke, systemd-unit).
SCRIPTS = sorted(
    path
    for path in (REPO_ROOT / "deployment").iterdir()
    if path.is_file()
    and (path.suffix == ".sh" or (not path.suffix and path.read_bytes().startswith(b"#!/usr/bin/env bash")))
)


def test_there_are_scripts_to_check():
    names = {script.name for script in SCRIPTS}
    assert {
        "setup.sh",
        "startup.sh",
        "stop.sh",
        "status.sh",
        "deploy.sh",
        "remote_deploy.sh",
        "lib.sh",
        "smoke",
        "systemd-unit",
        "system-packages.sh",
    } <= names


def test_shellcheck_finds_nothing():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed (apt-get install -y shellcheck; .ci/run does it)"
    result = subprocess.run(
        [shellcheck, "--external-sources", *map(str, SCRIPTS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
