"""The VolumeBackend interface: what every volume (local disk or object store) can do."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sdgui.core.backends.atomic_file import AtomicFile, DeferredSync
from sdgui.core.backends.part_checksums import crc64nvme_model, part_checksum_b64
from sdgui.core.backends.resumable_uploads import (
    MAX_PARTS,
    MIN_PART_SIZE,
    NewUpload,
    OpenUpload,
    PartChecksum,
    ResumableUploads,
    UploadedPart,
    choose_part_size,
    sha256_b64,
)

__all__ = [
    "AZURE_BLAKE3_KEY",
    "BLAKE3_KEY",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "MTIME_KEY",
    "S3_SINGLE_COPY_LIMIT",
    "SHARE_LINK_LIFETIMES",
    "STANDARD_HEADERS",
    "AtomicFile",
    "BeforeCommit",
    "Capabilities",
    "DeferredSync",
    "Entry",
    "NewUpload",
    "ObjectProperties",
    "OpenUpload",
    "PartChecksum",
    "RangeNotSupportedError",
    "ResumableUploads",
    "UploadedPart",
    "VolumeBackend",
    "WriteResult",
    "choose_part_size",
    "crc64nvme_model",
    "part_checksum_b64",
    "sha256_b64",
]

from sdgui.core import errors
from sdgui.core.cancel import CancelToken

S3_SINGLE_COPY_LIMIT = 5 * 1024**3
"""CopyObject refuses sources over 5 GiB; larger copies must stream."""

BLAKE3_KEY = "sdgui-blake3"
"""Object metadata key holding the blake3 of the object's bytes (hex)."""

AZURE_BLAKE3_KEY = "sdgui_blake3"
"""``BLAKE3_KEY`` as written on Azure, whose metadata names must be C# identifiers (no hyphens)."""

MTIME_KEY = "mtime"
"""Object metadata key holding the source file's mtime in Unix seconds (rclone's convention)."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do natively; the router and strategies read these."""

    is_local: bool
    server_side_copy: bool = False
    server_side_copy_max: int | None = None
    server_side_copy_whole: bool = False
    """A server-side copy the service said yes to is whole: S3's CopyObject answers once the copy is done, so
    nothing needs to ask for the copy's size afterwards (a HEAD that ``rclone serve s3`` answers by hashing it)."""
    range_reads: bool = False


@dataclass(frozen=True)
class CompositeChecksum:
    """S3's checksum of a multipart object written with per-part checksums: the checksum of its parts' digests,
    one after another. It proves the bytes only with the part sizes they were uploaded in."""

    algorithm: str
    """"crc32", "crc32c", "sha1" or "sha256"; "md5" for a multipart ETag (``from_etag``)."""
    value: str
    """Lowercase hex of the checksum of the concatenated part digests."""
    part_sizes: tuple[int, ...]
    from_etag: bool = False
    """The value is a multipart ETag, which S3 makes the MD5 of its parts' MD5s (as do MinIO, Ceph and SeaweedFS);
    a service may make it otherwise, so a mismatch proves nothing until the same bytes arrive twice."""


@dataclass(frozen=True)
class Entry:
    """One file/object or directory/prefix, with a key relative to the volume root."""

    key: str
    is_dir: bool
    size: int = 0
    modified: datetime | None = None
    etag: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    checksums: Mapping[str, str] = field(default_factory=dict)
    """Whole-object checksums the service holds for the object's bytes as stored, by algorithm, each as the
    lowercase hex of the digest (a CRC big-endian): "md5", "sha1", "sha256", "crc32", "crc32c", "crc64nvme".
    A backend fills in only what provably covers the whole object: never a multipart ETag, an SSE-KMS ETag, or a
    composite (per-part) checksum. sdgui's own blake3 stays in ``metadata``."""
    composite: CompositeChecksum | None = None
    """A multipart object's composite checksum, where the service keeps one and the part sizes are known."""

    @property
    def name(self) -> str:
        return self.key.rstrip("/").rsplit("/", 1)[-1]

    @property
    def blake3(self) -> str | None:
        """sdgui's blake3 of the bytes, under either spelling of its key (Azure's has an underscore)."""
        return self.metadata.get(BLAKE3_KEY) or self.metadata.get(AZURE_BLAKE3_KEY)

    @property
    def mtime(self) -> float | None:
        raw = self.metadata.get(MTIME_KEY)
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None


