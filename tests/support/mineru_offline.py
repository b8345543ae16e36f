"""Keeps the test process's MinerU offline: its configuration is read once, at the first
``import mineru``, so the model source is set to ``local`` (never download) before that. The
top-level conftest calls this before any test module is imported, whatever their import order."""

from __future__ import annotations

import os
import tempfile


def keep_mineru_offline() -> None:
    os.environ["MINERU_MODEL_SOURCE"] = "local"
    os.environ.setdefault("MINERU_HOME", tempfile.mkdtemp(prefix="mineru-home-"))
