"""DeepSeek-OCR through the model's own remote code on Hugging Face transformers.

For machines where vLLM cannot run. The remote code pins ``transformers==4.46.3`` (its import of
``LlamaFlashAttention2`` breaks from 4.48), so this engine has its own requirements file. Its
``infer`` is not re-entrant (it patches torch on each call and writes fixed file names), so pages
run one at a time on a single worker thread.

It cannot honour a request's ``max_tokens``: ``infer`` always allows 8192 new tokens and strips the
end-of-sentence token (modeling_deepseekocr.py, ``eval_mode=True``). So the backend does not accept
that option with this engine, and a page is flagged truncated only when it used (about) all 8192.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Any

from backends.deepseek_ocr.config import DeepSeekConfig
from backends.deepseek_ocr.engines.base import Generation, GenerationRequest, ThreadedEngine
from backends.deepseek_ocr.engines.preflight import check_gpu_engine, cuda_available
from backends.deepseek_ocr.gpu_memory import torch_memory

#: ``infer`` generates at most this many tokens whatever we ask (fixed in the remote code).
REMOTE_CODE_MAX_NEW_TOKENS = 8192
#: The text comes back decoded, EOS removed and stripped; encoding it again can give a few tokens
#: fewer than were generated. A page this close to the cap is taken as cut off by it.
TRUNCATION_MARGIN_TOKENS = 64
# Resolution ("Gundam" mode, the same vLLM uses): a 1024 global view plus tiles of 640 (OCR-2: 768).
BASE_SIZE = 1024
TILE_SIZE = {"DeepSeek-OCR": 640, "DeepSeek-OCR-2": 768}


class TransformersEngine(ThreadedEngine):
    name = "transformers"
    honours_max_tokens = False

    def __init__(self, config: DeepSeekConfig) -> None:
        super().__init__(workers=1)
        self.config = config
        self.variant = "DeepSeek-OCR"
        self.attention = ""
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def model_label(self) -> str:
        return f"{self.variant} (transformers remote code, {self.attention} attention)" if self._model else self.variant

    def load(self) -> None:
        files = check_gpu_engine(self.config.model, "transformers", "requirements-transformers.txt")
        self.variant = files.variant
        import torch
        from transformers import AutoModel, AutoTokenizer

        # flash-attn is optional: without it the remote code runs with plain ("eager") attention.
        self.attention = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "eager"
        self._tokenizer = AutoTokenizer.from_pretrained(str(files.directory), trust_remote_code=True)
        model = AutoModel.from_pretrained(
            str(files.directory), trust_remote_code=True, use_safetensors=True, _attn_implementation=self.attention
        )
        self._model = model.eval().cuda().to(torch.bfloat16)

    def generate(self, request: GenerationRequest) -> Generation:
        # ``infer`` reads the page from a file and writes into ``output_path``: one private
        # directory per page, always removed.
        workdir = Path(tempfile.mkdtemp(prefix="deepseek-ocr-"))
        try:
            image_path = workdir / "page.png"
            request.image.save(image_path)
            text = self._model.infer(
                self._tokenizer,
                prompt=request.prompt,
                image_file=str(image_path),
                output_path=str(workdir),
                base_size=BASE_SIZE,
                image_size=TILE_SIZE[self.variant],
                crop_mode=True,
                save_results=False,
                eval_mode=True,  # return the text instead of printing it
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        text = text or ""
        # ``infer`` drops the end-of-sentence token, so a page cut off by its fixed cap is only
        # visible from its length (``request.max_tokens`` never reaches it).
        tokens = len(self._tokenizer.encode(text, add_special_tokens=False))
        cut_off = tokens >= REMOTE_CODE_MAX_NEW_TOKENS - TRUNCATION_MARGIN_TOKENS
        return Generation(text=text, finish_reason="length" if cut_off else "stop", output_tokens=tokens)

    def details(self) -> dict[str, Any]:
        return {"attention": self.attention or None, "max_new_tokens": REMOTE_CODE_MAX_NEW_TOKENS, **torch_memory()}

    def gpu_available(self) -> bool:
        return cuda_available()
