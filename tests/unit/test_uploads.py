"""Upload detection and limits: by content, bounded in bytes, pixels and pages."""

import io
import resource
import struct

import pymupdf
import pytest
from PIL import Image

from shared import errors
from shared.pdf import inspect_pdf, parse_page_range
from shared.uploads import (
    UploadLimits,
    check_byte_size,
    check_route_kind,
    clean_filename,
    decode_image,
    detect_format,
    image_size,
)
from tests.support.documents import bomb_png, text_image, text_pdf

LIMITS = UploadLimits(max_bytes=1_000_000, max_pixels=4_000_000, max_pdf_pages=3)


def encoded(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "fmt,name",
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("WEBP", "webp"),
        ("TIFF", "tiff"),
        ("BMP", "bmp"),
    ],
)
def test_images_detected_by_content(fmt, name):
    data = encoded(fmt)
    detected = detect_format(data)
    assert (detected.kind, detected.name) == ("image", name)
    assert image_size(data, detected, LIMITS) == (40, 30)
    image, notes = decode_image(data, detected, LIMITS)
    assert image.mode == "RGB" and image.size == (40, 30) and notes == []


def test_pdf_detected_even_after_leading_junk():
    assert detect_format(b"\n\n" + text_pdf([["x"]])).kind == "pdf"


@pytest.mark.parametrize("data", [b"hello, I am text pretending to be a PNG", b"GIF89a....", b"\x00" * 64])
def test_unknown_content_is_415(data):
    with pytest.raises(errors.UnsupportedMediaType) as info:
        detect_format(data)
    assert info.value.status == 415


def test_empty_is_400():
    with pytest.raises(errors.EmptyUpload) as info:
        detect_format(b"")
    assert info.value.status == 400
    with pytest.raises(errors.EmptyUpload):
        check_byte_size(0, LIMITS)


def test_byte_limit_is_413():
    check_byte_size(LIMITS.max_bytes, LIMITS)
    with pytest.raises(errors.PayloadTooLarge) as info:
        check_byte_size(LIMITS.max_bytes + 1, LIMITS)
    assert info.value.status == 413


def test_pixel_limit_checked_from_header():
    data = encoded("PNG", size=(2001, 2000))
    with pytest.raises(errors.TooManyPixels) as info:
        image_size(data, detect_format(data), LIMITS)
    assert info.value.status == 413


def test_decompression_bomb_refused_without_decoding():
    data = bomb_png(30000, 30000)
    assert len(data) < 500_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for check in (image_size, decode_image):
        with pytest.raises(errors.TooManyPixels):
            check(data, detect_format(data), UploadLimits())
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100_000, f"peak memory grew by {grown_kib} KiB: the bomb was decoded"


def test_truncated_image_is_corrupt_422():
    data = text_image(["truncated"])[:-200]
    with pytest.raises(errors.CorruptFile) as info:
        decode_image(data, detect_format(data), LIMITS)
    assert info.value.status == 422


def _tiff_whose_second_frame_has_no_width() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(
        buffer, format="TIFF", save_all=True, append_images=[Image.new("RGB", (20, 10), "black")]
    )
    data = bytearray(buffer.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * entries)[0]
    for index in range(struct.unpack_from("<H", data, second)[0]):
        if struct.unpack_from("<H", data, second + 2 + 12 * index)[0] == 256:  # ImageWidth
            struct.pack_into("<H", data, second + 2 + 12 * index, 999)
    return bytes(data)


def test_tiff_with_a_broken_second_frame_is_corrupt_422_not_500():
    """Found by the fuzzer: Pillow raises TypeError('Missing dimensions') while counting frames."""
    data = _tiff_whose_second_frame_has_no_width()
    with pytest.raises(errors.CorruptFile) as info:
        decode_image(data, detect_format(data), LIMITS)
    assert info.value.status == 422


def test_png_signature_with_garbage_is_corrupt():
    data = b"\x89PNG\r\n\x1a\n" + b"garbage" * 10
    with pytest.raises(errors.CorruptFile):
        image_size(data, detect_format(data), LIMITS)


def test_transparent_image_flattened_on_white():
    data = encoded("PNG", mode="RGBA")
    image, _ = decode_image(data, detect_format(data), LIMITS)
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_applied():
    image = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    decoded, _ = decode_image(buffer.getvalue(), detect_format(buffer.getvalue()), LIMITS)
    assert decoded.size == (20, 40)


def test_pdf_pages_counted_and_limited():
    assert inspect_pdf(text_pdf([["a"], ["b"]]), LIMITS).page_count == 2
    with pytest.raises(errors.TooManyPages) as info:
        inspect_pdf(text_pdf([["p"]] * 4), LIMITS)
    assert info.value.status == 413


def test_encrypted_pdf_is_422():
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "secret")
    data = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    with pytest.raises(errors.EncryptedPdf) as info:
        inspect_pdf(data, LIMITS)
    assert info.value.status == 422


def test_broken_pdf_is_corrupt():
    with pytest.raises(errors.CorruptFile):
        inspect_pdf(b"%PDF-1.7\n this is not a pdf at all", LIMITS)


def test_route_kind():
    check_route_kind(None, detect_format(encoded("PNG")))
    check_route_kind("image", detect_format(encoded("PNG")))
    with pytest.raises(errors.UnsupportedMediaType):
        check_route_kind("pdf", detect_format(encoded("PNG")))


@pytest.mark.parametrize(
    "spec,expected",
    [
        (None, [0, 1, 2, 3, 4]),
        ("", [0, 1, 2, 3, 4]),
        ("1-3,5", [0, 1, 2, 4]),
        ("2", [1]),
        ("4-", [3, 4]),
        ("3,1,3", [0, 2]),
    ],
)
def test_page_range(spec, expected):
    assert parse_page_range(spec, 5) == expected


@pytest.mark.parametrize("spec", ["0", "2-1", "6", "a-b", "1-9", "1,,x"])
def test_bad_page_range_is_400(spec):
    with pytest.raises(errors.InvalidOption) as info:
        parse_page_range(spec, 5)
    assert info.value.status == 400


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\scan.png", "scan.png"),
        ("a\x00b\n.png", "ab.png"),
        ("", None),
        (None, None),
        ("../", None),
    ],
)
def test_clean_filename(name, expected):
    assert clean_filename(name) == expected
