"""What New folder (F7) does off the GUI thread: make the folder, then check that it lists as one.

An object store has no folders, only a zero-byte ``name/`` marker that S3 consoles show as one. A file-backed
server (``rclone serve s3``, a NAS gateway) stores that marker as a 0-byte *file* ``name``: it lists as a file and
a later ``name/inside`` cannot be written under it. So after writing the marker this asks for the object ``name``:
S3, SeaweedFS and moto have none (404), such a server has the file, which is removed again. Plain Python, no Qt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend

log = logging.getLogger(__name__)

Outcome = Literal["made", "exists", "cannot-exist"]
"""``made``: the folder lists as one now; ``exists``: it did already; ``cannot-exist``: this volume keeps no empty
folders (its marker became a file, which was removed): the folder appears once a file is copied into it."""


@dataclass(frozen=True)
class NewFolder:
    outcome: Outcome
    key: str


def make_folder(backend: VolumeBackend, key: str) -> NewFolder:
    """Make folder ``key`` on ``backend``; ConflictError when a file of that name is in the way."""
    key = key.strip("/")
    if backend.local_path(key) is not None:
        backend.make_dir(key)  # a real directory: it lists as one
        return NewFolder("made", key)
    if backend.is_dir(key):
        return NewFolder("exists", key)
    if _is_file(backend, key):
        raise errors.ConflictError("a file of this name is already here", volume=backend.volume, path=key)
    backend.make_dir(key)
    if not _is_file(backend, key):
        return NewFolder("made", key)
    log.info("%s stores folder markers as files: removing the 0-byte %r it made", backend.volume, key)
    backend.delete(key)
    return NewFolder("cannot-exist", key)


def _is_file(backend: VolumeBackend, key: str) -> bool:
    try:
        backend.stat(key)
    except errors.NotFoundError:
        return False
    return True
