"""VolumeBackend over the local filesystem; every write is atomic (temporary file, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat as stat_mod
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from sdgui.core import errors
from sdgui.core.backends.atomic_file import AtomicFile
from sdgui.core.backends.base import (
    MTIME_KEY,
    BeforeCommit,
    Capabilities,
    Entry,
    ObjectProperties,
    VolumeBackend,
    WriteResult,
)
from sdgui.core.backends.os_errors import os_error
from sdgui.core.cancel import CancelToken
from sdgui.core.settings import MiB

READ_CHUNK = 4 * MiB


class LocalBackend(VolumeBackend):
    """Files under ``root``; keys are paths relative to it with ``/`` separators."""

    def __init__(self, root: Path, *, volume: str = "local") -> None:
        self.root = Path(os.path.abspath(root))
        self._root = str(self.root)
        self._inside = self._root if self._root.endswith(os.sep) else self._root + os.sep
        self.volume = volume
        self.capabilities = Capabilities(is_local=True)
        # Plain local paths are named by their absolute path alone in messages, not as a volume called "local".
        self.error_volume = None if volume == "local" else volume

    def path(self, key: str) -> Path:
        """The filesystem path of ``key``, refusing anything that would leave ``root``."""
        return Path(self._joined(key))

    def _joined(self, key: str) -> str:
        """``path`` as a string."""
        joined = os.path.normpath(os.path.join(self._root, key.strip("/")))
        if joined != self._root and not joined.startswith(self._inside):  # lexical, as normpath leaves it
            raise errors.InvalidPathError("the path leaves the volume", volume=self.error_volume, path=key)
        return joined

    def key_of(self, path: Path) -> str:
        relative = os.path.relpath(path, self.root)
        return "" if relative == os.curdir else relative.replace(os.sep, "/")  # ".git" stays ".git"

    def local_path(self, key: str) -> Path:
        return self.path(key)

    def key_of_local(self, path: Path) -> str:
        return self.key_of(path)

    def _where(self, key: str, joined: str | None = None) -> str:
        """How an error names ``key``: its full path on the "local" volume (``joined``, when already made)."""
        if self.volume != "local":
            return key
        return joined if joined is not None else self._joined(key)

    def _entry(self, key: str, st: os.stat_result) -> Entry:
        is_dir = stat_mod.S_ISDIR(st.st_mode)
        return Entry(
            key=key,
            is_dir=is_dir,
            size=0 if is_dir else st.st_size,
            modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
            metadata={MTIME_KEY: repr(st.st_mtime)},
        )

    def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> Iterator[list[Entry]]:
        pending = [prefix.strip("/")]
        page: list[Entry] = []
        while pending:
            current = pending.pop()
            try:
                with os.scandir(self.path(current)) as it:
                    empty = True
                    for item in it:
                        empty = False
                        key = f"{current}/{item.name}" if current else item.name
                        try:
                            st = item.stat(follow_symlinks=True)
                        except OSError:
                            continue  # a dangling symlink or a file that vanished while listing
                        entry = self._entry(key, st)
                        if recursive and entry.is_dir:
                            pending.append(key)
                            continue
                        page.append(entry)
                        if len(page) >= page_size:
                            yield page
                            page = []
                    if recursive and empty and current != prefix.strip("/"):
                        # An empty folder has no file to stand for it: listed itself, so a copy keeps it.
                        page.append(Entry(key=current, is_dir=True))
            except OSError as exc:
                raise os_error(exc, volume=self.error_volume, path=self._where(current)) from None
        if page:
            yield page

    def stat(self, key: str) -> Entry:
        try:
            return self._entry(key.strip("/"), os.stat(self.path(key)))
        except OSError as exc:
            raise os_error(exc, volume=self.error_volume, path=self._where(key)) from None

    def properties(self, key: str) -> ObjectProperties:
        """What the OS tells: size, modified time and the mode bits (``-rw-r--r--``)."""
        try:
            st = os.stat(self.path(key))
        except OSError as exc:
            raise os_error(exc, volume=self.error_volume, path=self._where(key)) from None
        return ObjectProperties(self._entry(key.strip("/"), st), permissions=stat_mod.filemode(st.st_mode))

    def is_dir(self, key: str) -> bool:
        return self.path(key).is_dir()

    def read(self, key: str, *, offset: int = 0, if_match: str | None = None) -> Iterator[bytes]:
        yield from self.read_range(key, offset, None)

    def read_range(self, key: str, start: int, end: int | None, *, if_match: str | None = None) -> Iterator[bytes]:
        try:
            with open(self._joined(key), "rb", buffering=0) as handle:
                handle.seek(start)
                size = os.fstat(handle.fileno()).st_size
                position = start
                while end is None or position < end:
                    # Never ask for more than the file holds: a 4 MiB buffer for a small file, shrunk after the
                    # read, costs time and leaves the C heap fragmented (RSS that grows with the number of files).
                    want = min(READ_CHUNK, max(size - position, 1), READ_CHUNK if end is None else end - position)
                    chunk = handle.read(want)
                    if not chunk:
                        return
                    position += len(chunk)
                    yield chunk
        except OSError as exc:
            raise os_error(exc, volume=self.error_volume, path=self._where(key)) from None

    def open_atomic(self, key: str, *, tag: str | None = None) -> AtomicFile:
        """A temporary file that replaces ``key`` on commit; ``tag`` fixes its name and keeps what it holds."""
        joined = self._joined(key)
        return AtomicFile(joined, volume=self.error_volume, key=self._where(key, joined), tag=tag)

    def write(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> WriteResult:
        target = self.open_atomic(key)
        written = 0
        try:
            for chunk in chunks:
                target.pwrite(chunk, written)
                written += len(chunk)
            target.sync()
            if before_commit is not None:
                before_commit()
            mtime = (metadata or {}).get(MTIME_KEY)
            target.commit(mtime=float(mtime) if mtime else None)
        except BaseException:
            target.discard()
            raise
        return WriteResult(written)

    def copy(self, src_key: str, dst_key: str) -> None:
        self.write(dst_key, self.read(src_key), metadata=self.stat(src_key).metadata)

    def rename(self, src_key: str, dst_key: str) -> Entry:
        """os.rename, refusing an existing destination (POSIX rename would replace a file or an empty folder); a
        change of case only, on a file system that ignores case, is allowed. The check and the rename are two
        steps: what appears in between is replaced (a rename without replace is not portable)."""
        src, dst = self.path(src_key), self.path(dst_key)
        if src == self.root or dst == self.root:
            raise errors.InvalidPathError("cannot rename the volume's root", volume=self.error_volume, path=src_key)
        try:
            if os.path.lexists(dst) and not _same_entry(src, dst):
                raise errors.ConflictError(
                    "a file or folder of this name already exists", volume=self.error_volume, path=self._where(dst_key)
                )
            os.rename(src, dst)
            return self._entry(dst_key.strip("/"), os.stat(dst))
        except OSError as exc:
            where = dst_key if isinstance(exc, FileExistsError) else src_key
            raise os_error(exc, volume=self.error_volume, path=self._where(where)) from None

    def delete(self, key: str) -> None:
        path = self.path(key)
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise os_error(exc, volume=self.error_volume, path=self._where(key)) from None

    def delete_folder_marker(self, key: str) -> None:
        """A local folder has no marker: a move removes the folders it emptied at its end."""

    def delete_tree(self, key: str, cancel: CancelToken, *, on_deleted: Callable[[str], None] | None = None) -> int:
        """Files first, then the emptied directories bottom-up; a symlink is removed, never followed."""
        top = self.path(key)
        if top == self.root:
            raise errors.InvalidPathError("refusing to delete the whole volume", volume=self.error_volume, path=key)
        if top.is_symlink() or not top.is_dir():
            cancel.check()
            self.delete(key)
            if on_deleted is not None:
                on_deleted(key)
            return 1
        deleted = 0

        def failed(exc: OSError) -> None:
            raise exc

        try:
            for directory, subdirs, files in os.walk(top, topdown=False, onerror=failed, followlinks=False):
                here = Path(directory)
                # os.walk lists a symlink to a directory among the subdirectories, without entering it.
                for name in [*files, *(d for d in subdirs if (here / d).is_symlink())]:
                    cancel.check()
                    (here / name).unlink(missing_ok=True)
                    deleted += 1
                    if on_deleted is not None:
                        on_deleted(self.key_of(here / name))
                cancel.check()
                with contextlib.suppress(FileNotFoundError):
                    here.rmdir()
        except OSError as exc:
            where = self.key_of(Path(exc.filename)) if exc.filename else key
            raise os_error(exc, volume=self.error_volume, path=self._where(where)) from None
        return deleted

    def make_dir(self, key: str) -> None:
        try:
            self.path(key).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, volume=self.error_volume, path=self._where(key)) from None

    def free_space(self, key: str) -> int | None:
        path = self.path(key)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            return shutil.disk_usage(path).free
        except OSError:
            return None


def _same_entry(a: Path, b: Path) -> bool:
    """Whether two paths name one directory entry (``a.txt`` and ``A.txt`` on a file system that ignores case)."""
    try:
        return os.path.samefile(a, b) and os.path.basename(a).lower() == os.path.basename(b).lower()
    except OSError:
        return False
