"""Translate OSErrors of local files into sdgui's error hierarchy."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from sdgui.core import errors

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` (or ``path`` itself) when it is not a folder: making a folder
    there must fail. None when the nearest existing one is a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def os_error(exc: OSError, *, volume: str | None, path: str) -> errors.SdError:
    """Translate an OSError into the SdError a user should see."""
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_FULL:
        return errors.DiskFullError(f"no space left on the device ({reason})", volume=volume, path=path)
    if isinstance(exc, FileNotFoundError):
        return errors.NotFoundError("no such file or directory", volume=volume, path=path)
    if isinstance(exc, PermissionError):
        return errors.PermissionDeniedError(reason, volume=volume, path=path)
    if exc.errno == errno.ENOTDIR and exc.filename:
        blocking = file_in_the_way(Path(os.fsdecode(exc.filename)))
        if blocking is not None:
            return errors.InvalidPathError(f"{blocking} is a file, not a folder", volume=volume, path=path)
    if isinstance(exc, FileExistsError):
        return errors.ConflictError("already exists", volume=volume, path=path)
    if exc.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ):
        return errors.InvalidPathError(f"the file system refuses this name ({reason})", volume=volume, path=path)
    return errors.SdError(reason, volume=volume, path=path)
