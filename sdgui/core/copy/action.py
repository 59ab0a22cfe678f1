"""CopyAction: a user's copy or move request, validated before any byte moves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sdgui.core import errors
from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.conflicts import ConflictPolicy
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.paths import SdPath


def target_name(source: SdPath) -> str:
    """The name ``source`` takes in a destination folder (a volume's root copies as a folder named for it)."""
    return source.name or (source.volume or "root")


@dataclass(frozen=True)
class CopyOptions:
    """How a copy behaves: conflicts, verification, timestamps, move."""

    on_conflict: ConflictPolicy = "fail"
    verify: VerifyMode = "on"
    preserve_mtime: bool = True
    delete_after_copy: bool = False


@dataclass(frozen=True)
class ResolvedSource:
    """One source, found to exist, with the directory or key it lands at."""

    path: SdPath
    backend: VolumeBackend
    key: str
    is_dir: bool
    size: int
    target_key: str
    stat: Entry | None = None
    """A single file's stat from validation (with its metadata): the copy need not ask again."""


@dataclass(frozen=True)
class ResolvedAction:
    """A validated CopyAction: every source exists and knows where it goes."""

    sources: list[ResolvedSource]
    destination: SdPath
    dst_backend: VolumeBackend
    options: CopyOptions


@dataclass
class CopyAction:
    """Copy (or move) ``sources`` to ``destination``; local and cloud SdPaths alike.

    A destination that is a directory (trailing ``/``, an existing directory or prefix, or several sources)
    receives each source under its own name; otherwise the single source takes the destination's name.
    """

    sources: list[SdPath]
    destination: SdPath
    options: CopyOptions = field(default_factory=CopyOptions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data, enough to re-create this action exactly (what the job journal keeps)."""
        return {
            "kind": "move" if self.options.delete_after_copy else "copy",
            "sources": [source.to_dict() for source in self.sources],
            "destination": self.destination.to_dict(),
            "options": asdict(self.options),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CopyAction:
        known = CopyOptions.__dataclass_fields__
        options = CopyOptions(**{k: v for k, v in data["options"].items() if k in known})
        return cls([SdPath.from_dict(s) for s in data["sources"]], SdPath.from_dict(data["destination"]), options)

    def summary(self) -> str:
        """``copy /data/photos/ → cloud:backup/`` or ``move 3 sources (a.txt, …) → …``."""
        verb = "move" if self.options.delete_after_copy else "copy"
        first = str(self.sources[0]) if self.sources else "?"
        what = first if len(self.sources) == 1 else f"{len(self.sources)} sources ({first}, …)"
        return f"{verb} {what} → {self.destination}"

    def validate(self, backends: BackendCache) -> ResolvedAction:
        """Check the request against the volumes; raise an SdError naming the first problem."""
        if not self.sources:
            raise errors.InvalidPathError("nothing to copy")
        dst_backend = backends.get(self.destination.volume)
        if self.destination.volume is not None and backends.registry.get(self.destination.volume).read_only:
            raise errors.PermissionDeniedError("the volume is read-only", volume=self.destination.volume, path="")
        dst_key = self.destination.backend_key
        dst_is_dir = self.destination.is_dir or len(self.sources) > 1 or dst_backend.is_dir(dst_key)
        _check_writable(dst_backend, dst_key, self.destination)
        resolved = [self._resolve(source, backends, dst_backend, dst_key, dst_is_dir) for source in self.sources]
        return ResolvedAction(resolved, self.destination, dst_backend, self.options)

    def _resolve(
        self, source: SdPath, backends: BackendCache, dst_backend: VolumeBackend, dst_key: str, dst_is_dir: bool
    ) -> ResolvedSource:
        backend = backends.get(source.volume)
        key = source.backend_key
        stat: Entry | None = None
        if source.is_dir or not key:
            is_dir, size = True, 0
            if key and not backend.is_dir(key):
                raise errors.NotFoundError("no such directory or prefix", path=str(source))
        else:
            try:
                stat = backend.stat(key)
                is_dir, size = stat.is_dir, stat.size
            except errors.NotFoundError:
                if backend.capabilities.is_local or not backend.is_dir(key):
                    raise errors.NotFoundError("the source does not exist", path=str(source)) from None
                is_dir, size = True, 0
        name = target_name(source)
        target = (f"{dst_key}/{name}" if dst_key else name) if dst_is_dir else dst_key
        same_volume = backend is dst_backend
        if same_volume and is_dir and (target == key or target.startswith(key + "/") or not key):
            raise errors.InvalidPathError("cannot copy a directory into itself", path=str(source))
        if same_volume and not is_dir and target == key and self.options.on_conflict != "rename":
            raise errors.InvalidPathError(
                "cannot copy a file onto itself (use --on-conflict rename to make a duplicate)",
                path=str(source),
            )
        return ResolvedSource(source, backend, key, is_dir, size, target, None if is_dir else stat)


def _check_writable(backend: VolumeBackend, key: str, destination: SdPath) -> None:
    path = backend.local_path(key)
    if path is None:
        return
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        path = path.parent
    if not os.access(path, os.W_OK):
        raise errors.PermissionDeniedError(f"cannot write into {path}", path=str(destination))
