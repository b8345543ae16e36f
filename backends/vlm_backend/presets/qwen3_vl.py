"""Qwen3-VL (``Qwen/Qwen3-VL-*-Instruct``): a generic document VLM that grounds on a 0-1000 grid.

Sources:

- QwenLM/Qwen3-VL ``README.md`` (commit 96588727e44c78b25ba03ea03b8e12f7e64fd0da), "Generation
  Hyperparameters" for Instruct models: top_p 0.8, top_k 20, temperature 0.7, repetition_penalty
  1.0, presence_penalty 1.5, out_seq_length 32768 (capped here at 16384 tokens for one page); its
  2D grounding cookbook: boxes in relative coordinates on a 0-1000 grid.
- ``cookbooks/document_parsing.ipynb`` ("QwenVL HTML" document parsing, read from the fork
  Firefly-llm/Qwen3-VL at 6810c424c9ae3e9b7047d88152bad5e345f3edb9: QwenLM's own copy of the
  notebook is too large to be read here): images sent with ``min_pixels=512*32*32`` and
  ``max_pixels=2048*32*32`` (patch 16, merge 2: factor 32); its recorded answer has every
  ``data-bbox`` on the 0-1000 grid (largest 932 on a 1216 × 1696 image), read so here.
  The cell's exact prompt could not be read (it lies after an embedded image in the stored
  notebook): the ``html`` mode uses Qwen2.5-VL's cookbook prompt for the same format.

The ``markdown`` mode's prompt is this project's own; an answer without boxes gives markdown and
no blocks.
"""

from __future__ import annotations

from backends.vlm_backend.presets import qwen2_5_vl
from backends.vlm_backend.presets.base import ImageRules, Preset, Sampling

#: Qwen3-VL's grid for boxes (relative coordinates, both axes).
GRID = 1000


parse = qwen2_5_vl.qwen_parser(lambda frame: (GRID, GRID))


PRESET = Preset(
    name="qwen3-vl",
    description="Qwen3-VL Instruct; settings from QwenLM/Qwen3-VL (README, document_parsing cookbook).",
    modes=qwen2_5_vl.MODES,
    default_mode="markdown",
    parse=parse,
    sampling=Sampling(temperature=0.7, top_p=0.8, max_tokens=16384, extra={"top_k": 20, "presence_penalty": 1.5}),
    image=ImageRules(min_pixels=512 * 32 * 32, max_pixels=2048 * 32 * 32, factor=32),
)
