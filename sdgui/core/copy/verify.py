"""blake3 checksums: running hashes of streamed bytes and fast hashes of whole files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from blake3 import blake3

from sdgui.core.copy.checks import BLAKE3, RunningChecks, hash_all, hash_file_all

VerifyMode = Literal["off", "on", "readback"]
"""off: no checks; on: blake3 end to end where the destination can be read cheaply (local) and the
provider's own checksums for uploads; readback: also read cloud destinations back and compare."""


def hash_bytes(data: bytes | memoryview) -> str:
    return hash_all([data], [BLAKE3], len(data))[BLAKE3]


def hash_file(path: Path | str) -> str:
    """blake3 of a whole file, read in pieces of up to 16 MiB and hashed on all cores (several GB/s from cache).

    Not ``update_mmap``: every mapped page counts in the process's RSS, so a 2 GiB file would show as 2 GiB of
    memory in a task manager.
    """
    return hash_file_all(path, [BLAKE3])[BLAKE3]


def hash_stream(chunks: Iterable[bytes]) -> str:
    hasher = blake3()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


class RunningHash(RunningChecks):
    """The blake3 of chunks as they pass through a generator (on one thread: the chunks are small), counting them."""

    def __init__(self) -> None:
        super().__init__([BLAKE3], all_cores=False)

    def hexdigest(self) -> str:
        return self.results()[BLAKE3]
