"""Hashing a download while it is written: threads follow the file's contiguous front and hash it in order.

Ranged GETs fill the temporary file out of order, and blake3 (like every check) needs the bytes in order. Rather
than reading the whole file back once it is complete, each check has a thread that reads back each stretch as soon
as everything before it is written (from the page cache, moments after the write) and hashes it, so the checks
overlap the download and only the last stretch is left when the last byte lands. One thread per check: an MD5 costs
five times a blake3 on one core (and cannot be spread), so blake3 and the service's check run side by side instead
of one after the other. A check learnt while the download runs (the service's checksums come with a second request,
sent alongside the first ranges) starts late: its thread reads from the start and catches up with the others.
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
        self._size = size
        self._changed = threading.Condition()
        self._front = 0
        self._generation = 0
        """Counts ``reset``s: a follower that sees it change starts over."""
        self._closed = False
        self._awaited = False
        """Set once ``result`` waits: only then does each hashed stretch need to say so."""
        self._failure: BaseException | None = None
        self._followers: dict[str, _Follower] = {}
        self.add(names, part_sizes)

    @property
    def names(self) -> list[str]:
        return list(self._followers)

    def add(self, names: Iterable[str], part_sizes: tuple[int, ...] = ()) -> None:
        """Compute ``names`` too (a composite check over ``part_sizes``): each reads from the file's start and
        catches up with the others. Nothing once the hasher is closed."""
        with self._changed:
            if self._closed:
                return
            for name in names:
                if name not in self._followers:
                    follower = _Follower(self, name, part_sizes)
                    self._followers[name] = follower
                    follower.thread.start()

    def advance(self, front: int) -> None:
        """The file's first ``front`` bytes are written."""
        with self._changed:
            if front > self._front:
                self._front = front
                self._changed.notify_all()

    def reset(self) -> None:
        """The file was emptied to be written again: start over."""
        with self._changed:
            self._generation += 1
            self._front = 0
            self._changed.notify_all()

    def result(self) -> dict[str, str]:
        """Each digest of the whole file (all ``size`` bytes must be written); stops the threads."""
        self.advance(self._size)
        with self._changed:
            self._awaited = True
            while self._failure is None and not all(f.done(self._size, self._generation) for f in self._all()):
                self._changed.wait()
        self.close()
        if self._failure is not None:
            raise self._failure
        return {name: follower.digest.hexdigest() for name, follower in self._followers.items()}

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for follower in self._all():
            follower.thread.join()

    def _all(self) -> list[_Follower]:
        return list(self._followers.values())

    def _fail(self, exc: BaseException) -> None:
        log.debug("hashing %s stopped: %s", self._path, exc)
        with self._changed:
            self._failure = exc
            self._changed.notify_all()


class _Follower:
    """One check's thread: reads each stretch behind the front into its own buffer and hashes it."""

    def __init__(self, hasher: FollowingHasher, name: str, part_sizes: tuple[int, ...]) -> None:
        self.hasher = hasher
        self.name = name
        self.part_sizes = part_sizes
        self.generation = hasher._generation
        self.hashed = 0
        self.digest = self._new_digest()
        self.thread = threading.Thread(target=self._run, name=f"sdgui-hash-{name}", daemon=True)

    def _new_digest(self) -> Digest:
        # One core each: the download runs on the others, and one core hashes faster than a network delivers.
        return new_digest(self.name, self.hasher._size, self.part_sizes, all_cores=False)

    def done(self, size: int, generation: int) -> bool:
        return self.generation == generation and self.hashed >= size

    def _run(self) -> None:
        hasher = self.hasher
        try:
            fd = os.open(hasher._path, os.O_RDONLY)
        except OSError as exc:
            hasher._fail(exc)
            return
        buffer = bytearray(min(READ_SIZE, max(1, hasher._size)))
        view = memoryview(buffer)
        changed = hasher._changed
        try:
            while True:
                with changed:
                    while True:
                        if hasher._closed:
                            return
                        if self.generation != hasher._generation:
                            self.generation, self.hashed = hasher._generation, 0
                            self.digest = self._new_digest()
                        if self.hashed < hasher._front:
                            break
                        changed.wait()
                    start, generation = self.hashed, self.generation
                    length = min(len(buffer), hasher._front - start)
                n = os.preadv(fd, [view[:length]], start)
                with changed:
                    if generation != hasher._generation:
                        continue  # the file was emptied meanwhile: what was read is gone, start over
                if n <= 0:
                    raise OSError(f"the file ended at {start} of {hasher._size} bytes while being hashed")
                self.digest.update(view[:n])
                with changed:
                    if generation == hasher._generation:
                        self.hashed = start + n
                        if hasher._awaited:
                            changed.notify_all()
        except BaseException as exc:
            hasher._fail(exc)
        finally:
            os.close(fd)
