"""DeepSeek-OCR / DeepSeek-OCR-2 backend (port 5000, GPU 0)."""
