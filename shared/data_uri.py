"""Images as ``data:`` URIs: the boxes image and the figure crops that ``source_markdown`` embeds."""

from __future__ import annotations

import base64
import io

from PIL import Image


def image_data_uri(image: Image.Image, *, fmt: str = "JPEG", quality: int = 85) -> str:
    """Encode ``image`` (converted to RGB for JPEG) as a ``data:image/...;base64,`` URI."""
    buffer = io.BytesIO()
    if fmt.upper() == "JPEG":
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
        mime = "image/jpeg"
    else:
        image.save(buffer, format=fmt)
        mime = f"image/{fmt.lower()}"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
