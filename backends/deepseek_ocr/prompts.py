"""DeepSeek-OCR's modes and their fixed prompts, and the checks on a client's own prompt.

The model is not a chatbot: only the prompts it was trained on work well (DeepSeek-OCR README,
"Prompts examples"). ``<image>`` marks where the page goes; vLLM's native model expects it first.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidOption
from shared.options import FormField

IMAGE_TOKEN = "<image>"
MAX_PROMPT_CHARS = 2000
MAX_PHRASE_CHARS = 200
# Tokens that structure the model's own output; a phrase or prompt that contains them would let a
# client forge grounding tags in the answer.
SPECIAL_TOKENS = ("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "<|grounding|>")

PROMPTS: dict[str, str] = {
    "document": "<image>\n<|grounding|>Convert the document to markdown.",
    "ocr": "<image>\n<|grounding|>OCR this image.",
    "free": "<image>\nFree OCR.",
    "figure": "<image>\nParse the figure.",
    "describe": "<image>\nDescribe this image in detail.",
    "locate": "<image>\nLocate <|ref|>{phrase}<|/ref|> in the image.",
}
DEFAULT_MODE = "document"
CUSTOM_MODE = "custom"
#: Modes whose answer carries grounding boxes.
GROUNDED_MODES = frozenset({"document", "ocr", "locate"})


#: The options the prompt is chosen from, as the backend publishes them.
MODE_FIELD = FormField(
    "mode",
    "string",
    "What to read: `document` (markdown with boxes), `ocr` (text with boxes), `free` (text only), "
    "`figure`, `describe`, or `locate` (boxes of the `phrase`).",
    DEFAULT_MODE,
    choices=tuple(PROMPTS),
)
PROMPT_FIELD = FormField(
    "prompt",
    "string",
    f"Your own instruction instead of a mode (at most {MAX_PROMPT_CHARS} characters; `<image>` first if at all).",
)
PHRASE_FIELD = FormField(
    "phrase", "string", f"With mode `locate`: the text to find (at most {MAX_PHRASE_CHARS} characters)."
)


@dataclass(frozen=True)
class PromptChoice:
    mode: str
    prompt: str


def choose_prompt(mode: str | None, prompt: str | None, phrase: str | None) -> PromptChoice:
    """The mode and exact prompt for a request; 400 for an unknown mode or an unusable prompt."""
    if prompt is not None:
        if mode not in (None, CUSTOM_MODE):
            raise InvalidOption(f"send either mode or prompt, not both (mode={mode!r})")
        return PromptChoice(CUSTOM_MODE, _custom_prompt(prompt))
    mode = (mode or DEFAULT_MODE).strip().lower()
    if mode not in PROMPTS:
        raise InvalidOption(f"unknown mode {mode!r}; choose one of {', '.join(PROMPTS)} or send a prompt")
    if mode == "locate":
        return PromptChoice(mode, PROMPTS[mode].format(phrase=_phrase(phrase)))
    return PromptChoice(mode, PROMPTS[mode])


def _phrase(phrase: str | None) -> str:
    phrase = (phrase or "").strip()
    if not phrase:
        raise InvalidOption("mode 'locate' needs a 'phrase' field: the text to find on the page")
    if len(phrase) > MAX_PHRASE_CHARS:
        raise InvalidOption(f"phrase is longer than {MAX_PHRASE_CHARS} characters")
    if any(token in phrase for token in SPECIAL_TOKENS) or IMAGE_TOKEN in phrase:
        raise InvalidOption("phrase may not contain the model's special tokens")
    return phrase


def _custom_prompt(prompt: str) -> str:
    prompt = prompt.strip()
    if not prompt or prompt == IMAGE_TOKEN:
        raise InvalidOption("prompt is empty")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidOption(f"prompt is longer than {MAX_PROMPT_CHARS} characters")
    if prompt.count(IMAGE_TOKEN) > 1:
        raise InvalidOption("prompt may contain <image> at most once: one page goes with each request")
    if IMAGE_TOKEN not in prompt:
        prompt = f"{IMAGE_TOKEN}\n{prompt}"
    elif not prompt.startswith(IMAGE_TOKEN):
        raise InvalidOption("<image> must come first in the prompt")
    return prompt


def chat_text(prompt: str) -> str:
    """The prompt as the text part of an OpenAI chat message: vLLM's chat template puts
    ``<image>\\n`` before it itself, so it must not be there twice."""
    if prompt.startswith(IMAGE_TOKEN):
        return prompt[len(IMAGE_TOKEN) :].lstrip("\n")
    return prompt
