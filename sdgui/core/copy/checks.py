"""The checks a copy can be proved with: sdgui's blake3, or the strongest checksum the provider holds.

Every download is hashed with blake3 as it is written (the journal and later copies rely on it); where the object
carries no sdgui blake3, the same pass computes the provider's strongest whole-object checksum too, and the two
are compared. ``file_done`` then names the check that proved the bytes.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from blake3 import blake3

from sdgui.core.backends.base import CompositeChecksum, Entry, crc64nvme_model

BLAKE3 = "blake3"
PROVIDER_CHECKS: tuple[str, ...] = ("sha256", "sha1", "md5", "crc64nvme", "crc32c", "crc32")
"""Provider checksums by strength, when an object has no sdgui blake3: the longer a digest, the fewer damaged
copies it lets through (an MD5 misses far fewer than a CRC-64 or a CRC-32). An MD5 that comes from an ETag is
offered only where the backend expects it to be one, and a mismatch asks the service again before it fails."""
COMPOSITE_SUFFIX = "-composite"
"""A check named ``sha256-composite`` (say) is S3's composite checksum: the SHA-256 of the parts' SHA-256s."""
HASH_BUFFER = 16 * 1024 * 1024
PARTS_DO_NOT_FIT = "short or long: the bytes do not fill the parts"
"""A composite check's value when the bytes are more or fewer than its parts hold: it matches no stored value."""


class Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


class _Crc:
    """A running CRC (zlib's CRC32, the crc32c package's hardware CRC32C, anycrc's CRC64NVME), as big-endian hex."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._value = 0
        self._started = False
        self._width = 16 if name == "crc64nvme" else 8
        # The CRC packages are imported by the first CRC of theirs, not by every `sdgui copy` at start: crc32c reads
        # its own package metadata on import (~15 ms), anycrc brings bitarray; few copies need either.
        if name == "crc32c":
            import crc32c

            self._crc32c = crc32c.crc32c
        elif name == "crc64nvme":
            self._crc64nvme = crc64nvme_model()

    def update(self, data: bytes | memoryview, /) -> None:
        if self._name == "crc32":
            self._value = zlib.crc32(data, self._value)
        elif self._name == "crc32c":
            self._value = self._crc32c(data, self._value)
        else:
            crc = self._crc64nvme
            self._value = crc.calc(data, init=self._value) if self._started else crc.calc(data)
            self._started = True

    def hexdigest(self) -> str:
        return f"{self._value:0{self._width}x}"


class _CompositeDigest:
    """S3's composite checksum of bytes fed in order: one digest per part of ``part_sizes``, then the digest of
    those digests' bytes, concatenated."""

    def __init__(self, algorithm: str, part_sizes: tuple[int, ...]) -> None:
        self._algorithm = algorithm
        self._left = list(part_sizes)
        self._part = new_digest(algorithm)
        self._part_bytes = self._left.pop(0) if self._left else 0
        self._digests = bytearray()
        self._overrun = False

    def update(self, data: bytes | memoryview, /) -> None:
        view = memoryview(data)
        while view:
            if self._part_bytes == 0:
                self._overrun = True  # more bytes than the parts hold: can never match
                return
            take = min(self._part_bytes, len(view))
            self._part.update(view[:take])
            view = view[take:]
            self._part_bytes -= take
            if self._part_bytes == 0:
                self._digests += bytes.fromhex(self._part.hexdigest())
                if self._left:
                    self._part = new_digest(self._algorithm)
                    self._part_bytes = self._left.pop(0)

    def hexdigest(self) -> str:
        if self._overrun or self._part_bytes or self._left:
            return PARTS_DO_NOT_FIT
        return digest_of_digests(self._algorithm, bytes(self._digests))


def digest_of_digests(algorithm: str, part_digests: bytes) -> str:
    """A composite check's value: the digest, in ``algorithm``, of its parts' digests one after another."""
    combined = new_digest(algorithm)
    combined.update(part_digests)
    return combined.hexdigest()


