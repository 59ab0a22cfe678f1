"""The checksums a multipart upload's parts carry, so that the server checks each part and the assembled object.

CRC64NVME where the server has it (S3 and SeaweedFS keep it as the object's full-object checksum, which any tool can
check after a download; it costs the client a sixth of a SHA-256's CPU), else SHA-256, else Content-MD5 (servers
without flexible checksums, such as rclone serve s3). Values are base64 of the big-endian digest, as S3 carries them.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import anycrc

PartChecksum = Literal["crc64nvme", "sha256", "md5"]
"""How the server validates each part: x-amz-checksum-crc64nvme, x-amz-checksum-sha256, or Content-MD5."""


@functools.cache
def crc64nvme_model() -> anycrc.Model:
    """anycrc's CRC-64/NVME, imported on first use (it brings bitarray; a listing needs neither)."""
    import anycrc

    return anycrc.Model("CRC64-NVME")


def sha256_b64(data: bytes | memoryview) -> str:
    """The base64 SHA-256 of ``data``, as S3's x-amz-checksum-sha256 carries it."""
    import hashlib  # here: a listing, which imports this module, hashes nothing

    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def crc64nvme_b64(value: int) -> str:
    return base64.b64encode(value.to_bytes(8, "big")).decode("ascii")


def part_checksum_b64(algorithm: PartChecksum, data: bytes | memoryview) -> str | None:
    """The base64 checksum of a part's ``data`` in ``algorithm`` (None for md5 uploads: their parts carry a
    Content-MD5 and the server's ETag)."""
    if algorithm == "crc64nvme":
        return crc64nvme_b64(crc64nvme_model().calc(data))
    if algorithm == "sha256":
        return sha256_b64(data)
    return None


def full_object_crc64nvme(parts: Iterable[tuple[str, int]]) -> str | None:
    """The CRC64NVME of the whole object from its parts' (base64 CRC64NVME, size) in order; None when a part's
    value is not one."""
    model = crc64nvme_model()
    total: int | None = None
    for value, size in parts:
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        if len(raw) != 8:
            return None
        crc = int.from_bytes(raw, "big")
        total = crc if total is None else model.combine(total, crc, size)
    return None if total is None else crc64nvme_b64(total)
