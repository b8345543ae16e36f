"""The example VLM entry of deployment/services.toml, as the README tells a user to use it: the
commented block between its markers, uncommented and added to the shipped catalogue."""

from __future__ import annotations

from typing import Any

import tomllib

from shared.catalogue import CATALOGUE_PATH

START, END = "# -- example VLM entry --", "# -- end of example --"


def example_text() -> str:
    """The example entry exactly as services.toml has it, uncommented."""
    text = CATALOGUE_PATH.read_text()
    block = text[text.index(START) + len(START) : text.index(END)]
    return "\n".join(line.removeprefix("# ").removeprefix("#") for line in block.strip().splitlines())


def with_example() -> dict[str, Any]:
    """The shipped catalogue's data with the example entry uncommented."""
    return tomllib.loads(CATALOGUE_PATH.read_text() + "\n" + example_text() + "\n")
