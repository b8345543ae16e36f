"""OCR backends, one sub-package each. Named so that none shadows a real package (e.g. ``mineru``)."""
