"""Hashing a download while it is written: a thread follows the file's contiguous front and hashes it in order.

Ranged GETs fill the temporary file out of order, and blake3 (like every check) needs the bytes in order. Rather
than reading the whole file back once it is complete, a thread reads back each stretch as soon as everything before
it is written (from the page cache, moments after the write) and hashes it, so the check overlaps the download and
only the last stretch is left when the last byte lands. A check learnt while the download runs (the service's
checksums come with a second request, sent alongside the first ranges) joins late: it reads back what is already
hashed, then follows with the others.
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
        self._specs: dict[str, tuple[int, ...]] = dict.fromkeys(names, part_sizes)
        """Each digest's name, with its composite check's part sizes."""
        self._size = size
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
        return list(self._specs)

    def _new_digests(self, specs: dict[str, tuple[int, ...]] | None = None) -> dict[str, Digest]:
        # One core: the download runs on the others, and one core hashes faster than a network delivers.
        wanted = self._specs if specs is None else specs
        return {name: new_digest(name, self._size, parts, all_cores=False) for name, parts in wanted.items()}

    def add(self, names: Iterable[str], part_sizes: tuple[int, ...] = ()) -> None:
        """Compute ``names`` too (a composite check over ``part_sizes``): each catches up on the bytes already
        hashed, read back from the file, and then follows with the others. Nothing once the hasher is closed."""
        with self._work:
            specs = {name: part_sizes for name in names if name not in self._specs}
            if not specs or self._closed or self._failure is not None:
                return
            digests = self._new_digests(specs)
            try:
                self._catch_up(digests.values())
            except OSError as exc:  # left out: whoever asks for these reads the file again, and says what failed
                log.debug("hashing %s with %s stopped: %s", self._path, ", ".join(specs), exc)
                return
            self._specs.update(specs)
            self._digests.update(digests)

    def advance(self, front: int) -> None:
        """The file's first ``front`` bytes are written."""
        with self._changed:
            if front > self._front:
                self._front = front
                self._changed.notify()

    def _catch_up(self, digests: Iterable[Digest]) -> None:
        """Feed ``digests`` the bytes hashed so far (with ``_work`` held: the front does not move meanwhile)."""
        view = memoryview(self._buffer)
        with open(self._path, "rb", buffering=0) as handle:
            position = 0
            while position < self._hashed:
                n = handle.readinto(view[: min(len(view), self._hashed - position)])
                if not n:
                    raise OSError(f"the file ended at {position} of {self._hashed} bytes while being hashed")
                for digest in digests:
                    digest.update(view[:n])
                position += n

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
        with self._work:  # a late ``add`` either finished before or sees the hasher closed
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