def new_digest(
    name: str, size: int | None = None, part_sizes: tuple[int, ...] = (), *, all_cores: bool = True
) -> Digest:
    """A running digest of one of PROVIDER_CHECKS (or blake3: on all cores for more than a MiB of ``size`` unless
    told otherwise; or a composite check over ``part_sizes``)."""
    if name.endswith(COMPOSITE_SUFFIX):
        return _CompositeDigest(name.removesuffix(COMPOSITE_SUFFIX), part_sizes)
    if name == BLAKE3:
        wide = all_cores and (size is None or size > 1 << 20)
        return blake3(max_threads=blake3.AUTO if wide else 1)
    if name in ("crc32", "crc32c", "crc64nvme"):
        return _Crc(name)
    if name in ("md5", "sha1", "sha256"):
        return hashlib.new(name, usedforsecurity=False)
    raise ValueError(f"unknown checksum {name!r}")


@dataclass(frozen=True)
class Expected:
    """What a copy's bytes must hash to, and with which algorithm."""

    check: str
    value: str
    part_sizes: tuple[int, ...] = ()
    """For a composite check, the sizes of the parts the object was uploaded in."""
    from_etag: bool = False
    """The value is a multipart ETag, which a service may make otherwise than S3: a mismatch alone proves nothing."""


def expected_of(entry: Entry) -> Expected | None:
    """The strongest check ``entry`` offers: its sdgui blake3, else its provider's best whole-object checksum,
    else a composite one, checked part by part."""
    if entry.blake3:
        return Expected(BLAKE3, entry.blake3)
    return best_provider_check(entry.checksums) or _composite_check(entry.composite)


def _composite_check(composite: CompositeChecksum | None) -> Expected | None:
    if composite is None or composite.algorithm not in PROVIDER_CHECKS or not composite.part_sizes:
        return None
    return Expected(
        composite.algorithm + COMPOSITE_SUFFIX, composite.value.lower(), composite.part_sizes, composite.from_etag
    )


def best_provider_check(checksums: Mapping[str, str]) -> Expected | None:
    for name in PROVIDER_CHECKS:
        value = checksums.get(name)
        if value:
            return Expected(name, value.lower())
    return None


Chunk = TypeVar("Chunk", bound=bytes | memoryview)


class RunningChecks:
    """Each of ``names`` over chunks as they pass through a generator, counting them too (``size``, when known,
    picks blake3's threads; a composite check takes ``part_sizes``)."""

    def __init__(
        self, names: Iterable[str], size: int | None = None, part_sizes: tuple[int, ...] = (), *, all_cores: bool = True
    ) -> None:
        self._digests = {name: new_digest(name, size, part_sizes, all_cores=all_cores) for name in dict.fromkeys(names)}
        self.size = 0

    def through(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            self.update(chunk)
            yield chunk

    def update(self, chunk: bytes | memoryview) -> None:
        for digest in self._digests.values():
            digest.update(chunk)
        self.size += len(chunk)

    def results(self) -> dict[str, str]:
        return {name: digest.hexdigest() for name, digest in self._digests.items()}


def hash_all(
    chunks: Iterable[bytes | memoryview],
    names: Iterable[str],
    size: int | None = None,
    part_sizes: tuple[int, ...] = (),
) -> dict[str, str]:
    """Each of ``names`` over the same bytes, in one pass."""
    running = RunningChecks(names, size, part_sizes)
    for chunk in chunks:
        running.update(chunk)
    return running.results()


def hash_file_all(path: Path | str, names: Iterable[str], part_sizes: tuple[int, ...] = ()) -> dict[str, str]:
    """Each of ``names`` over a whole file, read once in pieces of up to 16 MiB (never mapped: mapped pages count
    as the process's memory)."""
    buffer = bytearray(max(1, min(HASH_BUFFER, os.path.getsize(path))))
    view = memoryview(buffer)

    def pieces() -> Iterable[memoryview]:
        with open(path, "rb", buffering=0) as handle:
            while n := handle.readinto(buffer):
                yield view[:n]

    return hash_all(pieces(), names, os.path.getsize(path), part_sizes)
