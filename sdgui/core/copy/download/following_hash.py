"""Hashing a download while it is written: threads follow the file's contiguous front and hash it in order.

Ranged GETs fill the temporary file out of order, and blake3 (like every check) needs the bytes in order. Rather
than reading the whole file back once it is complete, each check has a thread that reads back each stretch as soon
as everything before it is written (from the page cache, moments after the write) and hashes it, so the checks
overlap the download and only the last stretch is left when the last byte lands. One thread per check: an MD5 costs
five times a blake3 on one core (and cannot be spread), so blake3 and the service's check run side by side instead
of one after the other. A composite check (the digest of the parts' digests, as S3's multipart ETag is) is spread
over PART_HASHERS threads, a part each: it is often learnt late, and its parts can be hashed side by side. A check
learnt while the download runs (the service's checksums come with a second request, sent alongside the first ranges)
starts late: its threads read from the start and catch up with the others.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from sdgui.core.copy.checks import COMPOSITE_SUFFIX, PARTS_DO_NOT_FIT, Digest, digest_of_digests, new_digest

log = logging.getLogger(__name__)

READ_SIZE = 4 * 1024 * 1024
PART_HASHERS = min(4, os.cpu_count() or 1)
"""Threads that hash a composite check's parts side by side."""


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
                    for thread in follower.threads:
                        thread.start()

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
        return {name: follower.hexdigest() for name, follower in self._followers.items()}

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for follower in self._all():
            for thread in follower.threads:
                thread.join()

    def _all(self) -> list[_Follower]:
        return list(self._followers.values())

    def _fail(self, exc: BaseException) -> None:
        log.debug("hashing %s stopped: %s", self._path, exc)
        with self._changed:
            self._failure = exc
            self._changed.notify_all()


class _Follower:
    """One check's threads, each reading its share of the file behind the front into its own buffer and hashing it.

    A plain check is one stretch, the whole file, for one thread. A composite check is its parts, every
    PART_HASHERS-th for each thread, and its value the digest of the parts' digests, in order."""

    def __init__(self, hasher: FollowingHasher, name: str, part_sizes: tuple[int, ...]) -> None:
        self.hasher = hasher
        self.name = name
        self.composite = name.endswith(COMPOSITE_SUFFIX) and bool(part_sizes)
        self.stretches = part_sizes if self.composite else (hasher._size,)
        self.offsets = [sum(self.stretches[:i]) for i in range(len(self.stretches))]
        self.fits = sum(self.stretches) == hasher._size
        """Parts that do not add up to the file can never match (and the front would never reach their end)."""
        workers = min(PART_HASHERS, len(self.stretches)) if self.composite else 1
        self.digests: list[str | None] = [None] * len(self.stretches)
        self.generations = [-1] * workers
        """The generation each thread's stretches are hashed for (see FollowingHasher.reset)."""
        self.threads = [
            threading.Thread(target=self._run, args=(worker, workers), name=f"sdgui-hash-{name}", daemon=True)
            for worker in range(workers)
        ]

    def _new_digest(self) -> Digest:
        if self.composite:
            return new_digest(self.name.removesuffix(COMPOSITE_SUFFIX))
        # One core each: the download runs on the others, and one core hashes faster than a network delivers.
        return new_digest(self.name, self.hasher._size, all_cores=False)

    def done(self, size: int, generation: int) -> bool:
        if not self.fits:
            return True
        return all(g == generation for g in self.generations) and all(d is not None for d in self.digests)

    def hexdigest(self) -> str:
        if not self.fits:
            return PARTS_DO_NOT_FIT
        if not self.composite:
            return self.digests[0] or ""
        parts = b"".join(bytes.fromhex(d or "") for d in self.digests)
        return digest_of_digests(self.name.removesuffix(COMPOSITE_SUFFIX), parts)

    def _run(self, worker: int, workers: int) -> None:
        hasher = self.hasher
        if not self.fits:
            return
        mine = range(worker, len(self.stretches), workers)
        try:
            fd = os.open(hasher._path, os.O_RDONLY)
        except OSError as exc:
            hasher._fail(exc)
            return
        buffer = bytearray(min(READ_SIZE, max(1, *self.stretches)))
        view = memoryview(buffer)
        changed = hasher._changed
        generation, index, position, end, stretch = -1, 0, 0, 0, 0
        digest: Digest | None = None
        try:
            while True:
                with changed:
                    while True:
                        if hasher._closed:
                            return
                        if generation != hasher._generation:  # (re)start on the file's current bytes
                            generation = self.generations[worker] = hasher._generation
                            for i in mine:
                                self.digests[i] = None
                            index, digest = 0, None
                        if index < len(mine):
                            stretch = mine[index]
                            if digest is None:
                                digest, position = self._new_digest(), self.offsets[stretch]
                            end = self.offsets[stretch] + self.stretches[stretch]
                            if position < min(hasher._front, end) or position == end:
                                break
                        changed.wait()
                    start = position
                    length = min(len(buffer), min(hasher._front, end) - start)
                n = os.preadv(fd, [view[:length]], start) if length else 0
                with changed:
                    if generation != hasher._generation:
                        continue  # the file was emptied meanwhile: what was read is gone, start over
                if length and n <= 0:
                    raise OSError(f"the file ended at {start} of {hasher._size} bytes while being hashed")
                digest.update(view[:n])
                position = start + n
                if position == end:
                    value = digest.hexdigest()
                    with changed:
                        if generation == hasher._generation:
                            self.digests[stretch] = value
                            if hasher._awaited:
                                changed.notify_all()
                    index, digest = index + 1, None
        except BaseException as exc:
            hasher._fail(exc)
        finally:
            os.close(fd)
