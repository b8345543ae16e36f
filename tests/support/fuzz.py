"""Hypothesis strategies for fuzzing uploads: random bytes, valid documents with bytes changed, cut
or spliced, behind real magic numbers; random form fields, known option names with random values."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.support.documents import text_image, text_pdf

SEEDS = [
    text_image(["fuzz"], width=160, font_size=20),
    text_image(["fuzz"], width=160, font_size=20, fmt="JPEG"),
    text_image(["fuzz"], width=120, font_size=20, fmt="WEBP"),
    text_image(["fuzz"], width=120, font_size=20, fmt="TIFF"),
    text_pdf([["fuzz"], ["two"]]),
]
MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"%PDF-1.7\n",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"II*\x00",
    b"MM\x00*",
    b"GIF89a",
    b"BM",
]
OPTION_NAMES = [
    "backend",
    "backends",
    "dpi",
    "page_range",
    "boxes_image",
    "pdf_mode",
    "mode",
    "prompt",
    "cache",
    "reference",
    "tier",
    "ocr_mode",
    "file",
    "image",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


documents = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGIC), st.binary(max_size=2048)),
    mutated(),
)
field_values = st.one_of(
    st.text(max_size=40), st.sampled_from(["0", "-1", "1e9", "nan", "true", "1-", "3-1", "999999"])
)
form_fields = st.dictionaries(
    st.one_of(st.sampled_from(OPTION_NAMES), st.text(min_size=1, max_size=12)), field_values, max_size=6
)
file_names = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["../../etc/passwd", "a.png", "x.pdf"]))
