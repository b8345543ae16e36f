"""Any document VLM served by an OpenAI-compatible chat-completions server (``vllm serve``), read
through a preset per model family (issue #21)."""
