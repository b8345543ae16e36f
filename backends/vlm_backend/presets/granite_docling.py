"""Granite-Docling (ibm-granite/granite-docling-258M, Idefics3): DocTags → markdown and blocks.

Settings from docling-project/docling at e1cb2b234c48ff29746b0f2f843d07f8e23905a0,
``docling/datamodel/vlm_model_specs.py`` (``GRANITEDOCLING_TRANSFORMERS`` / ``GRANITEDOCLING_VLLM``;
docling is the model's own project): the prompt "Convert this page to
docling.", temperature 0, 8192 new tokens, ``skip_special_tokens=False`` (the ``<loc_…>`` and table
tokens are special tokens: skipped, the answer loses its boxes and cells), stop at ``</doctag>`` or
``<|end_of_text|>``; docling renders pages at scale 2.0 (144 dpi). The Idefics3 processor tiles the
image itself, so no pixel bounds are set here and sides are left as they are (``factor=1``).
Locations are on a 0-500 grid of the page (:mod:`._doctags`). The model can loop on location
tokens (docling's ``docs/examples/granitedocling_repetition_stopping.py`` stops it client-side, which
a chat request cannot ask for): such an answer ends at the token limit and its last element is read
as it stands, with a warning.
"""

from __future__ import annotations

from backends.vlm_backend.presets._doctags import parse_doctags
from backends.vlm_backend.presets.base import ImageRules, Mode, Preset, Sampling

PROMPT = "Convert this page to docling."

PRESET = Preset(
    name="granite-docling",
    description="Granite-Docling 258M (ibm-granite/granite-docling-258M): DocTags with locations on a 0-500 grid",
    modes={"doctags": Mode(PROMPT, "The page as DocTags: text, headings, tables, formulas, code, pictures, boxes")},
    default_mode="doctags",
    parse=parse_doctags,
    sampling=Sampling(
        temperature=0.0,
        max_tokens=8192,
        extra={"skip_special_tokens": False, "stop": ["</doctag>", "<|end_of_text|>"]},
    ),
    image=ImageRules(factor=1),
)
