"""The resumable-upload part of the backend boundary: multipart uploads a caller names by id and can resume.

A backend that has them (s3, r2, azure) returns a ``ResumableUploads`` from ``VolumeBackend.resumable_uploads()``;
keys are relative to the volume root, as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sdgui.core.backends.part_checksums import PartChecksum, part_checksum_b64, sha256_b64
from sdgui.core.settings import MiB

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "NewUpload",
    "OpenUpload",
    "PartChecksum",
    "ResumableUploads",
    "UploadedPart",
    "choose_part_size",
    "sha256_b64",
]

MIN_PART_SIZE = 5 * MiB
"""S3 refuses smaller parts, except the last one."""
MAX_PARTS = 10_000


def choose_part_size(size: int, wanted: int) -> int:
    """``wanted``, raised to S3's 5 MiB minimum and, for huge files, to stay within 10,000 parts."""
    needed = -(-size // (MAX_PARTS * MiB)) * MiB  # whole MiB, rounded up
    return max(wanted, MIN_PART_SIZE, needed)


_MD5_HEX = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class OpenUpload:
    """One multipart upload that was started and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: datetime | None

    def age(self, now: datetime) -> timedelta | None:
        """How long ago it started (None when the server did not say)."""
        return None if self.initiated is None else now - self.initiated


@dataclass(frozen=True)
class UploadedPart:
    """A part the server holds: its number, ETag (unquoted), size and, for crc64nvme and sha256 uploads, its
    checksum (base64) in ``algorithm``."""

    number: int
    etag: str
    size: int
    checksum: str | None = None
    algorithm: PartChecksum = "md5"

    def matches(self, data: bytes | memoryview) -> bool:
        """True when ``data`` are provably the bytes of this part (same size, and its checksum or MD5 ETag)."""
        if len(data) != self.size:
            return False
        if self.checksum is not None and self.checksum == part_checksum_b64(self.algorithm, data):
            return True
        # The ETag of a part is the MD5 of its bytes on S3 without SSE-KMS/SSE-C; elsewhere it cannot prove anything.
        import hashlib  # here, as in sha256_b64: a listing, which imports this module, hashes nothing

        return _MD5_HEX.fullmatch(self.etag) is not None and self.etag == hashlib.md5(data).hexdigest()


@dataclass(frozen=True)
class NewUpload:
    """A started multipart upload and how its parts are checked."""

    upload_id: str
    checksum: PartChecksum


class ResumableUploads(Protocol):
    """Multipart uploads by id: start, fill, complete, abort, and find the ones left open."""

    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        """Start an upload with ``metadata`` stored on the object; per-part checksums where the server has them."""
        ...

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        """The parts the server holds for ``upload_id``; NotFoundError when the upload is gone."""
        ...

    def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        *,
        checksum: PartChecksum = "md5",
        cancel_check: Callable[[], None] | None = None,
    ) -> UploadedPart:
        """Send part ``number``; the server checks it against its ``checksum`` (CRC64NVME, SHA-256 or Content-MD5).
        ``cancel_check`` is called between the blocks sent: its CancelledError stops the part mid-send."""
        ...

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart], metadata: Mapping[str, str]) -> str:
        """Join the parts into the object; returns its ETag (unquoted). ``metadata`` is what ``start`` was given
        (S3 stored it then; Azure stores it now)."""
        ...

    def abort(self, key: str, upload_id: str) -> None:
        """Abort one upload and free its parts; one that is already gone is not an error."""
        ...

    def list_uploads(self, prefix: str = "") -> list[OpenUpload]:
        """Every unfinished upload under ``prefix``, all pages."""
        ...
