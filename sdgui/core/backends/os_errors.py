"""Translate OSErrors of local files into sdgui's error hierarchy."""

from __future__ import annotations

import errno

from sdgui.core import errors

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def os_error(exc: OSError, *, volume: str | None, path: str) -> errors.SdError:
    """Translate an OSError into the SdError a user should see."""
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_FULL:
        return errors.DiskFullError(f"no space left on the device ({reason})", volume=volume, path=path)
    if isinstance(exc, FileNotFoundError):
        return errors.NotFoundError("no such file or directory", volume=volume, path=path)
    if isinstance(exc, PermissionError):
        return errors.PermissionDeniedError(reason, volume=volume, path=path)
    if isinstance(exc, FileExistsError):
        return errors.ConflictError("already exists", volume=volume, path=path)
    if exc.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ):
        return errors.InvalidPathError(f"the file system refuses this name ({reason})", volume=volume, path=path)
    return errors.SdError(reason, volume=volume, path=path)
