"""Saving an uploaded file to a temporary directory, in blocks, with a size limit."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from fangkong.core.errors import DomainError
from fangkong.core.i18n import Message

# Large enough for a province's residents as CSV (about 120 bytes a row: four million rows).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def save_upload(
    file: UploadFile, directory: str, *, default_name: str = "upload.csv", limit: int = MAX_UPLOAD_BYTES
) -> Path:
    """Write the upload under ``directory`` (keeping only its base name) and return the path.

    Blocking file I/O: call it from a plain ``def`` route (a worker thread), never on the event loop.
    """
    path = Path(directory) / (Path(file.filename or default_name).name or default_name)
    size = 0
    file.file.seek(0)
    with path.open("wb") as out:
        while block := file.file.read(1 << 20):
            size += len(block)
            if size > limit:
                raise DomainError(Message("file too large: more than {size} MB", size=limit // (1024 * 1024)))
            out.write(block)
    return path
