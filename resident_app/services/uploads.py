"""Uploaded evidence (invoices, the registry's 無効化通知, bank slips): checked by its first bytes
and kept once per content under the upload folder."""
from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import StoredFile, User
from .accounts import actor_name
from .audit import add_audit
from .errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What we accept, by the file's first bytes; the name's extension must agree with them.
UPLOAD_KINDS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
}

class _Upload(Protocol):
    filename: str | None
    stream: BinaryIO


def upload_root() -> Path:
    """Where uploads live: UPLOAD_FOLDER if configured, else instance/uploads."""
    configured = current_app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def stored_file_path(stored: StoredFile) -> Path:
    """The file on disk, for send_file (the name shown is stored.original_name)."""
    return upload_root() / stored.storage_path


def _display_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    return name.strip()[:255]


def _sniff(head: bytes) -> str | None:
    for content_type, (magic, _) in UPLOAD_KINDS.items():
        if head.startswith(magic):
            return content_type
    return None


def store_upload(file_storage: _Upload, *, actor: User) -> StoredFile:
    """Keep an uploaded PDF, PNG or JPEG (checked by its first bytes, at most 10 MB) under
    <upload folder>/<sha256[:2]>/<sha256>.<ext>, with its original name, type, size and hash."""
    name = _display_name(getattr(file_storage, "filename", None))
    if not name:
        raise DomainError(_l("Choose a file to upload."), field="file")
    extension = os.path.splitext(name)[1].lower()
    root = upload_root()
    root.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := file_storage.stream.read(64 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise DomainError(_l("The file is larger than %(mb)d MB.", mb=MAX_UPLOAD_BYTES // 2**20),
                                      field="file")
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise DomainError(_l("The file is empty."), field="file")
        content_type = _sniff(head)
        if content_type is None or extension not in UPLOAD_KINDS[content_type][1]:
            raise DomainError(_l("Upload a PDF, PNG or JPEG file (the file's content and its name must "
                                 "agree)."), field="file")
        sha256 = digest.hexdigest()
        relative = f"{sha256[:2]}/{sha256}{UPLOAD_KINDS[content_type][1][0]}"
        destination = root / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():  # the same bytes uploaded before: keep one copy
            os.unlink(temporary)
        else:
            os.replace(temporary, destination)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    stored = StoredFile(sha256=sha256, original_name=name, content_type=content_type, size_bytes=size,
                        storage_path=relative, uploaded_by=actor_name(actor))
    db.session.add(stored)
    db.session.flush()
    add_audit(actor_name(actor), "file.upload", "stored_file", stored.id, None,
              {"name": name, "content_type": content_type, "size_bytes": size, "sha256": sha256})
    db.session.commit()
    return stored


