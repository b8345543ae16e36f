"""The multipart parser every app of ours uses (python-multipart behind Werkzeug's request)."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify, request

from shared.http_common import install_common, read_uploaded_file
from shared.uploads import UploadLimits
from tests.support.multipart import multipart

LIMITS = UploadLimits(max_bytes=1_000_000, max_pixels=10_000_000, max_pdf_pages=5)


@pytest.fixture
def client():
    app = Flask("multipart-test")
    install_common(app, LIMITS)

    @app.post("/echo")
    def echo():
        upload = read_uploaded_file(LIMITS)
        return jsonify(
            fields=request.form.to_dict(), size=len(upload.data), name=upload.filename, head=upload.data[:8].hex()
        )

    return app.test_client()


def post_raw(client, body: bytes, content_type: str):
    return client.post("/echo", data=body, content_type=content_type)


def test_file_and_fields_come_through(client):
    data = bytes(range(256)) * 3000  # every byte value, including CR, LF and dashes
    body, content_type = multipart({"file": ("scan.png", data)}, {"backend": "rapidocr", "prompt": "héllo\r\n--x"})
    answer = post_raw(client, body, content_type).get_json()
    assert answer == {
        "fields": {"backend": "rapidocr", "prompt": "héllo\r\n--x"},
        "size": len(data),
        "name": "scan.png",
        "head": data[:8].hex(),
    }


def test_image_is_accepted_as_the_file_field(client):
    body, content_type = multipart({"image": ("a.jpg", b"\xff\xd8\xff")})
    assert post_raw(client, body, content_type).get_json()["size"] == 3


def test_empty_file_is_an_empty_upload(client):
    body, content_type = multipart({"file": ("empty.png", b"")})
    response = post_raw(client, body, content_type)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "empty_upload"


def test_epilogue_is_ignored(client):
    body, content_type = multipart({"file": ("a.bin", b"abc")}, {"k": "v"})
    answer = post_raw(client, body + b"epilogue", content_type).get_json()
    assert answer["fields"] == {"k": "v"} and answer["size"] == 3


def test_a_preamble_is_a_clean_400(client):
    # RFC 2046 allows one; no form client sends one, and python-multipart refuses it.
    body, content_type = multipart({"file": ("a.bin", b"abc")})
    response = post_raw(client, b"preamble text\r\n" + body, content_type)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_form"


@pytest.mark.parametrize(
    "body,content_type",
    [
        (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--x',
            "multipart/form-data; boundary=b",
        ),
        (b"not multipart at all", "multipart/form-data; boundary=b"),
        (b"--b\r\n", "multipart/form-data"),  # no boundary parameter
    ],
)
def test_malformed_bodies_are_400(client, body, content_type):
    response = post_raw(client, body, content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in {"malformed_form", "missing_file"}


def test_no_boundary_is_malformed(client):
    response = post_raw(client, b"--b\r\n", "multipart/form-data")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_form"


def test_too_many_parts_is_refused(client):
    fields = {f"f{i}": "x" for i in range(LIMITS.max_form_parts + 1)}
    body, content_type = multipart({"file": ("a", b"abc")}, fields)
    response = post_raw(client, body, content_type)
    assert response.status_code == 400 and "parts" in response.get_json()["error"]["message"]


def test_oversized_field_is_refused(client):
    body, content_type = multipart({"file": ("a", b"abc")}, {"prompt": "x" * (LIMITS.max_field_bytes + 1)})
    response = post_raw(client, body, content_type)
    assert response.status_code == 400 and "prompt" in response.get_json()["error"]["message"]


def test_body_over_the_limit_is_413(client):
    body, content_type = multipart({"file": ("big.bin", b"x" * 2_000_000)})
    response = post_raw(client, body, content_type)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_urlencoded_forms_still_parse(client):
    response = client.post("/echo", data="backend=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "missing_file"


def test_utf8_file_names_come_back_as_sent(client):
    """RFC 7578: browsers and curl send the name's UTF-8 bytes; they were read as latin-1 (mojibake)."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="Rechnung_März.png"\r\n'
        f"Content-Type: image/png\r\n\r\nabc\r\n--{boundary}--\r\n"
    ).encode()
    response = post_raw(client, body, f"multipart/form-data; boundary={boundary}")
    assert response.get_json()["name"] == "Rechnung_März.png"


def test_a_latin1_file_name_from_an_old_client_still_reads(client):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="März.png"\r\n'
        f"\r\nabc\r\n--{boundary}--\r\n"
    ).encode("latin-1")
    assert post_raw(client, body, f"multipart/form-data; boundary={boundary}").get_json()["name"] == "März.png"


def test_the_reference_field_may_be_as_long_as_its_limit(client):
    """The reference is documented up to max_reference_chars; the 64 KiB field limit refused it first."""
    text = "ü" * (LIMITS.max_field_bytes * 2)
    body, content_type = multipart({"file": ("a", b"abc")}, {"reference": text})
    response = post_raw(client, body, content_type)
    assert response.status_code == 200 and response.get_json()["fields"]["reference"] == text
    body, content_type = multipart({"file": ("a", b"abc")}, {"reference": "x" * (LIMITS.max_reference_bytes + 1)})
    assert post_raw(client, body, content_type).get_json()["error"]["code"] in ("malformed_form", "payload_too_large")


def test_field_limits_come_from_the_apps_upload_limits():
    limits = UploadLimits(max_bytes=1000, max_field_bytes=2048, max_form_parts=5)
    app = Flask("limits-test")
    install_common(app, limits)

    @app.post("/echo")
    def echo():
        return jsonify(fields=request.form.to_dict())

    client = app.test_client()
    body, content_type = multipart({}, {"prompt": "x" * 2048})
    assert post_raw(client, body, content_type).status_code == 200
    body, content_type = multipart({}, {"prompt": "x" * 2049})
    assert post_raw(client, body, content_type).get_json()["error"]["code"] == "malformed_form"
    body, content_type = multipart({}, {f"f{i}": "x" for i in range(6)})
    assert "parts" in post_raw(client, body, content_type).get_json()["error"]["message"]
