"""Chandra 2 (datalab-to/chandra-ocr-2): Chandra's HTML layout blocks on a 0-1000 grid.

Source: the ``chandra-ocr`` 0.2.0 package on PyPI (Datalab's own client, whose default checkpoint
is ``datalab-to/chandra-ocr-2``; wheel sha256 11a9fffa…a8ed4; the GitHub repository as stored here
ends at 0.1.x, January 2026):

- ``chandra/prompts.py``: the ``ocr_layout`` and ``ocr`` prompts, rebuilt here with
  :func:`.chandra.prompts`: boxes "in x0 y0 x1 y1 format", "normalized 0-1000"; four more labels
  (Chemical-Block, Diagram, Bibliography, Blank-Page); the ``chem`` tag, the ``data-bbox`` and
  ``data-label`` attributes, and three changed or added guidelines (images, chemistry, lists).
- ``chandra/settings.py``: ``BBOX_SCALE = 1000``, ``MAX_OUTPUT_TOKENS = 12384``.
- ``chandra/model/vllm.py``: temperature 0, top_p 0.1 (retries on a repeated-token tail are the
  backend's business).
- ``chandra/model/util.py``: ``scale_to_fit`` at most 3072 × 2048 pixels, at least 1792 × 28, sides
  multiples of 28.

docling (docling-project/docling at e1cb2b234c48ff29746b0f2f843d07f8e23905a0,
``docling/datamodel/vlm_prompts.py`` and ``stage_model_specs.py``) sends the same prompt (with
single spaces between sentences), 12384 tokens, pages rendered at scale 2; the answers it recorded
are this preset's fixtures. The parser is Chandra 1's (:mod:`.chandra`) on this grid.
"""

from __future__ import annotations

from backends.vlm_backend.presets.base import ImageRules
from backends.vlm_backend.presets.chandra import ATTRIBUTES, GUIDELINES, LABELS, TAGS, chandra_preset, prompts

GRID = 1000

#: Chandra 1's guidelines, the images one longer, chemistry and lists added before the last two.
_GUIDELINES = {
    **{key: GUIDELINES[key] for key in ("math", "tables", "formatting", "images", "forms", "text")},
    "images": GUIDELINES["images"] + " Describe in detail inside the div tag. Also convert charts to high fidelity "
    "data, and convert diagrams to mermaid.",
    "chemistry": "Chemistry: Use <chem>...</chem> tags for chemical formulas with reactive SMILES.",
    "lists": "Lists: Preserve indents and proper list markers.",
    "simplest": GUIDELINES["simplest"],
    "accurate": GUIDELINES["accurate"],
}
LAYOUT_PROMPT, OCR_PROMPT = prompts(
    GRID,
    "x0 y0 x1 y1",
    (*LABELS, "Chemical-Block", "Diagram", "Bibliography", "Blank-Page"),
    (*TAGS, "chem"),
    (*ATTRIBUTES, "data-bbox", "data-label"),
    _GUIDELINES,
)

PRESET = chandra_preset(
    "chandra-2",
    "Chandra 2 (datalab-to/chandra-ocr-2, Qwen3-VL): HTML layout blocks with boxes on a 0-1000 grid",
    GRID,
    (LAYOUT_PROMPT, OCR_PROMPT),
    ImageRules(min_pixels=1792 * 28, max_pixels=3072 * 2048, factor=28),
)
