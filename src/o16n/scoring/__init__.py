"""Realtime scoring: ONNX models run inside the web process, with adaptive batching."""
