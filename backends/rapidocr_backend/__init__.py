"""The embedded CPU backend: PP-OCRv4 through rapidocr-onnxruntime, whose ONNX models ship in its wheel."""
