"""Taking an evidence file from a staff form: store it, or keep the one stored on a refused try."""
from __future__ import annotations

from flask import request

from ..models import StoredFile, User
from ..services import DomainError
from ..services.uploads import store_upload
from .forms import FormState
from .queries import kept_upload


class _Refused:
    """Stands in for a file that could not be stored. The services refuse anything that is not a
    StoredFile, so the whole form is still checked in one go and nothing is written."""

    def __repr__(self) -> str:
        return "REFUSED_UPLOAD"


REFUSED = _Refused()


def take_upload(name: str, state: FormState, actor: User) -> StoredFile | _Refused | None:
    """The file chosen in field `name`, stored; else the file kept from a refused try of the same
    form; else None. A file that cannot be stored gets its message beside the field."""
    upload = request.files.get(name)
    if upload is not None and upload.filename:
        try:
            stored = store_upload(upload, actor=actor)
        except DomainError as error:
            state.errors[name] = error.message
            return REFUSED
        state.values[f"{name}_kept"] = stored  # offered again if the rest of the form is refused
        return stored
    kept = kept_upload(request.form.get(f"{name}_kept"), actor)
    if kept is not None:
        state.values[f"{name}_kept"] = kept
    return kept
