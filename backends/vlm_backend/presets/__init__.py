"""The presets, one module each (the module defines ``PRESET``), found by name."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from backends.vlm_backend.presets.base import Preset


@cache
def presets() -> dict[str, Preset]:
    """Every preset of this package, by its name."""
    found: dict[str, Preset] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base" or module.name.startswith("_"):
            continue
        preset = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PRESET", None)
        if isinstance(preset, Preset):
            found[preset.name] = preset
    return found


def preset(name: str) -> Preset:
    """The preset called ``name``; ``KeyError`` naming the known ones."""
    known = presets()
    if name not in known:
        raise KeyError(f"no VLM preset {name!r}; known: {', '.join(sorted(known)) or 'none'}")
    return known[name]
