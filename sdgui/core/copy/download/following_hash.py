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

from sdgui.core.copy.checks import COMPOSITE_SUFFIX, Digest, new_digest

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
        self._followers: dict[str, _Follower | _PartsFollower] = {}
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
                    follower: _Follower | _PartsFollower = (
                        _PartsFollower(self, name, part_sizes)
                        if name.endswith(COMPOSITE_SUFFIX) and part_sizes
                        else _Follower(self, name, part_sizes)
                    )
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

    def _all(self) -> list[_Follower | _PartsFollower]:
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
        self.threads = [threading.Thread(target=self._run, name=f"sdgui-hash-{name}", daemon=True)]

    def _new_digest(self) -> Digest:
        # One core each: the download runs on the others, and one core hashes faster than a network delivers.
        return new_digest(self.name, self.hasher._size, self.part_sizes, all_cores=False)

    def done(self, size: int, generation: int) -> bool:
        return self.generation == generation and self.hashed >= size

    def hexdigest(self) -> str:
        return self.digest.hexdigest()

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


class _PartsFollower:
    """A composite check's threads: each hashes its share of the parts (every PART_HASHERS-th) behind the front,
    and the check is the digest of the parts' digests, in order."""

    def __init__(self, hasher: FollowingHasher, name: str, part_sizes: tuple[int, ...]) -> None:
        self.hasher = hasher
        self.algorithm = name.removesuffix(COMPOSITE_SUFFIX)
        self.part_sizes = part_sizes
        self.offsets = [sum(part_sizes[:i]) for i in range(len(part_sizes))]
        self.fits = sum(part_sizes) == hasher._size
        """Parts that do not add up to the file can never match (and the front would never reach their end)."""
        workers = max(1, min(PART_HASHERS, len(part_sizes)))
        self.digests: list[bytes | None] = [None] * len(part_sizes)
        self.generations = [-1] * workers
        """The generation each thread's parts are hashed for (see FollowingHasher.reset)."""
        self.threads = [
            threading.Thread(target=self._run, args=(worker, workers), name=f"sdgui-hash-{name}", daemon=True)
            for worker in range(workers)
        ]

    def done(self, size: int, generation: int) -> bool:
        if not self.fits:
            return True
        return all(g == generation for g in self.generations) and all(d is not None for d in self.digests)

    def hexdigest(self) -> str:
        if not self.fits:
            return "short or long: the bytes do not fill the parts"
        combined = new_digest(self.algorithm)
        combined.update(b"".join(d or b"" for d in self.digests))
        return combined.hexdigest()

    def _run(self, worker: int, workers: int) -> None:
        hasher = self.hasher
        if not self.fits:
            return
        mine = range(worker, len(self.part_sizes), workers)
        try:
            fd = os.open(hasher._path, os.O_RDONLY)
        except OSError as exc:
            hasher._fail(exc)
            return
        buffer = bytearray(min(READ_SIZE, max(1, max(self.part_sizes))))
        view = memoryview(buffer)
        changed = hasher._changed
        generation, index, position, end, part = -1, 0, 0, 0, 0
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
                            part = mine[index]
                            if digest is None:
                                digest, position = new_digest(self.algorithm), self.offsets[part]
                            end = self.offsets[part] + self.part_sizes[part]
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
                    value = bytes.fromhex(digest.hexdigest())
                    with changed:
                        if generation == hasher._generation:
                            self.digests[part] = value
                            if hasher._awaited:
                                changed.notify_all()
                    index, digest = index + 1, None
        except BaseException as exc:
            hasher._fail(exc)
        finally:
            os.close(fd)
