"""Request options: the common ones typed and checked, the backend-specific ones kept as sent.

Parsed once where a request comes in (the orchestrator's edge, or a backend's route) into
:class:`OCROptions`; turned back into form fields only by the orchestrator's backend client
(:meth:`OCROptions.to_form`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from shared.config import ConfigError, parse_bool
from shared.errors import InvalidOption
from shared.pdf import MAX_DPI, MIN_DPI, check_dpi


@dataclass(frozen=True)
class FormField:
    """One form field a client may send: declared once, read by its parser (default, choices) and by
    the API description (orchestrator/openapi.py), so the two cannot disagree."""

    name: str
    type: Literal["string", "integer", "boolean"]
    description: str
    default: str | int | bool | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def default_text(self) -> str:
        """The default as a form sends it (booleans as ``true``/``false``); empty when there is none."""
        return "" if self.default is None else _form_value(self.default)

    def schema(self) -> dict[str, Any]:
        """This field as a JSON Schema property (``choices`` as ``enum``): the one JSON form of a field,
        used by the API description and, with its name, by a backend's published options."""
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.default is not None:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def to_json(self) -> dict[str, Any]:
        """This field as a backend publishes it in ``/health``: its name and its :meth:`schema`."""
        return {"name": self.name, **self.schema()}


#: The options every backend understands (a backend refuses prompt or mode when it has no use for them).
COMMON_FIELDS = (
    FormField("prompt", "string", "Instruction for prompt-driven models; refused by a backend that takes none."),
    FormField("mode", "string", "The backend's own mode (e.g. a resolution mode); refused by a backend without modes."),
    FormField(
        "dpi",
        "integer",
        "Resolution PDF pages are rendered at; default: the backend's own.",
        minimum=MIN_DPI,
        maximum=MAX_DPI,
    ),
    FormField("page_range", "string", "PDF pages to read, 1-based, e.g. `1-3,5`; default: every page."),
    FormField("boxes_image", "boolean", "Also return each page with its recognised boxes drawn (a data URI).", True),
)
BOXES_IMAGE = COMMON_FIELDS[-1]
COMMON_OPTIONS = tuple(option.name for option in COMMON_FIELDS)
#: The multipart parts that carry the document.
DOCUMENT_PARTS = ("file", "image")
#: The fields the orchestrator acts on itself; a backend never sees them as options.
ORCHESTRATOR_FIELDS = frozenset({"backend", "backends", "cache", "pdf_mode", "reference"})


@dataclass(frozen=True)
class OCROptions:
    """Options of one request. ``extra`` holds backend-specific fields exactly as sent."""

    prompt: str | None = None
    mode: str | None = None
    dpi: int | None = None  # None: the backend's own default_dpi
    page_range: str | None = None
    boxes_image: bool = bool(BOXES_IMAGE.default)
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The options as results report them: defaults filled in, values as sent."""
        data: dict[str, Any] = {"boxes_image": self.boxes_image}
        for name in ("prompt", "mode", "dpi", "page_range"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        data.update(self.extra)
        return data

    def to_form(self, *, page_range: bool = True) -> dict[str, str]:
        """The form fields that carry these options to a backend (``page_range`` left out for a PDF
        slice, which holds the selected pages only)."""
        form = {name: _form_value(value) for name, value in self.to_json().items()}
        if not page_range:
            form.pop("page_range", None)
        return form

    def own(self) -> dict[str, str]:
        """The options a backend takes only if it publishes them: prompt and mode when set, and every
        extra, as sent."""
        named = {name: value for name in ("prompt", "mode") if (value := getattr(self, name)) is not None}
        return {**named, **self.extra}

    def keeping(self, names: Collection[str]) -> OCROptions:
        """These options with only the backend's own ones in ``names`` (the common ones all kept)."""
        return replace(
            self,
            prompt=self.prompt if "prompt" in names else None,
            mode=self.mode if "mode" in names else None,
            extra={name: value for name, value in self.extra.items() if name in names},
        )


def _form_value(value: Any) -> str:
    """A form field's text: booleans as ``true``/``false`` (what :func:`parse_bool` reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_options(form: Mapping[str, str]) -> OCROptions:
    """Common options typed and checked (400 on a bad value); the other fields kept as extras.

    An empty ``prompt``, ``mode``, ``dpi`` or ``page_range`` means "not given" (a browser form sends
    empty fields); any other value is kept exactly as sent.
    """
    dpi: int | None = None
    if form.get("dpi"):
        try:
            dpi = check_dpi(int(form["dpi"]))
        except ValueError:
            raise InvalidOption(f"dpi must be an integer, got {form.get('dpi')!r}") from None
    try:
        boxes = parse_bool(BOXES_IMAGE.name, form.get(BOXES_IMAGE.name) or BOXES_IMAGE.default_text)
    except ConfigError as exc:
        raise InvalidOption(str(exc)) from None
    skip = {*COMMON_OPTIONS, *DOCUMENT_PARTS, *ORCHESTRATOR_FIELDS}
    return OCROptions(
        prompt=form.get("prompt") or None,
        mode=form.get("mode") or None,
        dpi=dpi,
        page_range=form.get("page_range") or None,
        boxes_image=boxes,
        extra={name: value for name, value in form.items() if name not in skip},
    )
