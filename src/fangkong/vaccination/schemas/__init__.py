"""Pydantic request and response models of the vaccination API, one module per use case."""
