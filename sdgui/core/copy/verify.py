"""blake3 checksums: running hashes of streamed bytes and fast hashes of whole files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from blake3 import blake3

VerifyMode = Literal["off", "on", "readback"]
"""off: no checks; on: blake3 end to end where the destination can be read cheaply (local) and the
provider's own checksums for uploads; readback: also read cloud destinations back and compare."""


def hash_bytes(data: bytes | memoryview) -> str:
    return blake3(data, max_threads=blake3.AUTO if len(data) > 1 << 20 else 1).hexdigest()


HASH_BUFFER = 16 * 1024 * 1024


def hash_file(path: Path | str) -> str:
    """blake3 of a whole file, read in 16 MiB pieces and hashed on all cores (several GB/s from cache).

    Not ``update_mmap``: every mapped page counts in the process's RSS, so a 2 GiB file would show as 2 GiB of
    memory in a task manager.
    """
    hasher = blake3(max_threads=blake3.AUTO)
    # Sized to the file: a fresh 16 MiB buffer per small file costs more than hashing it.
    buffer = bytearray(max(1, min(HASH_BUFFER, os.path.getsize(path))))
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while n := handle.readinto(buffer):
            hasher.update(view[:n])
    return hasher.hexdigest()


def hash_stream(chunks: Iterable[bytes]) -> str:
    hasher = blake3()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


class RunningHash:
    """Hashes chunks as they pass through a generator, counting them too."""

    def __init__(self) -> None:
        self._hasher = blake3()
        self.size = 0

    def through(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._hasher.update(chunk)
            self.size += len(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()
