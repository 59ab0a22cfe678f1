"""A file written beside its target that replaces it only when complete (temporary file, fsync, rename), and
durability deferred over many small files (one filesystem sync for a batch instead of two fsyncs per file)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
from pathlib import Path

from sdgui.core import errors
from sdgui.core.backends.os_errors import file_in_the_way, os_error

log = logging.getLogger(__name__)

FLUSH_FILES = 256
"""A deferred sync runs at least every this many files (and whenever the job ends)."""


class AtomicFile:
    """A temporary file beside the target that becomes the target only on ``commit``.

    Supports positional writes so parallel ranged downloads can fill it out of order. With a ``tag`` the name is
    fixed (``.NAME.sdgui-TAG.part``) and an existing file of that name is opened as it is, so a download
    interrupted by a crash can carry on from the bytes it holds.
    """

    def __init__(self, target: str | os.PathLike[str], *, volume: str | None, key: str, tag: str | None = None) -> None:
        self._target = os.fspath(target)  # strings all the way: a Path per file costs more than the file's GET
        self._folder, name = os.path.split(self._target)
        self._temp = os.path.join(self._folder, f".{name[:180]}.sdgui-{tag or os.urandom(4).hex()}.part")
        self.volume = volume
        self.key = key
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) | (0 if tag else os.O_EXCL)
        try:
            try:
                self.fd = os.open(self._temp, flags, 0o666)  # the folder is usually there: one call, no stats
            except (FileNotFoundError, NotADirectoryError):
                folder = Path(self._folder)
                blocking = file_in_the_way(folder)
                if blocking is not None:  # mkdir would say "exists", which reads as if the file itself were there
                    raise errors.InvalidPathError(
                        f"{blocking} is a file, not a folder", volume=volume, path=key
                    ) from None
                folder.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(self._temp, flags, 0o666)
        except OSError as exc:
            raise os_error(exc, volume=volume, path=key) from None
        self.closed = False

    @property
    def temp(self) -> Path:
        """The temporary file's path."""
        return Path(self._temp)

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

    def commit(self, *, mtime: float | None = None, later: DeferredSync | None = None) -> None:
        """fsync, close and rename over the target; restores ``mtime`` when given. With ``later`` the fsyncs are
        left to that DeferredSync: the rename is still atomic, the bytes are durable once it has synced."""
        try:
            if later is None:
                os.fsync(self.fd)
            os.close(self.fd)
            self.closed = True
            if mtime is not None:
                os.utime(self._temp, (mtime, mtime))
            os.replace(self._temp, self._target)
            if later is None:
                _fsync_dir(self._folder)
        except OSError as exc:
            self.discard()
            raise os_error(exc, volume=self.volume, path=self.key) from None
        if later is not None:
            later.add(self._target, volume=self.volume, key=self.key)

    def discard(self) -> None:
        """Close and remove the temporary file; safe to call twice."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)


def _fsync_dir(directory: str) -> None:
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DeferredSync:
    """Files renamed into place without their fsyncs, made durable together: ``syncfs`` once per filesystem
    (Linux; one journal commit for the lot, where an fsync per file and per folder costs milliseconds each), else
    an fsync of each file and folder. It syncs every FLUSH_FILES files and when ``flush`` is called, which a job does
    before it reports its end. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._pending: list[tuple[str, str | None, str]] = []

    def add(self, path: str, *, volume: str | None, key: str) -> None:
        with self._lock:
            self._pending.append((path, volume, key))
            due = len(self._pending) >= FLUSH_FILES
        if due:
            self.flush()

    def flush(self) -> None:
        """Make every file added so far durable; the SdError of the first that cannot be."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, []
            synced: set[int] = set()
            folder_synced: dict[str, bool] = {}  # a batch's files mostly share a few folders: one look at each
            for path, volume, key in pending:
                folder = os.path.dirname(path)
                try:
                    done = folder_synced.get(folder)
                    if done is None:
                        device = os.stat(folder).st_dev
                        done = device in synced or _syncfs(folder)
                        if done:
                            synced.add(device)
                        folder_synced[folder] = done
                    if not done:
                        _fsync_path(path)
                        _fsync_dir(folder)
                except OSError as exc:
                    raise os_error(exc, volume=volume, path=key) from None


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(directory: str) -> bool:
    """syncfs(2) on the filesystem holding ``directory``; False where there is none (not Linux/glibc)."""
    call = getattr(_LIBC, "syncfs", None) if _LIBC is not None else None
    if call is None:
        return False
    fd = os.open(directory, os.O_RDONLY)
    try:
        if call(fd) != 0:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number), str(directory))
        return True
    finally:
        os.close(fd)


def _load_libc() -> ctypes.CDLL | None:
    if os.name == "nt":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's among them
    except OSError:
        return None


_LIBC = _load_libc()
