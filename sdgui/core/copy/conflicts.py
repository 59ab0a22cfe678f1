"""What to do when a destination already exists: skip, overwrite, rename (``name (1).ext``) or fail."""

from __future__ import annotations

import threading
from typing import Literal

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend
from sdgui.core.python_slots import SLOTS

ConflictPolicy = Literal["skip", "overwrite", "rename", "fail"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("skip", "overwrite", "rename", "fail")


def numbered_name(key: str, n: int) -> str:
    """``dir/name.ext`` → ``dir/name (n).ext``; dot-files and names without a suffix get `` (n)`` at the end."""
    head, sep, name = key.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # ".bashrc" or "README"
        stem, dot, suffix = name, "", ""
    return f"{head}{sep}{stem} ({n}){dot}{suffix}"


class DestinationIndex:
    """Answers "does this destination key exist?" for one job.

    For an object store the first question under a directory lists it once (one request per thousand keys,
    not one HEAD per file); the names a job has claimed are remembered so two files never pick the same one.
    """

    def __init__(self, backend: VolumeBackend, *, remember_claims: bool = True) -> None:
        """Without ``remember_claims`` (one source, no renames: every target is distinct) the names written are
        not kept, so memory does not grow with the number of files."""
        self.backend = backend
        self.remember_claims = remember_claims
        self._lock = threading.Lock()
        self._listed: dict[str, set[str]] = {}
        self._claimed: set[str] = set()

    def _dir_keys(self, directory: str) -> set[str]:
        if directory not in self._listed:
            keys: set[str] = set()
            try:
                for page in self.backend.list(directory, recursive=False):
                    keys.update(entry.key for entry in page)
            except errors.NotFoundError:
                pass
            self._listed[directory] = keys
        return self._listed[directory]

    def exists(self, key: str) -> bool:
        if key in self._claimed:
            return True
        local = self.backend.local_path(key)
        if local is not None:
            return local.exists()
        return key in self._dir_keys(key.rpartition("/")[0])

    def needs_no_lookup(self, policy: ConflictPolicy) -> bool:
        """Whether ``resolve`` gives every key back as it is, asking nothing of the destination."""
        return policy == "overwrite" and not self.remember_claims

    def resolve(self, key: str, policy: ConflictPolicy, *, where: str) -> str | None:
        """The key to write, None to skip; ConflictError when the policy is ``fail``. Waits for the lock without
        the worker's Python slot: the thread holding the lock may be listing, and takes a slot when it returns."""
        if self.needs_no_lookup(policy):
            return key  # every target is distinct and replaced if there: nothing to look up
        with SLOTS.released(), self._lock:
            if not self.exists(key):
                if self.remember_claims:
                    self._claimed.add(key)
                return key
            if policy == "skip":
                return None
            if policy == "overwrite":
                return key
            if policy == "fail":
                raise errors.DestinationExistsError(
                    "the destination exists; choose --on-conflict skip, overwrite or rename", path=where
                )
            n = 1
            while self.exists(numbered_name(key, n)):
                n += 1
            chosen = numbered_name(key, n)
            self._claimed.add(chosen)
            return chosen