SHARE_LINK_LIFETIMES = (
    ("1 hour", timedelta(hours=1)),
    ("1 day", timedelta(days=1)),
    ("7 days", timedelta(days=7)),
)
"""The expiries a share link is offered with; 7 days is the longest an S3 or GCS V4 signature may last."""

STANDARD_HEADERS = ("content-disposition", "content-encoding", "content-language")
"""An object's other standard headers: kept as they are when Content-Type or Cache-Control change."""


@dataclass(frozen=True)
class ObjectProperties:
    """One file or object as Properties shows it. ``entry`` holds size, dates, ETag, user metadata and the whole-object
    checksums (hex); the rest is what only Properties asks for. An object's headers (Content-Type, Cache-Control)
    are what a browser or CDN is told when it fetches the object."""

    entry: Entry
    content_type: str | None = None
    cache_control: str | None = None
    storage_class: str | None = None
    permissions: str | None = None
    """A local file's mode as ``ls -l`` shows it (``-rw-r--r--``)."""
    editable: bool = False
    """Content-Type and Cache-Control can be changed in place (``VolumeBackend.set_headers``)."""
    notes: tuple[str, ...] = ()
    """What this volume cannot tell or change, a sentence each."""
    other_headers: Mapping[str, str] = field(default_factory=dict)
    """Content-Disposition, -Encoding, -Language where set (lower-cased names)."""


@dataclass(frozen=True)
class WriteResult:
    """What the destination confirmed about a write."""

    size: int
    etag: str | None = None
    provider_checked: bool = False


BeforeCommit = Callable[[], None]
"""Called after every byte is written but before the write becomes visible; raising aborts it."""


