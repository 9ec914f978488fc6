"""Telling: the report (text, markdown, JSON), TensorBoard, progress on stderr."""
