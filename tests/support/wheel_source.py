"""The source of a pinned package, read from its wheel (a zip) without installing or importing it.

``wheel(name)`` downloads the version pinned in backends/deepseek_ocr/constraints.txt once with
``pip download --no-deps`` (no dependencies, no build: ``--only-binary``) into a cache that survives
runs (``OCR_WHEEL_CACHE``, default ``~/.cache/ocr-service/wheels``; pip's own HTTP cache is used as
well), bounded by pip's timeout and retries and by :data:`DOWNLOAD_TIMEOUT_S`. The vLLM wheel is
about 430 MB: the first run downloads it, every later run reads it from the cache.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO_ROOT / "backends" / "deepseek_ocr" / "constraints.txt"
DOWNLOAD_TIMEOUT_S = 900


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """``name → version`` of the ``name==version`` lines of a constraints file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.strip().lower()] = version.strip()
    return found


def cache_dir() -> Path:
    return Path(os.environ.get("OCR_WHEEL_CACHE", Path.home() / ".cache" / "ocr-service" / "wheels"))


def _cached(name: str, version: str, directory: Path) -> Path | None:
    prefix = f"{name.replace('-', '_')}-{version}-"
    return next((p for p in sorted(directory.glob("*.whl")) if p.name.lower().startswith(prefix.lower())), None)


@cache
def wheel(name: str) -> Path:
    """The pinned wheel of ``name``, downloaded on first use."""
    version = pins()[name]
    directory = cache_dir() / f"{name}-{version}"
    directory.mkdir(parents=True, exist_ok=True)
    found = _cached(name, version, directory)
    if found is None:
        command = [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "--only-binary=:all:"]
        command += ["--dest", str(directory), "--timeout", "60", "--retries", "2", "--progress-bar", "off", "--quiet"]
        subprocess.run(command, check=True, timeout=DOWNLOAD_TIMEOUT_S)
        found = _cached(name, version, directory)
        if found is None:
            raise FileNotFoundError(f"pip download {name}=={version} left no wheel in {directory}")
    return found


class WheelSource:
    """Modules of a wheel by dotted name, parsed with :mod:`ast`. ``replaced`` swaps a file's text
    (the tests use it to play an upstream rename)."""

    def __init__(self, path: Path, replaced: Mapping[str, str] | None = None) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path)
        self._names = set(self._zip.namelist())
        self.replaced = dict(replaced or {})
        self._trees: dict[str, ast.Module] = {}

    def with_replaced(self, file: str, text: str) -> WheelSource:
        return WheelSource(self.path, {**self.replaced, file: text})

    def file_of(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._names or candidate in self.replaced:
                return candidate
        return None

    def text(self, file: str) -> str:
        if file in self.replaced:
            return self.replaced[file]
        return self._zip.read(file).decode("utf-8")

    def module(self, module: str) -> ast.Module | None:
        if module not in self._trees:
            file = self.file_of(module)
            if file is None:
                return None
            self._trees[module] = ast.parse(self.text(file), filename=file)
        return self._trees[module]

    def metadata(self) -> str:
        name = next(n for n in self._names if n.endswith(".dist-info/METADATA"))
        return self._zip.read(name).decode("utf-8")

    def requires(self, package: str) -> list[str]:
        """The ``Requires-Dist`` specifiers for ``package`` (without extras' markers)."""
        found = []
        for line in self.metadata().splitlines():
            if line.startswith("Requires-Dist:") and "extra ==" not in line:
                spec = line.split(":", 1)[1].strip()
                head = spec.split(";")[0].strip()
                bare = head.split("[")[0]
                for sep in "<>=!~ (":
                    bare = bare.split(sep)[0]
                if bare.strip().lower().replace("_", "-") == package:
                    found.append(head[len(bare) :].strip())
        return found
