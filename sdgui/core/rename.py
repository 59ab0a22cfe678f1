"""Renaming one file or folder where it is: one step on a local disk; on an object store, which has no rename, a move
job (a verified server-side copy to the new key, then deleting the old one; a folder is every object under it).

``check_new_name`` is pure; ``prepare_rename`` asks the volume (run it off the GUI thread): it looks at the source and
the destination afresh, not at a listing that may be stale, and renames at once where the volume can."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.conflict_scan import entry_at
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.paths import SdPath

COUNT_LIMIT = 10_000
"""Objects under a cloud folder counted before a rename asks; beyond it the count says "more than"."""


@dataclass(frozen=True)
class Renamed:
    """Done in one step (a local rename)."""

    source: SdPath
    target: SdPath


@dataclass(frozen=True)
class MoveNeeded:
    """The volume cannot rename: the rename is a move job. ``objects`` is how many objects a folder holds (counted up
    to ``COUNT_LIMIT``; ``counted_all`` False beyond), 1 for a single object."""

    source: SdPath
    target: SdPath
    objects: int
    counted_all: bool = True

    @property
    def is_dir(self) -> bool:
        return self.source.is_dir

    def action(self, verify: VerifyMode) -> CopyAction:
        """The move: a destination that is not marked as a folder takes the source's new name (never goes under
        it); an existing name fails the file rather than replacing it, and a source is deleted only once its copy
        is verified as far as ``verify`` asks."""
        options = CopyOptions(on_conflict="fail", verify=verify, delete_after_copy=True)
        return CopyAction([self.source], self.target.as_file(), options)


RenameStep = Renamed | MoveNeeded


def check_new_name(source: SdPath, new_name: str) -> SdPath:
    """The path ``source`` gets when renamed to ``new_name`` in its folder; InvalidPathError when the name cannot
    be one (empty, a ``/``, ``.`` or ``..``, a NUL) or is the name it has."""
    where = str(source)
    if source.is_root:
        raise errors.InvalidPathError("a volume or disk root cannot be renamed", path=where)
    if not new_name.strip():
        raise errors.InvalidPathError("the new name is empty", path=where)
    if "/" in new_name or (source.is_local and os.sep in new_name):
        raise errors.InvalidPathError(f"a name cannot contain “/” ({new_name!r})", path=where)
    if new_name in (".", "..") or "\0" in new_name:
        raise errors.InvalidPathError(f"{new_name!r} cannot be a name", path=where)
    if new_name == source.name:
        raise errors.InvalidPathError("the new name is the name it has", path=where)
    target = source.parent().join(new_name)
    return target.as_dir() if source.is_dir else target.as_file()


def prepare_rename(
    backends: BackendCache, source: SdPath, new_name: str, *, count_limit: int = COUNT_LIMIT
) -> RenameStep:
    """Check the name and the volume afresh, then rename in one step where the volume can; else say what the move
    job has to do. ConflictError when the new name is taken (a file, a folder or a prefix), NotFoundError when the
    source has gone, PermissionDeniedError on a read-only volume."""
    target = check_new_name(source, new_name)
    if source.volume is not None and backends.registry.get(source.volume).read_only:
        raise errors.PermissionDeniedError("the volume is read-only", volume=source.volume, path=source.path)
    backend = backends.get(source.volume)
    src_key, dst_key = source.backend_key, target.backend_key
    _check_source(backend, source)
    if backend.local_path(src_key) is None and _taken(backend, dst_key):
        raise errors.ConflictError("a file or folder of this name already exists", path=str(target.as_file()))
    if backend.rename(src_key, dst_key) is not None:  # a local volume checks the name itself, next to its rename
        return Renamed(source, target)
    if not source.is_dir:
        return MoveNeeded(source, target, 1)
    objects, counted_all = _count(backend, src_key, count_limit)
    return MoveNeeded(source, target, objects, counted_all)


def _check_source(backend: VolumeBackend, source: SdPath) -> None:
    key = source.backend_key
    if source.is_dir:
        if not backend.is_dir(key):
            raise errors.NotFoundError("the folder is no longer there", path=str(source))
        return
    try:
        backend.stat(key)
    except errors.NotFoundError:
        raise errors.NotFoundError("the file is no longer there", path=str(source)) from None


def _taken(backend: VolumeBackend, key: str) -> bool:
    """Whether ``key`` names a file or object, or a folder or non-empty prefix (a file and a folder of one name
    cannot both list in a folder)."""
    return entry_at(backend, key, as_folder=True) is not None


def _count(backend: VolumeBackend, key: str, limit: int) -> tuple[int, bool]:
    count = 0
    for page in backend.list(key, recursive=True):
        count += len(page)
        if count > limit:
            return limit, False
    return count, True
