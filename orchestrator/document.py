"""An uploaded document, checked once at the edge (type by content, bytes, pixels, pages)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from shared.pdf import inspect_pdf
from shared.uploads import DetectedFormat, UploadLimits, detect_format, image_size


@dataclass(frozen=True)
class Document:
    data: bytes
    fmt: DetectedFormat
    filename: str | None
    page_count: int  # 1 for an image

    @cached_property
    def sha256(self) -> str:
        """Computed only when the cache needs it (about 0.6 ms per MB)."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def upload_name(self) -> str:
        """The name results carry (``image_name``) and the backend is sent: the client's, else ``upload.<type>``."""
        return self.filename or f"upload.{self.fmt.name}"

    @classmethod
    def from_upload(cls, data: bytes, filename: str | None, limits: UploadLimits) -> Document:
        """Checked like every upload before any backend sees it."""
        fmt = detect_format(data)
        if fmt.kind == "image":
            image_size(data, fmt, limits)
            pages = 1
        else:
            pages = inspect_pdf(data, limits).page_count
        return cls(data, fmt, filename, pages)