class VolumeBackend(ABC):
    """One volume's storage: list, stat, read, read_range, write, copy, delete, and optional parts that return None
    where the volume has no such thing."""

    volume: str
    capabilities: Capabilities

    @abstractmethod
    def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> Iterator[list[Entry]]:
        """Stream the entries under directory ``prefix`` in pages; never the whole listing at once. Recursive:
        every file, and (where folders exist without files) every empty folder as an ``is_dir`` entry."""

    @abstractmethod
    def stat(self, key: str) -> Entry:
        """The file/object at ``key`` with its metadata; NotFoundError if absent."""

    def stat_with_checksums(self, key: str) -> Entry:
        """``stat``, with every whole-object checksum the service will tell (where that costs another request,
        as S3's additional checksums do, only this asks for them)."""
        return self.stat(key)

    @abstractmethod
    def is_dir(self, key: str) -> bool:
        """True when ``key`` is a directory (local) or a non-empty prefix (object store)."""

    @abstractmethod
    def read(self, key: str, *, offset: int = 0, if_match: str | None = None) -> Iterator[bytes]:
        """Stream the bytes of ``key`` from ``offset``; PreconditionError-like SdError if the ETag changed."""

    def read_whole(self, key: str) -> tuple[Entry, bytes]:
        """A small file/object and its metadata at once; object stores answer it with a single GET."""
        entry = self.stat(key)
        return entry, b"".join(self.read(key, if_match=entry.etag))

    @abstractmethod
    def read_range(
        self, key: str, start: int, end: int, *, if_match: str | None = None
    ) -> Iterator[bytes | memoryview]:
        """Stream bytes ``[start, end)`` (views of the library's buffers, not copies, where it has them); raises
        RangeNotSupportedError when the server ignores ranges."""

    @abstractmethod
    def write(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> WriteResult:
        """Write a stream of chunks to ``key``; whole or absent, never partial, also on error or cancel."""

    @abstractmethod
    def copy(self, src_key: str, dst_key: str) -> None:
        """Server-side copy within this volume."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete one file/object; a missing one is not an error."""

    @abstractmethod
    def make_dir(self, key: str) -> None:
        """Create a directory (local) or a zero-byte ``key/`` marker (object store)."""

    def delete_folder_marker(self, key: str) -> None:
        """Delete the zero-byte ``key/`` object that stands for a folder on an object store, and nothing under it (a
        move leaves no empty folder behind); a missing one is not an error. This default deletes ``key/``."""
        self.delete(f"{key.strip('/')}/")

    def delete_tree(self, key: str, cancel: CancelToken, *, on_deleted: Callable[[str], None] | None = None) -> int:
        """Delete everything under directory ``key`` and ``key`` itself, checking ``cancel`` between objects (what
        is not deleted yet stays whole); returns how many files/objects were deleted. ``on_deleted(key)`` hears each.
        This default lists recursively and deletes object by object, then the folder marker."""
        prefix = key.strip("/")
        deleted = 0
        for page in self.list(prefix, recursive=True):
            for entry in page:
                cancel.check()
                self.delete(entry.key)
                deleted += 1
                if on_deleted is not None:
                    on_deleted(entry.key)
        cancel.check()
        if prefix:
            self.delete(f"{prefix}/")  # the folder marker, if there is one
        return deleted

    def properties(self, key: str) -> ObjectProperties:
        """What Properties shows of ``key``; this default knows what ``stat_with_checksums`` tells."""
        return ObjectProperties(self.stat_with_checksums(key))

    def set_headers(
        self, key: str, *, content_type: str | None, cache_control: str | None, if_match: str | None
    ) -> ObjectProperties:
        """Give object ``key`` this Content-Type and Cache-Control (None or "" removes one), keeping its bytes, user
        metadata and other headers; ConflictError if its ETag is no longer ``if_match``. Only where
        ``properties(key).editable``; SdError elsewhere."""
        raise errors.SdError("the headers of files on this volume cannot be changed", volume=self.volume, path=key)

    def share_link(self, key: str, expires_in: timedelta) -> str | None:
        """A URL anyone can download object ``key`` with until ``expires_in`` has passed (a presigned GET), or None
        where the volume has no such thing (local disks). ConfigError where its credentials cannot sign one."""
        return None

    def free_space(self, key: str) -> int | None:
        """Free bytes where ``key`` would be written, or None when unknown (object stores)."""
        return None

    # -- optional parts: None where the volume cannot ---------------------------------------------------------
    def local_path(self, key: str) -> Path | None:
        """The filesystem path of ``key`` on a local volume (InvalidPathError if it leaves the volume), else None."""
        return None

    def key_of_local(self, path: Path) -> str | None:
        """The key of a filesystem path on a local volume, else None."""
        return None

    def open_atomic(self, key: str, *, tag: str | None = None) -> AtomicFile | None:
        """A temporary file that replaces ``key`` on commit (local volumes), else None.

        ``tag`` fixes the temporary's name and keeps what it holds, so an interrupted download can carry on."""
        return None

    def rename(self, src_key: str, dst_key: str) -> Entry | None:
        """Rename ``src_key`` to ``dst_key`` in one step where the volume can (a local directory entry), never over
        an existing name (ConflictError); returns the entry at its new name. None where the volume has no rename
        (an object store: a verified copy, then deleting the source, does it)."""
        return None

    def resumable_uploads(self) -> ResumableUploads | None:
        """Multipart uploads by id (s3, r2, azure), which resume across sessions and can be aborted, else None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; default does nothing."""


class RangeNotSupportedError(Exception):
    """The server answered a ranged GET with the whole object (rclone serve s3 does)."""
