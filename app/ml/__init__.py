"""Training, validation, ONNX export, parity and drift statistics."""
