"""A file written beside its target that replaces it only when complete (temporary file, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sdgui.core import errors
from sdgui.core.backends.os_errors import file_in_the_way, os_error


class AtomicFile:
    """A temporary file beside the target that becomes the target only on ``commit``.

    Supports positional writes so parallel ranged downloads can fill it out of order. With a ``tag`` the name is
    fixed (``.NAME.sdgui-TAG.part``) and an existing file of that name is opened as it is, so a download
    interrupted by a crash can carry on from the bytes it holds.
    """

    def __init__(self, target: Path, *, volume: str | None, key: str, tag: str | None = None) -> None:
        self.target = target
        self.volume = volume
        self.key = key
        self.temp = target.with_name(f".{target.name[:180]}.sdgui-{tag or secrets.token_hex(4)}.part")
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) | (0 if tag else os.O_EXCL)
        blocking = file_in_the_way(target.parent)
        if blocking is not None:  # mkdir would say "exists", which reads as if the file itself were there
            raise errors.InvalidPathError(f"{blocking} is a file, not a folder", volume=volume, path=key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.temp, flags, 0o666)
        except OSError as exc:
            raise os_error(exc, volume=volume, path=key) from None
        self.closed = False

    @property
    def size(self) -> int:
        """The temporary file's current length."""
        return os.fstat(self.fd).st_size

    def pwrite(self, data: bytes | memoryview, offset: int) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.pwrite(self.fd, view, offset)
                view = view[written:]
                offset += written
        except OSError as exc:
            raise os_error(exc, volume=self.volume, path=self.key) from None

    def truncate(self, size: int) -> None:
        try:
            os.ftruncate(self.fd, size)
        except OSError as exc:
            raise os_error(exc, volume=self.volume, path=self.key) from None

    def sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise os_error(exc, volume=self.volume, path=self.key) from None

    def datasync(self) -> None:
        """Make the bytes written so far durable (not the metadata): cheaper than ``sync``."""
        try:
            getattr(os, "fdatasync", os.fsync)(self.fd)
        except OSError as exc:
            raise os_error(exc, volume=self.volume, path=self.key) from None

    def commit(self, *, mtime: float | None = None) -> None:
        """fsync, close and rename over the target; restores ``mtime`` when given."""
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.closed = True
            if mtime is not None:
                os.utime(self.temp, (mtime, mtime))
            os.replace(self.temp, self.target)
            _fsync_dir(self.target.parent)
        except OSError as exc:
            self.discard()
            raise os_error(exc, volume=self.volume, path=self.key) from None

    def discard(self) -> None:
        """Close and remove the temporary file; safe to call twice."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
