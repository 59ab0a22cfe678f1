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


def hash_file(path: Path | str) -> str:
    """blake3 of a whole file; memory-mapped and multi-threaded (about 10 GB/s here)."""
    hasher = blake3(max_threads=blake3.AUTO)
    if os.path.getsize(path) > 0:
        hasher.update_mmap(path)
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
