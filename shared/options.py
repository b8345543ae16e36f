"""Request options: the common ones typed and checked, the backend-specific ones kept as sent."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config import ConfigError, parse_bool
from shared.errors import InvalidOption
from shared.pdf import check_dpi

COMMON_OPTIONS = frozenset({"prompt", "mode", "dpi", "page_range", "boxes_image"})
UPLOAD_FIELDS = frozenset({"file", "image", "backend"})


@dataclass(frozen=True)
class OCROptions:
    """Options of one request. ``extra`` holds backend-specific fields as sent."""

    prompt: str | None = None
    mode: str | None = None
    dpi: int | None = None  # None: the backend's own default_dpi
    page_range: str | None = None
    boxes_image: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"boxes_image": self.boxes_image}
        for name in ("prompt", "mode", "dpi", "page_range"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        data.update(self.extra)
        return data


def parse_options(form: dict[str, str]) -> OCROptions:
    """Common options typed and checked (400 on a bad value); the other fields kept as extras."""
    dpi: int | None = None
    if form.get("dpi"):
        try:
            dpi = check_dpi(int(form["dpi"]))
        except ValueError:
            raise InvalidOption(f"dpi must be an integer, got {form.get('dpi')!r}") from None
    try:
        boxes = parse_bool("boxes_image", form.get("boxes_image", "true"))
    except ConfigError as exc:
        raise InvalidOption(str(exc)) from None
    extra = {k: v for k, v in form.items() if k not in COMMON_OPTIONS and k not in UPLOAD_FIELDS}
    return OCROptions(
        prompt=form.get("prompt") or None,
        mode=form.get("mode") or None,
        dpi=dpi,
        page_range=form.get("page_range") or None,
        boxes_image=boxes,
        extra=extra,
    )
