"""Tesseract 5 (through tesserocr) on the CPU, port 5003."""
