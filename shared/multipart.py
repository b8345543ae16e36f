"""Multipart form parsing with python-multipart, plugged into Werkzeug's request.

Werkzeug's own multipart parser compiles two regular expressions per request (they embed the
request's random boundary, so Python's regex cache never hits): about a millisecond per upload on
every tier. python-multipart's state machine does the same job without it, ~7x faster on a 1 MB
upload. Uploads stay in memory; the body is already bounded by ``MAX_CONTENT_LENGTH``. Part headers
are UTF-8 (RFC 7578 §5.1: browsers and curl send a file name's UTF-8 bytes as they are); the
limits on parts and fields are the app's :class:`~shared.uploads.UploadLimits`.
"""

from __future__ import annotations

import io
from typing import IO, Any, cast

from flask import current_app, has_app_context
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser
from werkzeug.datastructures import FileStorage, Headers
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from shared.errors import MalformedForm
from shared.uploads import UploadLimits

READ_CHUNK_BYTES = 256 * 1024
#: app.config key of the app's UploadLimits (set by shared.http_common.install_common).
LIMITS_KEY = "OCR_UPLOAD_LIMITS"


def _header_text(raw: bytearray) -> str:
    """UTF-8 as RFC 7578 says; bytes that are not UTF-8 (an old client's latin-1) read as latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _limits() -> UploadLimits:
    found = current_app.config.get(LIMITS_KEY) if has_app_context() else None
    return found if isinstance(found, UploadLimits) else UploadLimits()


class _Collector:
    """python-multipart callbacks that gather each part's headers and bytes."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.parts = 0
        self._field = bytearray()
        self._value = bytearray()
        self._headers = Headers()
        self._chunks: list[bytes] = []

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_part_data": lambda data, start, end: self._chunks.append(data[start:end]),
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_form_parts:
            raise MalformedForm(f"the form has more than {self.limits.max_form_parts} parts")
        self._headers = Headers()
        self._chunks = []

    def on_header_end(self) -> None:
        self._headers.add(_header_text(self._field), _header_text(self._value))
        self._field.clear()
        self._value.clear()

    def on_part_end(self) -> None:
        _, params = parse_options_header(self._headers.get("Content-Disposition", ""))
        name = params.get("name")
        if name is None:
            return  # a part without a name cannot be addressed; ignore it as browsers do
        data = b"".join(self._chunks)
        if "filename" in params:
            self.files.append(
                (name, FileStorage(io.BytesIO(data), filename=params["filename"], name=name, headers=self._headers))
            )
        elif len(data) > (limit := self.limits.max_part_bytes(name)):
            raise MalformedForm(f"form field '{name}' is over {limit} bytes")
        else:
            self.fields.append((name, data.decode("utf-8", "replace")))


class FastFormDataParser(FormDataParser):
    def parse(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str] | None = None
    ) -> tuple[IO[bytes], Any, Any]:
        if mimetype != "multipart/form-data":
            return super().parse(stream, mimetype, content_length, options)
        boundary = (options or {}).get("boundary", "")
        if not boundary:
            raise MalformedForm("multipart/form-data without a boundary")
        collector = _Collector(_limits())
        try:
            parser = MultipartParser(boundary.encode("latin-1"), cast(Any, collector.callbacks()))
            while chunk := stream.read(READ_CHUNK_BYTES):
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise MalformedForm(f"the multipart form body is malformed: {exc}") from None
        return stream, self.cls(collector.fields), self.cls(collector.files)
