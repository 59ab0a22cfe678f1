"""Hashing a download while it is written: a thread follows the file's contiguous front and hashes it in order.

Ranged GETs fill the temporary file out of order, and blake3 (like every check) needs the bytes in order. Rather
than reading the whole file back once it is complete, a thread reads back each stretch as soon as everything before
it is written (from the page cache, moments after the write) and hashes it, so the check overlaps the download and
only the last stretch is left when the last byte lands.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from sdgui.core.copy.checks import Digest, new_digest

log = logging.getLogger(__name__)

READ_SIZE = 4 * 1024 * 1024


class FollowingHasher:
    """Hashes ``path`` front to back with each of ``names`` as ``advance`` reports its contiguous front."""

    def __init__(self, path: str, names: Iterable[str], size: int, part_sizes: tuple[int, ...] = ()) -> None:
        self._path = path
        self._names = list(dict.fromkeys(names))
        self._size = size
        self._part_sizes = part_sizes
        self._changed = threading.Condition()
        self._work = threading.Lock()
        self._front = 0
        self._hashed = 0
        self._closed = False
        self._awaited = False
        """Set once ``result`` waits: only then does each hashed stretch need to say so."""
        self._failure: BaseException | None = None
        self._digests = self._new_digests()
        self._buffer = bytearray(min(READ_SIZE, max(1, size)))
        self._thread = threading.Thread(target=self._run, name="sdgui-hash", daemon=True)
        self._thread.start()

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def _new_digests(self) -> dict[str, Digest]:
        # One core: the download runs on the others, and one core hashes faster than a network delivers.
        return {name: new_digest(name, self._size, self._part_sizes, all_cores=False) for name in self._names}

    def advance(self, front: int) -> None:
        """The file's first ``front`` bytes are written."""
        with self._changed:
            if front > self._front:
                self._front = front
                self._changed.notify()

    def reset(self) -> None:
        """The file was emptied to be written again: start over."""
        with self._work, self._changed:
            self._digests = self._new_digests()
            self._front = self._hashed = 0

    def result(self) -> dict[str, str]:
        """Each digest of the whole file (all ``size`` bytes must be written); stops the thread."""
        self.advance(self._size)
        with self._changed:
            self._awaited = True
            while self._hashed < self._size and self._failure is None and self._thread.is_alive():
                self._changed.wait()
        self.close()
        if self._failure is not None:
            raise self._failure
        return {name: digest.hexdigest() for name, digest in self._digests.items()}

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError as exc:
            self._fail(exc)
            return
        view = memoryview(self._buffer)
        try:
            while True:
                with self._changed:
                    while self._hashed >= self._front and not self._closed:
                        self._changed.wait()
                    if self._closed:
                        return
                with self._work:
                    start = self._hashed
                    length = min(len(self._buffer), self._front - start)
                    n = os.preadv(fd, [view[:length]], start)
                    if n <= 0:
                        raise OSError(f"the file ended at {start} of {self._size} bytes while being hashed")
                    for digest in self._digests.values():
                        digest.update(view[:n])
                    with self._changed:
                        self._hashed = start + n
                        if self._awaited:
                            self._changed.notify_all()
        except BaseException as exc:
            self._fail(exc)
        finally:
            os.close(fd)

    def _fail(self, exc: BaseException) -> None:
        log.debug("hashing %s stopped: %s", self._path, exc)
        with self._changed:
            self._failure = exc
            self._changed.notify_all()
