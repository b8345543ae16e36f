"""The pinned wheels' source, read once per module (tests/support/wheel_source.py)."""

from __future__ import annotations

import pytest

from tests.support.wheel_source import WheelSource, wheel


@pytest.fixture(scope="module")
def vllm_source() -> WheelSource:
    return WheelSource(wheel("vllm"))


@pytest.fixture(scope="module")
def openai_source() -> WheelSource:
    return WheelSource(wheel("openai"))
