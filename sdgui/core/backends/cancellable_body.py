"""A request body that a cancel stops mid-send: what lets a part in flight end within one block of a cancel.

HTTP clients (urllib3 under botocore, http.client) send a file-like body by reading it block by block (8 to 16 KiB);
``bytes`` go out in one ``sendall`` that nothing can interrupt. Reading through this body checks the cancel before
each block, so a cancelled 5 MiB part stops at once instead of running to its end while the user waits; the
request fails with the CancelledError and its connection is closed, never reused half-sent.
"""

from __future__ import annotations

import io
from collections.abc import Callable


class CancellableBody(io.BytesIO):
    """``data`` as a seekable file (a retry rewinds it) whose every read first calls ``check``."""

    def __init__(self, data: bytes | memoryview, check: Callable[[], None]) -> None:
        super().__init__(data)
        self._check = check

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        return super().read(size)


def body_for(data: bytes | memoryview, check: Callable[[], None] | None) -> bytes | CancellableBody:
    """What to send: ``data`` itself when nothing can cancel it, else a body a cancel stops."""
    return bytes(data) if check is None else CancellableBody(data, check)
