"""Deleting files, objects and whole folders as one cancellable job that reports typed events (``sdgui rm``, F8).

A folder is deleted by its backend's ``delete_tree`` (local: files first, then the emptied directories bottom-up,
never following a symlink; object stores: object by object). Cancelling stops between objects: what was not
deleted yet stays whole.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.events import JobEvent
from sdgui.core.paths import SdPath

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""At most this often a DeleteProgress (one per object would flood a window and a terminal)."""


@dataclass(frozen=True)
class DeleteStarted(JobEvent):
    type: ClassVar[str] = "delete_started"
    targets: list[str] = field(default_factory=list)
    recursive: bool = False


@dataclass(frozen=True)
class DeleteProgress(JobEvent):
    type: ClassVar[str] = "delete_progress"
    deleted: int
    current: str


@dataclass(frozen=True)
class DeleteFinished(JobEvent):
    type: ClassVar[str] = "delete_finished"
    deleted: int
    elapsed_s: float


@dataclass(frozen=True)
class DeleteFailed(JobEvent):
    type: ClassVar[str] = "delete_failed"
    error: str
    message: str
    deleted: int = 0


@dataclass(frozen=True)
class DeleteCancelled(JobEvent):
    type: ClassVar[str] = "delete_cancelled"
    deleted: int = 0


DeleteEnd = DeleteFinished | DeleteFailed | DeleteCancelled


@dataclass(frozen=True)
class DeleteAction:
    """What to delete: ``targets`` (files, or folders when ``recursive``)."""

    targets: list[SdPath]
    recursive: bool = False

    def validate(self) -> None:
        """InvalidPathError for an empty list or a volume's root (deleting a whole bucket is not a gesture)."""
        if not self.targets:
            raise errors.InvalidPathError("nothing to delete")
        for target in self.targets:
            if target.volume is not None and not target.backend_key.strip("/"):
                raise errors.InvalidPathError("refusing to delete a whole volume", volume=target.volume, path="")
            if target.volume is None and target.path.rstrip("/") in ("", "/"):
                raise errors.InvalidPathError("refusing to delete the root directory", path=target.path)


class DeleteJob:
    """Runs one DeleteAction; ``run(sink)`` reports events and returns the last one; ``cancel()`` from any thread."""

    def __init__(self, action: DeleteAction, backends: BackendCache, *, job_id: str | None = None) -> None:
        self.action = action
        self.backends = backends
        self.job_id = job_id or uuid.uuid4().hex[:12]
        self.token = CancelToken()
        self.deleted = 0
        self._last_progress = 0.0

    def cancel(self) -> None:
        self.token.cancel()

    def run(self, sink: Callable[[JobEvent], None]) -> DeleteEnd:
        started = time.monotonic()
        sink(DeleteStarted(self.job_id, [str(t) for t in self.action.targets], self.action.recursive))
        final: DeleteEnd
        try:
            self.action.validate()
            for target in self.action.targets:
                self._delete(target, sink)
        except errors.CancelledError:
            final = DeleteCancelled(self.job_id, self.deleted)
        except errors.SdError as exc:
            final = DeleteFailed(self.job_id, exc.kind, str(exc), self.deleted)
        else:
            final = DeleteFinished(self.job_id, self.deleted, time.monotonic() - started)
        sink(final)
        return final

    def _delete(self, target: SdPath, sink: Callable[[JobEvent], None]) -> None:
        self.token.check()
        backend = self.backends.get(target.volume)
        key = target.backend_key
        if target.is_dir or backend.is_dir(key):
            if not self.action.recursive:
                raise errors.InvalidPathError("is a folder; delete it with its contents (-r)", path=str(target))

            def deleted(child: str) -> None:
                self.deleted += 1
                now = time.monotonic()
                if now - self._last_progress >= PROGRESS_EVERY_S:
                    self._last_progress = now
                    sink(DeleteProgress(self.job_id, self.deleted, child))

            backend.delete_tree(key, self.token, on_deleted=deleted)
        else:
            backend.stat(key)  # NotFoundError for a typo: `rm` of nothing must not look like success
            backend.delete(key)
            self.deleted += 1
        sink(DeleteProgress(self.job_id, self.deleted, str(target)))
